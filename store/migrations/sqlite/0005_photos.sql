-- Photos. An uploaded photo is stored once, under the SHA-256 of the bytes the
-- phone sent (the phone knows the key before it uploads, so a record can name a
-- photo that has not arrived yet). The stored object is the server's own
-- re-encoding: no metadata of the original survives.
CREATE TABLE photos (
    hash        TEXT PRIMARY KEY CHECK (length(hash) = 64),
    bytes       INTEGER NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    thumb_bytes INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at INTEGER NOT NULL
);

-- A resident's current profile photo (a field like any other, edited through
-- the sync protocol) and every photo ever set, so a replaced one stays on file.
ALTER TABLE residents ADD COLUMN photo TEXT;

CREATE TABLE resident_photos (
    resident_id TEXT NOT NULL REFERENCES residents (id),
    photo       TEXT NOT NULL,
    set_by      TEXT NOT NULL REFERENCES users (id),
    taken_at    INTEGER NOT NULL,
    op_id       TEXT NOT NULL,
    PRIMARY KEY (resident_id, op_id)
);
CREATE INDEX resident_photos_photo ON resident_photos (photo);

-- Photos attached to a visit (a broken door, a hazard), in the order taken.
CREATE TABLE visit_photos (
    visit_id TEXT NOT NULL REFERENCES visits (id),
    photo    TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (visit_id, photo)
);
CREATE INDEX visit_photos_photo ON visit_photos (photo);
