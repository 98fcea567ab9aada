-- Gridwalk schema on PostgreSQL: the same tables as the SQLite migrations
-- 0001-0007 (read those for what each table means), in PostgreSQL's types.
--
-- * ids are TEXT UUIDv7 made by whoever creates the record;
-- * times are BIGINT epoch milliseconds (INTEGER would be 32-bit here);
-- * booleans are BOOLEAN (SQLite stores them as 0/1; the queries write
--   TRUE/FALSE and NOT x, which both engines read the same way);
-- * every text column is COLLATE "C": ORDER BY gives the same byte order as
--   SQLite, whatever locale the cluster was made with, and btree indexes on
--   ids stay cheap;
-- * enumerations are TEXT with a CHECK, as on SQLite.

-- The administrative chain: street office -> community -> grid -> building.
CREATE TABLE streets (
    id   TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL
);

CREATE TABLE communities (
    id        TEXT COLLATE "C" PRIMARY KEY,
    street_id TEXT COLLATE "C" NOT NULL REFERENCES streets (id),
    name      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE grids (
    id           TEXT COLLATE "C" PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    name         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX grids_community ON grids (community_id);

-- A building knows its shape (a GeoJSON Polygon in WGS84, drawn as SVG by the map
-- views, so no tile server is needed) and its layout: the floors x units matrix
-- the worker walks. `number` is the 楼号 people say aloud ("3号楼").
CREATE TABLE buildings (
    id               TEXT COLLATE "C" PRIMARY KEY,
    grid_id          TEXT COLLATE "C" NOT NULL REFERENCES grids (id),
    number           BIGINT NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    address          TEXT COLLATE "C" NOT NULL,
    units            BIGINT NOT NULL CHECK (units BETWEEN 1 AND 20),
    floors           BIGINT NOT NULL CHECK (floors BETWEEN 1 AND 120),
    doors_per_floor  BIGINT NOT NULL CHECK (doors_per_floor BETWEEN 1 AND 20),
    footprint        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX buildings_grid ON buildings (grid_id, number);

-- A household is a door. Missing and old door numbers are a real problem in the
-- field, so the door number is free text next to the unit/floor position.
CREATE TABLE households (
    id          TEXT COLLATE "C" PRIMARY KEY,
    building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
    unit        BIGINT NOT NULL CHECK (unit >= 1),
    floor       BIGINT NOT NULL,
    door_number TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (building_id, unit, door_number)
);
CREATE INDEX households_door ON households (door_number);

-- A resident. The ID-card number is kept whole (it identifies people across
-- moves) but never leaves the server unmasked. Phone and ID number are optional:
-- collect the minimum (PIPL), a visit must not fail because a tenant will not say.
CREATE TABLE residents (
    id                TEXT COLLATE "C" PRIMARY KEY,
    household_id      TEXT COLLATE "C" NOT NULL REFERENCES households (id),
    name              TEXT COLLATE "C" NOT NULL,
    gender            TEXT COLLATE "C" NOT NULL CHECK (gender IN ('male', 'female')),
    birth_date        TEXT COLLATE "C" NOT NULL,
    id_number         TEXT COLLATE "C",
    phone             TEXT COLLATE "C",
    registration_type TEXT COLLATE "C" NOT NULL
        CHECK (registration_type IN ('registered', 'permanent', 'floating', 'tenant')),
    moved_out         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX residents_household ON residents (household_id);

-- Key-group tags (重点人群) as rows, not a list in a column: coverage queries
-- ("overdue elderly living alone") filter and join on them.
CREATE TABLE resident_tags (
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id),
    tag         TEXT COLLATE "C" NOT NULL CHECK (tag IN (
        'elderly_alone', 'empty_nest', 'disabled', 'severe_illness', 'low_income',
        'wubao', 'hardship', 'military_family', 'retired_cadre', 'left_behind_child')),
    PRIMARY KEY (resident_id, tag)
);
CREATE INDEX resident_tags_tag ON resident_tags (tag);

-- Users. A lead is bound to one community, a worker to grids (user_grids); an
-- admin sees everything. Scope is always derived from these rows on the server.
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT COLLATE "C" NOT NULL,
    role          TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'lead', 'worker')),
    community_id  TEXT COLLATE "C" REFERENCES communities (id),
    password_hash TEXT COLLATE "C" NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_grids (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    grid_id TEXT COLLATE "C" NOT NULL REFERENCES grids (id),
    PRIMARY KEY (user_id, grid_id)
);
CREATE INDEX user_grids_grid ON user_grids (grid_id);

-- Sessions: only the SHA-256 of the cookie token is stored, so a copy of the
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Visits are append-only: a visit is a fact that happened, never edited, so two
-- phones can never conflict over one. Corrections are new visits.
CREATE TABLE visits (
    id           TEXT COLLATE "C" PRIMARY KEY,
    household_id TEXT COLLATE "C" NOT NULL REFERENCES households (id),
    worker_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    visited_at   BIGINT NOT NULL,
    visit_type   TEXT COLLATE "C" NOT NULL
        CHECK (visit_type IN ('routine', 'key_care', 'four_doors', 'follow_up')),
    outcome      TEXT COLLATE "C" NOT NULL
        CHECK (outcome IN ('met', 'nobody_home', 'refused', 'moved_out')),
    notes        TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_at);
CREATE INDEX visits_worker ON visits (worker_id, visited_at);

-- Who read or changed which resident data, when (PIPL). Written by the server on
-- every read of resident details and every change; never updated or deleted.
CREATE TABLE audit_log (
    id          TEXT COLLATE "C" PRIMARY KEY,
    at          BIGINT NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    action      TEXT COLLATE "C" NOT NULL CHECK (action IN ('read', 'create', 'update', 'denied')),
    entity      TEXT COLLATE "C" NOT NULL,
    entity_id   TEXT COLLATE "C" NOT NULL,
    route       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- ===== from 0002_sync.sql =====
-- Offline-first sync: the push log, the pull sequence, field clocks for
-- conflicting edits, and the records a visit brings with it.

-- Every operation a device pushed, with the result it got, rejections included:
-- a retry (cut connection, duplicate request, crash mid-batch) finds its op id
-- here and gets the same answer without applying anything again. The row is
-- written in the same transaction as the op's effects, so both exist or neither.
CREATE TABLE applied_ops (
    op_id      TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    device_id  TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident')),
    status     TEXT COLLATE "C" NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    reason     TEXT COLLATE "C",
    applied_at BIGINT NOT NULL
);
CREATE INDEX applied_ops_user ON applied_ops (user_id, applied_at);

-- The change sequence devices pull from: one row per write, numbered in commit
-- order from change_counter at the end of each transaction (store::Tx::commit:
-- an identity column could hand out a number that commits after a larger one,
-- and a phone would skip it).
-- grid_id is denormalised on purpose: pull filters by the caller's grids with
-- the (grid_id, seq) index and never walks households to find a grid.
CREATE TABLE changes (
    seq       BIGINT PRIMARY KEY,
    entity    TEXT COLLATE "C" NOT NULL CHECK (entity IN ('building', 'household', 'resident', 'visit')),
    entity_id TEXT COLLATE "C" NOT NULL,
    grid_id   TEXT COLLATE "C" NOT NULL REFERENCES grids (id),
    at        BIGINT NOT NULL
);
CREATE INDEX changes_grid ON changes (grid_id, seq);

-- Per resident field: the (device time, op id) of the edit that set the current
-- value. Last writer wins by this pair, compared as a tuple, so the outcome does
-- not depend on the order pushes reach the server. A missing row is (0, '').
CREATE TABLE resident_field_clock (
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id),
    field       TEXT COLLATE "C" NOT NULL,
    updated_at  BIGINT NOT NULL,
    op_id       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resident_id, field)
);

