-- Images and PDF files attached to a notice, in the order added. The file is
-- stored once under the SHA-256 of the stored bytes (an image: the server's
-- re-encoding); the public may fetch it only while the notice is public.
CREATE TABLE notice_attachments (
    notice_id TEXT NOT NULL REFERENCES notices (id),
    hash      TEXT NOT NULL CHECK (length(hash) = 64),
    kind      TEXT NOT NULL CHECK (kind IN ('image', 'pdf')),
    name      TEXT NOT NULL,
    bytes     INTEGER NOT NULL,
    added_by  TEXT NOT NULL REFERENCES users (id),
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (notice_id, hash)
);
