-- Requests (诉求) tracked to the end. A request no longer needs a visit or a
-- household (a resident at the desk, a patrol's report about a stairwell, a
-- resident's own submission), so the table is rebuilt (SQLite cannot relax a
-- NOT NULL or a CHECK in place); its rows keep their ids.

-- Categories are data: an admin renames them and sets their deadlines, in
-- working days (see app::requests::deadline).
CREATE TABLE request_categories (
    code         TEXT PRIMARY KEY,
    label        TEXT NOT NULL UNIQUE,
    respond_days INTEGER NOT NULL CHECK (respond_days BETWEEN 0 AND 60),
    resolve_days INTEGER NOT NULL CHECK (resolve_days BETWEEN 0 AND 365),
    position     INTEGER NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO request_categories (code, label, respond_days, resolve_days, position) VALUES
    ('livelihood', '民生', 1, 7, 1),
    ('property', '物业', 1, 7, 2),
    ('safety', '安全', 1, 3, 3),
    ('environment', '环境', 1, 5, 4),
    ('party', '党建', 2, 10, 5),
    ('discipline', '纪检', 2, 15, 6),
    ('other', '其他', 1, 7, 7);

CREATE TABLE requests_new (
    id              TEXT PRIMARY KEY,
    source          TEXT NOT NULL CHECK (source IN ('visit', 'walk_in', 'phone', 'patrol', 'public')),
    community_id    TEXT NOT NULL REFERENCES communities (id),
    -- The grid whose phones carry it; none for a community-wide matter
    -- until it is assigned to a worker.
    grid_id         TEXT REFERENCES grids (id),
    household_id    TEXT REFERENCES households (id),
    building_id     TEXT REFERENCES buildings (id),
    visit_id        TEXT REFERENCES visits (id),
    -- A free address or public place (楼道、小区北门) when no household is named.
    place           TEXT NOT NULL DEFAULT '',
    -- Only to call the resident back; shown masked in lists.
    contact_phone   TEXT,
    category        TEXT NOT NULL REFERENCES request_categories (code),
    text            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
        ('received', 'assigned', 'in_progress', 'resolved', 'followed_up', 'closed', 'declined', 'merged')),
    -- 首问责任人: who took it, and stays on it whoever it is assigned to.
    first_contact   TEXT REFERENCES users (id),
    created_by      TEXT REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    respond_due     INTEGER NOT NULL,
    resolve_due     INTEGER NOT NULL,
    responded_at    INTEGER,
    assignee_id     TEXT REFERENCES users (id),
    assignee_unit   TEXT,
    resolved_at     INTEGER,
    resolution      TEXT,
    followed_up_at  INTEGER,
    closed_at       INTEGER,
    satisfaction    TEXT CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied')),
    reopen_count    INTEGER NOT NULL DEFAULT 0,
    merged_into     TEXT REFERENCES requests_new (id),
    decline_reason  TEXT,
    -- SHA-256 of the receipt code the resident holds; the code itself is
    -- never stored.
    receipt_hash    TEXT UNIQUE,
    -- A resident's own submission: SHA-256 of the address it came from, to
    -- limit submissions per address and day without keeping the address.
    submitter_key   TEXT,
    updated_at      INTEGER NOT NULL
);
-- Existing requests were all raised at the door and never worked: received,
-- with deadlines of one and seven calendar days (their working days were
-- never counted; close enough for rows that predate the workflow).
INSERT INTO requests_new (id, source, community_id, grid_id, household_id, building_id, visit_id, category, text,
                          status, first_contact, created_by, created_at, respond_due, resolve_due, updated_at)
    SELECT r.id, 'visit', g.community_id, g.id, r.household_id, h.building_id, r.visit_id,
           CASE REPLACE(r.category, '类', '')
               WHEN '民生' THEN 'livelihood' WHEN '物业' THEN 'property' WHEN '安全' THEN 'safety'
               WHEN '环境' THEN 'environment' WHEN '党建' THEN 'party' WHEN '纪检' THEN 'discipline'
               ELSE 'other' END,
           r.text,
           CASE r.status WHEN 'open' THEN 'received' ELSE r.status END,
           r.created_by, r.created_by, r.created_at, r.created_at + 86400000, r.created_at + 7 * 86400000,
           r.created_at
    FROM requests r JOIN households h ON h.id = r.household_id
         JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id;
DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;
CREATE INDEX requests_household ON requests (household_id, created_at);
CREATE INDEX requests_community ON requests (community_id, created_at);
CREATE INDEX requests_grid ON requests (grid_id, status);
CREATE INDEX requests_assignee ON requests (assignee_id, status);
CREATE INDEX requests_open_due ON requests (status, resolve_due);
CREATE INDEX requests_merged_into ON requests (merged_into);
CREATE INDEX requests_submitter ON requests (submitter_key, created_at);
CREATE INDEX requests_contact_phone ON requests (contact_phone, created_at);

-- The timeline: every action with who, when, and the state before and after.
CREATE TABLE request_events (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    at          INTEGER NOT NULL,
    -- None for a resident's own submission or rating.
    user_id     TEXT REFERENCES users (id),
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_events_request ON request_events (request_id, at);

CREATE TABLE request_photos (
    request_id TEXT NOT NULL REFERENCES requests (id),
    event_id   TEXT NOT NULL REFERENCES request_events (id),
    photo      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (event_id, position)
);
CREATE INDEX request_photos_photo ON request_photos (photo);
CREATE INDEX request_photos_request ON request_photos (request_id);

-- One-time rating codes a worker shows as a QR code; made on the phone,
-- registered with its next sync. Only the hash is kept.
CREATE TABLE rating_tokens (
    token_hash   TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    satisfaction TEXT CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied'))
);
CREATE INDEX rating_tokens_request ON rating_tokens (request_id);

-- Requests travel to the phones of their grid through the change feed: the
-- feed's entity list grows by one. Rebuilt for the CHECK, as above; `seq`
-- is always given by the writer (from change_counter, migration 0007), so the
-- new table needs no AUTOINCREMENT.
CREATE TABLE changes_new (
    seq       INTEGER PRIMARY KEY,
    entity    TEXT NOT NULL CHECK (entity IN ('building', 'household', 'resident', 'visit', 'request')),
    entity_id TEXT NOT NULL,
    grid_id   TEXT NOT NULL REFERENCES grids (id),
    at        INTEGER NOT NULL
);
INSERT INTO changes_new (seq, entity, entity_id, grid_id, at) SELECT seq, entity, entity_id, grid_id, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
CREATE INDEX changes_grid ON changes (grid_id, seq);

-- The push log names the new kinds of operation.
CREATE TABLE applied_ops_new (
    op_id      TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident',
                                             'raise_request', 'request_action', 'rating_token')),
    status     TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    reason     TEXT,
    applied_at INTEGER NOT NULL
);
INSERT INTO applied_ops_new (op_id, user_id, device_id, kind, status, reason, applied_at)
    SELECT op_id, user_id, device_id, kind, status, reason, applied_at FROM applied_ops;
DROP TABLE applied_ops;
ALTER TABLE applied_ops_new RENAME TO applied_ops;
CREATE INDEX applied_ops_user ON applied_ops (user_id, applied_at);
