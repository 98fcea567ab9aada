-- Requests (诉求) tracked to the end. A request no longer needs a visit or a
-- household (a resident at the desk, a patrol's report about a stairwell, a
-- resident's own submission), so the table is rebuilt as on SQLite (see
-- sqlite/0011_requests.sql); its rows keep their ids.

-- Categories are data: an admin renames them and sets their deadlines, in
-- working days (see app::requests::deadline).
CREATE TABLE request_categories (
    code         TEXT COLLATE "C" PRIMARY KEY,
    label        TEXT COLLATE "C" NOT NULL UNIQUE,
    respond_days BIGINT NOT NULL CHECK (respond_days BETWEEN 0 AND 60),
    resolve_days BIGINT NOT NULL CHECK (resolve_days BETWEEN 0 AND 365),
    position     BIGINT NOT NULL,
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
    id              TEXT COLLATE "C" PRIMARY KEY,
    source          TEXT COLLATE "C" NOT NULL CHECK (source IN ('visit', 'walk_in', 'phone', 'patrol', 'public')),
    community_id    TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    -- The grid whose phones carry it; none for a community-wide matter
    -- until it is assigned to a worker.
    grid_id         TEXT COLLATE "C" REFERENCES grids (id),
    household_id    TEXT COLLATE "C" REFERENCES households (id),
    building_id     TEXT COLLATE "C" REFERENCES buildings (id),
    visit_id        TEXT COLLATE "C" REFERENCES visits (id),
    -- A free address or public place (楼道、小区北门) when no household is named.
    place           TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- Only to call the resident back; shown masked in lists.
    contact_phone   TEXT COLLATE "C",
    category        TEXT COLLATE "C" NOT NULL REFERENCES request_categories (code),
    text            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN
        ('received', 'assigned', 'in_progress', 'resolved', 'followed_up', 'closed', 'declined', 'merged')),
    -- 首问责任人: who took it, and stays on it whoever it is assigned to.
    first_contact   TEXT COLLATE "C" REFERENCES users (id),
    created_by      TEXT COLLATE "C" REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    respond_due     BIGINT NOT NULL,
    resolve_due     BIGINT NOT NULL,
    responded_at    BIGINT,
    assignee_id     TEXT COLLATE "C" REFERENCES users (id),
    assignee_unit   TEXT COLLATE "C",
    resolved_at     BIGINT,
    resolution      TEXT COLLATE "C",
    followed_up_at  BIGINT,
    closed_at       BIGINT,
    satisfaction    TEXT COLLATE "C" CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied')),
    reopen_count    BIGINT NOT NULL DEFAULT 0,
    merged_into     TEXT COLLATE "C" REFERENCES requests_new (id),
    decline_reason  TEXT COLLATE "C",
    -- SHA-256 of the receipt code the resident holds; the code itself is
    -- never stored.
    receipt_hash    TEXT COLLATE "C" UNIQUE,
    -- A resident's own submission: SHA-256 of the address it came from, to
    -- limit submissions per address and day without keeping the address.
    submitter_key   TEXT COLLATE "C",
    updated_at      BIGINT NOT NULL
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
    id          TEXT COLLATE "C" PRIMARY KEY,
    request_id  TEXT COLLATE "C" NOT NULL REFERENCES requests (id),
    at          BIGINT NOT NULL,
    -- None for a resident's own submission or rating.
    user_id     TEXT COLLATE "C" REFERENCES users (id),
    action      TEXT COLLATE "C" NOT NULL,
    from_status TEXT COLLATE "C",
    to_status   TEXT COLLATE "C" NOT NULL,
    note        TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX request_events_request ON request_events (request_id, at);

CREATE TABLE request_photos (
    request_id TEXT COLLATE "C" NOT NULL REFERENCES requests (id),
    event_id   TEXT COLLATE "C" NOT NULL REFERENCES request_events (id),
    photo      TEXT COLLATE "C" NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (event_id, position)
);
CREATE INDEX request_photos_photo ON request_photos (photo);
CREATE INDEX request_photos_request ON request_photos (request_id);

-- One-time rating codes a worker shows as a QR code; made on the phone,
-- registered with its next sync. Only the hash is kept.
CREATE TABLE rating_tokens (
    token_hash   TEXT COLLATE "C" PRIMARY KEY,
    request_id   TEXT COLLATE "C" NOT NULL REFERENCES requests (id),
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    satisfaction TEXT COLLATE "C" CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied'))
);
CREATE INDEX rating_tokens_request ON rating_tokens (request_id);

-- Requests travel to the phones of their grid through the change feed: the
-- feed's entity list grows by one.
ALTER TABLE changes DROP CONSTRAINT changes_entity_check;
ALTER TABLE changes ADD CONSTRAINT changes_entity_check
    CHECK (entity IN ('building', 'household', 'resident', 'visit', 'request'));

-- The push log names the new kinds of operation.
ALTER TABLE applied_ops DROP CONSTRAINT applied_ops_kind_check;
ALTER TABLE applied_ops ADD CONSTRAINT applied_ops_kind_check
    CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident', 'raise_request', 'request_action', 'rating_token'));
