-- A photo is bound to the first record that named it (a resident, a visit or
-- a request): who may see it, and which other records may name it, follow
-- from that record's grid (now: a resident who moves takes its photos along).
-- Without the binding, a hash named before its upload could be named from
-- another grid too, and the upload would show it there.
CREATE TABLE photo_bindings (
    hash        TEXT COLLATE "C" PRIMARY KEY CHECK (length(hash) = 64),
    record_kind TEXT COLLATE "C" NOT NULL CHECK (record_kind IN ('resident', 'visit', 'request')),
    record_id   TEXT COLLATE "C" NOT NULL,
    bound_at    BIGINT NOT NULL
);
-- Photos named before this migration: bound to the earliest record naming them.
INSERT INTO photo_bindings (hash, record_kind, record_id, bound_at)
SELECT photo, kind, id, at FROM (
    SELECT photo, kind, id, at, ROW_NUMBER() OVER (PARTITION BY photo ORDER BY at, kind, id) AS n
    FROM (
        SELECT photo, 'resident' AS kind, resident_id AS id, taken_at AS at FROM resident_photos
        UNION ALL
        SELECT vp.photo, 'visit', vp.visit_id, v.created_at
        FROM visit_photos vp JOIN visits v ON v.id = vp.visit_id
        UNION ALL
        SELECT rp.photo, 'request', rp.request_id, e.at
        FROM request_photos rp JOIN request_events e ON e.id = rp.event_id
    ) AS named
) AS ranked
WHERE n = 1;

-- When a photo was last uploaded (a re-upload of a stored photo counts): the
-- sweep of photos no record names leaves younger ones alone, since their
-- record may still wait in a phone's outbox.
ALTER TABLE photos ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE photos SET seen_at = uploaded_at;

-- The sweep asks whether any notice still lists a file.
CREATE INDEX notice_attachments_hash ON notice_attachments (hash);

-- Each sweep of unnamed photos and files: when, and what it removed. The
-- newest row also tells every instance whether the next one is due.
CREATE TABLE sweeps (
    id             TEXT COLLATE "C" PRIMARY KEY,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT NOT NULL,
    photos_removed BIGINT NOT NULL,
    files_removed  BIGINT NOT NULL,
    -- 'schedule' (the server) or 'command' (`server sweep`).
    source         TEXT COLLATE "C" NOT NULL CHECK (source IN ('schedule', 'command'))
);
CREATE INDEX sweeps_started ON sweeps (started_at);
