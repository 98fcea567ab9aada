-- Party members in the grid (党建引领, 001 #4–6): the roster of a community's
-- party members, the households and buildings each is linked to (联系户,
-- 楼栋党员), and the visit cadence by rank as data.

-- Cadence by rank class, in calendar months: "县级领导干部每季度1次、党委(党组)
-- 成员每月1次、其他党员每两月1次" (001 #5). Periods are calendar months, quarters
-- and two-month blocks counted from January (Beijing time), not rolling days:
-- the rule says "each quarter", so a visit on 31 March does not cover April.
-- A divisor of 12 keeps every period inside one year. Editable by an admin.
CREATE TABLE party_cadences (
    rank          TEXT PRIMARY KEY CHECK (rank IN ('county_leader', 'committee', 'member')),
    period_months INTEGER NOT NULL CHECK (period_months IN (1, 2, 3, 4, 6, 12)),
    updated_at    INTEGER NOT NULL
);
INSERT INTO party_cadences (rank, period_months, updated_at) VALUES
    ('county_leader', 3, 0),
    ('committee', 1, 0),
    ('member', 2, 0);

-- Branches (党支部) and groups (党小组) of a community, by name; a group may be
-- pushed down into a grid ("将党小组下延到网格中", 003).
CREATE TABLE party_branches (
    id           TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities (id),
    name         TEXT NOT NULL,
    UNIQUE (community_id, name)
);
CREATE TABLE party_groups (
    id        TEXT PRIMARY KEY,
    branch_id TEXT NOT NULL REFERENCES party_branches (id),
    name      TEXT NOT NULL,
    grid_id   TEXT REFERENCES grids (id),
    UNIQUE (branch_id, name)
);

-- A party member registered with the community (报到): a resident of it
-- (`resident_id`; the name follows the resident record) or an in-service
-- member from an outside unit (双报到). The work phone is kept whole, for
-- the member's own 联系卡; every list shows it masked. `user_id` is for the
-- light `member` account to come; `moved_at` says when they left.
CREATE TABLE party_members (
    id             TEXT PRIMARY KEY,
    community_id   TEXT NOT NULL REFERENCES communities (id),
    kind           TEXT NOT NULL CHECK (kind IN ('resident', 'in_service')),
    resident_id    TEXT REFERENCES residents (id),
    name           TEXT NOT NULL,
    unit           TEXT NOT NULL DEFAULT '',
    unit_party_org TEXT NOT NULL DEFAULT '',
    rank           TEXT NOT NULL REFERENCES party_cadences (rank),
    work_phone     TEXT,
    branch_id      TEXT NOT NULL REFERENCES party_branches (id),
    group_id       TEXT REFERENCES party_groups (id),
    registered_on  TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved')),
    moved_at       INTEGER,
    user_id        TEXT REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK ((kind = 'resident') = (resident_id IS NOT NULL))
);
CREATE INDEX party_members_community ON party_members (community_id, status);
-- One registration per person: a resident once; an in-service member once per
-- community by name, unit and phone. The server answers 409 before these
-- fire; they hold against two registrations at the same moment.
CREATE UNIQUE INDEX party_members_resident ON party_members (resident_id) WHERE resident_id IS NOT NULL;
CREATE UNIQUE INDEX party_members_in_service ON party_members (community_id, name, unit, work_phone)
    WHERE kind = 'in_service';
CREATE UNIQUE INDEX party_members_user ON party_members (user_id) WHERE user_id IS NOT NULL;

-- 联系户: at least one hardship or key-group household and one ordinary
-- household per member (001 #5); shown when missing, not enforced.
CREATE TABLE party_member_households (
    member_id    TEXT NOT NULL REFERENCES party_members (id),
    household_id TEXT NOT NULL REFERENCES households (id),
    kind         TEXT NOT NULL CHECK (kind IN ('hardship', 'ordinary')),
    linked_at    INTEGER NOT NULL,
    PRIMARY KEY (member_id, household_id)
);
CREATE INDEX party_member_households_household ON party_member_households (household_id);

-- 楼栋党员: the member a building's residents can ask.
CREATE TABLE party_member_buildings (
    member_id   TEXT NOT NULL REFERENCES party_members (id),
    building_id TEXT NOT NULL REFERENCES buildings (id),
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (member_id, building_id)
);
CREATE INDEX party_member_buildings_building ON party_member_buildings (building_id);