-- Values that lost a conflict are kept, never dropped, for a lead to review.
-- winner = 'incoming': the pushed value won; old_value is the overwritten one.
-- winner = 'server':   the stored value stayed; new_value is the pushed one.
CREATE TABLE resident_history (
    id          TEXT COLLATE "C" PRIMARY KEY,
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id),
    field       TEXT COLLATE "C" NOT NULL,
    old_value   TEXT COLLATE "C",
    new_value   TEXT COLLATE "C",
    winner      TEXT COLLATE "C" NOT NULL CHECK (winner IN ('incoming', 'server')),
    op_id       TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    at          BIGINT NOT NULL
);
CREATE INDEX resident_history_resident ON resident_history (resident_id, at);

-- Requests (诉求) raised at the door: records of their own, so a request
-- workflow (assign, follow up, close) can grow without touching visits.
CREATE TABLE requests (
    id           TEXT COLLATE "C" PRIMARY KEY,
    visit_id     TEXT COLLATE "C" NOT NULL REFERENCES visits (id),
    household_id TEXT COLLATE "C" NOT NULL REFERENCES households (id),
    category     TEXT COLLATE "C" NOT NULL,
    text         TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed')),
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX requests_household ON requests (household_id, created_at);
CREATE INDEX requests_status ON requests (status, created_at);

-- Who the worker met at the door, and what concerns were noted: rows, not lists
-- in a column, so coverage queries can join on them.
CREATE TABLE visit_residents (
    visit_id    TEXT COLLATE "C" NOT NULL REFERENCES visits (id),
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id),
    PRIMARY KEY (visit_id, resident_id)
);
CREATE INDEX visit_residents_resident ON visit_residents (resident_id);

CREATE TABLE visit_concerns (
    visit_id TEXT COLLATE "C" NOT NULL REFERENCES visits (id),
    concern  TEXT COLLATE "C" NOT NULL
        CHECK (concern IN ('health', 'safety', 'hardship', 'housing', 'dispute', 'other')),
    PRIMARY KEY (visit_id, concern)
);

