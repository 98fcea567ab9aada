-- Offline-first sync: the push log, the pull sequence, field clocks for
-- conflicting edits, and the records a visit brings with it.

-- Every operation a device pushed, with the result it got, rejections included:
-- a retry (cut connection, duplicate request, crash mid-batch) finds its op id
-- here and gets the same answer without applying anything again. The row is
-- written in the same transaction as the op's effects, so both exist or neither.
CREATE TABLE applied_ops (
    op_id      TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident')),
    status     TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    reason     TEXT,
    applied_at INTEGER NOT NULL
);
CREATE INDEX applied_ops_user ON applied_ops (user_id, applied_at);

-- The change sequence devices pull from: one row per write, numbered in commit
-- order (SQLite has one writer at a time, so a smaller seq never commits after
-- a larger one is visible). PostgreSQL would use BIGSERIAL / GENERATED ALWAYS AS
-- IDENTITY, and must then guard against gaps from concurrent commits (e.g. pull
-- only below the oldest in-flight transaction's seq).
-- grid_id is denormalised on purpose: pull filters by the caller's grids with
-- the (grid_id, seq) index and never walks households to find a grid.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL CHECK (entity IN ('building', 'household', 'resident', 'visit')),
    entity_id TEXT NOT NULL,
    grid_id   TEXT NOT NULL REFERENCES grids (id),
    at        INTEGER NOT NULL
);
CREATE INDEX changes_grid ON changes (grid_id, seq);

-- Per resident field: the (device time, op id) of the edit that set the current
-- value. Last writer wins by this pair, compared as a tuple, so the outcome does
-- not depend on the order pushes reach the server. A missing row is (0, '').
CREATE TABLE resident_field_clock (
    resident_id TEXT NOT NULL REFERENCES residents (id),
    field       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    op_id       TEXT NOT NULL,
    PRIMARY KEY (resident_id, field)
);

-- Values that lost a conflict are kept, never dropped, for a lead to review.
-- winner = 'incoming': the pushed value won; old_value is the overwritten one.
-- winner = 'server':   the stored value stayed; new_value is the pushed one.
CREATE TABLE resident_history (
    id          TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (id),
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    winner      TEXT NOT NULL CHECK (winner IN ('incoming', 'server')),
    op_id       TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    at          INTEGER NOT NULL
);
CREATE INDEX resident_history_resident ON resident_history (resident_id, at);

-- Requests (诉求) raised at the door: records of their own, so a request
-- workflow (assign, follow up, close) can grow without touching visits.
CREATE TABLE requests (
    id           TEXT PRIMARY KEY,
    visit_id     TEXT NOT NULL REFERENCES visits (id),
    household_id TEXT NOT NULL REFERENCES households (id),
    category     TEXT NOT NULL,
    text         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed')),
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX requests_household ON requests (household_id, created_at);
CREATE INDEX requests_status ON requests (status, created_at);

-- Who the worker met at the door, and what concerns were noted: rows, not lists
-- in a column, so coverage queries can join on them.
CREATE TABLE visit_residents (
    visit_id    TEXT NOT NULL REFERENCES visits (id),
    resident_id TEXT NOT NULL REFERENCES residents (id),
    PRIMARY KEY (visit_id, resident_id)
);
CREATE INDEX visit_residents_resident ON visit_residents (resident_id);

CREATE TABLE visit_concerns (
    visit_id TEXT NOT NULL REFERENCES visits (id),
    concern  TEXT NOT NULL
        CHECK (concern IN ('health', 'safety', 'hardship', 'housing', 'dispute', 'other')),
    PRIMARY KEY (visit_id, concern)
);
