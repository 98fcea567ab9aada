-- The party roster can be imported from a spreadsheet like the other
-- ledgers: uploads of kind 'party'. SQLite cannot change a CHECK in place, so
-- the (small, unreferenced) upload table is rebuilt; uploads waiting to be
-- confirmed are kept.
CREATE TABLE import_uploads_new (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('territory', 'residents', 'staff', 'party')),
    file_name  TEXT NOT NULL,
    content    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO import_uploads_new (id, user_id, kind, file_name, content, created_at)
    SELECT id, user_id, kind, file_name, content, created_at FROM import_uploads;
DROP TABLE import_uploads;
ALTER TABLE import_uploads_new RENAME TO import_uploads;
