-- The daily photo quota counts a user's recent uploads.
CREATE INDEX photos_uploader ON photos (uploaded_by, uploaded_at);
