-- Party members in the grid: roster, 联系户 and 楼栋党员 links, cadence by
-- rank. (The reasons are written once, in sqlite/0015_party.sql.)

CREATE TABLE party_cadences (
    rank          TEXT COLLATE "C" PRIMARY KEY CHECK (rank IN ('county_leader', 'committee', 'member')),
    period_months BIGINT NOT NULL CHECK (period_months IN (1, 2, 3, 4, 6, 12)),
    updated_at    BIGINT NOT NULL
);
INSERT INTO party_cadences (rank, period_months, updated_at) VALUES
    ('county_leader', 3, 0),
    ('committee', 1, 0),
    ('member', 2, 0);

CREATE TABLE party_branches (
    id           TEXT COLLATE "C" PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    name         TEXT COLLATE "C" NOT NULL,
    UNIQUE (community_id, name)
);
CREATE TABLE party_groups (
    id        TEXT COLLATE "C" PRIMARY KEY,
    branch_id TEXT COLLATE "C" NOT NULL REFERENCES party_branches (id),
    name      TEXT COLLATE "C" NOT NULL,
    grid_id   TEXT COLLATE "C" REFERENCES grids (id),
    UNIQUE (branch_id, name)
);

CREATE TABLE party_members (
    id             TEXT COLLATE "C" PRIMARY KEY,
    community_id   TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    kind           TEXT COLLATE "C" NOT NULL CHECK (kind IN ('resident', 'in_service')),
    resident_id    TEXT COLLATE "C" REFERENCES residents (id),
    name           TEXT COLLATE "C" NOT NULL,
    unit           TEXT COLLATE "C" NOT NULL DEFAULT '',
    unit_party_org TEXT COLLATE "C" NOT NULL DEFAULT '',
    rank           TEXT COLLATE "C" NOT NULL REFERENCES party_cadences (rank),
    work_phone     TEXT COLLATE "C",
    branch_id      TEXT COLLATE "C" NOT NULL REFERENCES party_branches (id),
    group_id       TEXT COLLATE "C" REFERENCES party_groups (id),
    registered_on  TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved')),
    moved_at       BIGINT,
    user_id        TEXT COLLATE "C" REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK ((kind = 'resident') = (resident_id IS NOT NULL))
);
CREATE INDEX party_members_community ON party_members (community_id, status);
CREATE UNIQUE INDEX party_members_resident ON party_members (resident_id) WHERE resident_id IS NOT NULL;
CREATE UNIQUE INDEX party_members_in_service ON party_members (community_id, name, unit, work_phone)
    WHERE kind = 'in_service';
CREATE UNIQUE INDEX party_members_user ON party_members (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE party_member_households (
    member_id    TEXT COLLATE "C" NOT NULL REFERENCES party_members (id),
    household_id TEXT COLLATE "C" NOT NULL REFERENCES households (id),
    kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('hardship', 'ordinary')),
    linked_at    BIGINT NOT NULL,
    PRIMARY KEY (member_id, household_id)
);
CREATE INDEX party_member_households_household ON party_member_households (household_id);

CREATE TABLE party_member_buildings (
    member_id   TEXT COLLATE "C" NOT NULL REFERENCES party_members (id),
    building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
    linked_at   BIGINT NOT NULL,
    PRIMARY KEY (member_id, building_id)
);
CREATE INDEX party_member_buildings_building ON party_member_buildings (building_id);
