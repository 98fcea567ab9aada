-- Gridwalk schema, first cut.
--
-- Portable SQL on purpose (SQLite now, PostgreSQL later through the same queries):
-- * ids are TEXT UUIDv7 made by whoever creates the record (the phone, offline,
--   or the demo generator), so a record never changes id when it syncs;
-- * times are INTEGER epoch milliseconds (UTC), dates of birth TEXT 'YYYY-MM-DD';
-- * booleans are INTEGER 0/1; enumerations are TEXT with a CHECK, so a bad value is
--   refused by the database as well as by the Rust types.

-- The administrative chain: street office -> community -> grid -> building.
CREATE TABLE streets (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE communities (
    id        TEXT PRIMARY KEY,
    street_id TEXT NOT NULL REFERENCES streets (id),
    name      TEXT NOT NULL
);

CREATE TABLE grids (
    id           TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities (id),
    name         TEXT NOT NULL
);
CREATE INDEX grids_community ON grids (community_id);

-- A building knows its shape (a GeoJSON Polygon in WGS84, drawn as SVG by the map
-- views, so no tile server is needed) and its layout: the floors x units matrix
-- the worker walks. `number` is the 楼号 people say aloud ("3号楼").
CREATE TABLE buildings (
    id               TEXT PRIMARY KEY,
    grid_id          TEXT NOT NULL REFERENCES grids (id),
    number           INTEGER NOT NULL,
    name             TEXT NOT NULL,
    address          TEXT NOT NULL,
    units            INTEGER NOT NULL CHECK (units BETWEEN 1 AND 20),
    floors           INTEGER NOT NULL CHECK (floors BETWEEN 1 AND 120),
    doors_per_floor  INTEGER NOT NULL CHECK (doors_per_floor BETWEEN 1 AND 20),
    footprint        TEXT NOT NULL
);
CREATE INDEX buildings_grid ON buildings (grid_id, number);

-- A household is a door. Missing and old door numbers are a real problem in the
-- field, so the door number is free text next to the unit/floor position.
CREATE TABLE households (
    id          TEXT PRIMARY KEY,
    building_id TEXT NOT NULL REFERENCES buildings (id),
    unit        INTEGER NOT NULL CHECK (unit >= 1),
    floor       INTEGER NOT NULL,
    door_number TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (building_id, unit, door_number)
);
CREATE INDEX households_door ON households (door_number);

-- A resident. The ID-card number is kept whole (it identifies people across
-- moves) but never leaves the server unmasked. Phone and ID number are optional:
-- collect the minimum (PIPL), a visit must not fail because a tenant will not say.
CREATE TABLE residents (
    id                TEXT PRIMARY KEY,
    household_id      TEXT NOT NULL REFERENCES households (id),
    name              TEXT NOT NULL,
    gender            TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    birth_date        TEXT NOT NULL,
    id_number         TEXT,
    phone             TEXT,
    registration_type TEXT NOT NULL
        CHECK (registration_type IN ('registered', 'permanent', 'floating', 'tenant')),
    moved_out         INTEGER NOT NULL DEFAULT 0 CHECK (moved_out IN (0, 1)),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX residents_household ON residents (household_id);

-- Key-group tags (重点人群) as rows, not a list in a column: coverage queries
-- ("overdue elderly living alone") filter and join on them.
CREATE TABLE resident_tags (
    resident_id TEXT NOT NULL REFERENCES residents (id),
    tag         TEXT NOT NULL CHECK (tag IN (
        'elderly_alone', 'empty_nest', 'disabled', 'severe_illness', 'low_income',
        'wubao', 'hardship', 'military_family', 'retired_cadre', 'left_behind_child')),
    PRIMARY KEY (resident_id, tag)
);
CREATE INDEX resident_tags_tag ON resident_tags (tag);

-- Users. A lead is bound to one community, a worker to grids (user_grids); an
-- admin sees everything. Scope is always derived from these rows on the server.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'worker')),
    community_id  TEXT REFERENCES communities (id),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);

CREATE TABLE user_grids (
    user_id TEXT NOT NULL REFERENCES users (id),
    grid_id TEXT NOT NULL REFERENCES grids (id),
    PRIMARY KEY (user_id, grid_id)
);
CREATE INDEX user_grids_grid ON user_grids (grid_id);

-- Sessions: only the SHA-256 of the cookie token is stored, so a copy of the
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Visits are append-only: a visit is a fact that happened, never edited, so two
-- phones can never conflict over one. Corrections are new visits.
CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    worker_id    TEXT NOT NULL REFERENCES users (id),
    visited_at   INTEGER NOT NULL,
    visit_type   TEXT NOT NULL
        CHECK (visit_type IN ('routine', 'key_care', 'four_doors', 'follow_up')),
    outcome      TEXT NOT NULL
        CHECK (outcome IN ('met', 'nobody_home', 'refused', 'moved_out')),
    notes        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_at);
CREATE INDEX visits_worker ON visits (worker_id, visited_at);

-- Who read or changed which resident data, when (PIPL). Written by the server on
-- every read of resident details and every change; never updated or deleted.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    action      TEXT NOT NULL CHECK (action IN ('read', 'create', 'update', 'denied')),
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    route       TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