-- ===== from 0003_notices.sql =====
-- Public notices (党务公开 / 居务公开 …): written by a community's lead, read by
-- residents without an account. Only `published` rows are ever shown publicly;
-- drafts and withdrawn notices answer 404 on the public routes.
CREATE TABLE notices (
    id           TEXT COLLATE "C" PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    category     TEXT COLLATE "C" NOT NULL CHECK (category IN ('party', 'affairs', 'finance', 'guide', 'event')),
    title        TEXT COLLATE "C" NOT NULL,
    -- The source as written: a safe Markdown subset, rendered (and sanitised)
    -- when shown, so a fix to the renderer applies to old notices too.
    body         TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'withdrawn')),
    pinned       BOOLEAN NOT NULL DEFAULT FALSE,
    published_at BIGINT,
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX notices_public ON notices (community_id, status, pinned, published_at);

-- Every saved version and every status change, for the edit history.
CREATE TABLE notice_revisions (
    id        TEXT COLLATE "C" PRIMARY KEY,
    notice_id TEXT COLLATE "C" NOT NULL REFERENCES notices (id),
    action    TEXT COLLATE "C" NOT NULL CHECK (action IN ('create', 'edit', 'publish', 'withdraw', 'pin', 'unpin')),
    title     TEXT COLLATE "C" NOT NULL,
    body      TEXT COLLATE "C" NOT NULL,
    category  TEXT COLLATE "C" NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    at        BIGINT NOT NULL
);
CREATE INDEX notice_revisions_notice ON notice_revisions (notice_id, at);

-- ===== from 0004_visit_policies.sql =====
-- Visit cadences (走访频次) as data, editable by an admin: one row per key-group
-- tag, and 'default' for every household. A household is due `cadence_days`
-- after its last visit, by the strictest (smallest) cadence among the tags of
-- the residents living there, else the default. Typical rules: elderly living
-- alone weekly, key groups monthly, everyone else quarterly.
CREATE TABLE visit_policies (
    tag          TEXT COLLATE "C" PRIMARY KEY,
    cadence_days BIGINT NOT NULL CHECK (cadence_days BETWEEN 1 AND 366),
    updated_at   BIGINT NOT NULL
);
INSERT INTO visit_policies (tag, cadence_days, updated_at) VALUES
    ('default', 90, 0),
    ('elderly_alone', 7, 0),
    ('empty_nest', 30, 0),
    ('disabled', 30, 0),
    ('severe_illness', 14, 0),
    ('low_income', 30, 0),
    ('wubao', 30, 0),
    ('hardship', 30, 0),
    ('military_family', 30, 0),
    ('retired_cadre', 30, 0),
    ('left_behind_child', 30, 0);

-- ===== from 0005_photos.sql =====
-- Photos. An uploaded photo is stored once, under the SHA-256 of the bytes the
-- phone sent (the phone knows the key before it uploads, so a record can name a
-- photo that has not arrived yet). The stored object is the server's own
-- re-encoding: no metadata of the original survives.
CREATE TABLE photos (
    hash        TEXT COLLATE "C" PRIMARY KEY CHECK (length(hash) = 64),
    bytes       BIGINT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    thumb_bytes BIGINT NOT NULL,
    uploaded_by TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    uploaded_at BIGINT NOT NULL
);

-- A resident's current profile photo (a field like any other, edited through
-- the sync protocol) and every photo ever set, so a replaced one stays on file.
ALTER TABLE residents ADD COLUMN photo TEXT COLLATE "C";

CREATE TABLE resident_photos (
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id),
    photo       TEXT COLLATE "C" NOT NULL,
    set_by      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    taken_at    BIGINT NOT NULL,
    op_id       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resident_id, op_id)
);
CREATE INDEX resident_photos_photo ON resident_photos (photo);

-- Photos attached to a visit (a broken door, a hazard), in the order taken.
CREATE TABLE visit_photos (
    visit_id TEXT COLLATE "C" NOT NULL REFERENCES visits (id),
    photo    TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (visit_id, photo)
);
CREATE INDEX visit_photos_photo ON visit_photos (photo);

-- ===== from 0006_notice_attachments.sql =====
-- Images and PDF files attached to a notice, in the order added. The file is
-- stored once under the SHA-256 of the stored bytes (an image: the server's
-- re-encoding); the public may fetch it only while the notice is public.
CREATE TABLE notice_attachments (
    notice_id TEXT COLLATE "C" NOT NULL REFERENCES notices (id),
    hash      TEXT COLLATE "C" NOT NULL CHECK (length(hash) = 64),
    kind      TEXT COLLATE "C" NOT NULL CHECK (kind IN ('image', 'pdf')),
    name      TEXT COLLATE "C" NOT NULL,
    bytes     BIGINT NOT NULL,
    added_by  TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (notice_id, hash)
);

-- ===== from 0007_change_counter.sql =====
CREATE TABLE change_counter (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

CREATE INDEX sessions_expires ON sessions (expires_at);
