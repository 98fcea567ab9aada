-- Activities and volunteers: teams, the calendar, public sign-ups, attendance.
-- (The reasons are written once, in sqlite/0016_activities.sql.)

CREATE TABLE volunteer_teams (
    id           TEXT COLLATE "C" PRIMARY KEY,
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    name         TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE volunteer_team_members (
    team_id     TEXT COLLATE "C" NOT NULL REFERENCES volunteer_teams (id),
    member_id   TEXT COLLATE "C" REFERENCES party_members (id),
    resident_id TEXT COLLATE "C" REFERENCES residents (id),
    added_at    BIGINT NOT NULL,
    CHECK ((member_id IS NULL) <> (resident_id IS NULL))
);
CREATE UNIQUE INDEX volunteer_team_members_member ON volunteer_team_members (team_id, member_id)
    WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX volunteer_team_members_resident ON volunteer_team_members (team_id, resident_id)
    WHERE resident_id IS NOT NULL;

CREATE TABLE activities (
    id             TEXT COLLATE "C" PRIMARY KEY,
    community_id   TEXT COLLATE "C" NOT NULL REFERENCES communities (id),
    team_id        TEXT COLLATE "C" REFERENCES volunteer_teams (id),
    title          TEXT COLLATE "C" NOT NULL,
    place          TEXT COLLATE "C" NOT NULL,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    credit_minutes BIGINT NOT NULL CHECK (credit_minutes BETWEEN 0 AND 1440),
    notice_id      TEXT COLLATE "C" REFERENCES notices (id),
    created_by     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX activities_community ON activities (community_id, starts_at);

CREATE TABLE activity_signups (
    id          TEXT COLLATE "C" PRIMARY KEY,
    activity_id TEXT COLLATE "C" NOT NULL REFERENCES activities (id),
    name        TEXT COLLATE "C",
    phone       TEXT COLLATE "C",
    address_key TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX activity_signups_activity ON activity_signups (activity_id, address_key);

CREATE TABLE activity_attendance (
    id             TEXT COLLATE "C" PRIMARY KEY,
    activity_id    TEXT COLLATE "C" NOT NULL REFERENCES activities (id),
    member_id      TEXT COLLATE "C" REFERENCES party_members (id),
    resident_id    TEXT COLLATE "C" REFERENCES residents (id),
    checked_in_at  BIGINT NOT NULL,
    checked_in_by  TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    credit_minutes BIGINT NOT NULL CHECK (credit_minutes BETWEEN 0 AND 1440),
    CHECK ((member_id IS NULL) <> (resident_id IS NULL))
);
CREATE UNIQUE INDEX activity_attendance_member ON activity_attendance (activity_id, member_id)
    WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX activity_attendance_resident ON activity_attendance (activity_id, resident_id)
    WHERE resident_id IS NOT NULL;
