-- Activities and volunteers (党员志愿服务, issue 18 #6): a community's teams
-- with their members, the activity calendar, public sign-ups and attendance,
-- which credits service hours.

-- Teams by free name (巡逻队, 环境卫生队, 党员志愿服务队 …), one name once per community.
CREATE TABLE volunteer_teams (
    id           TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities (id),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

-- A team member is a party member of the roster or a resident volunteer:
-- exactly one of the two, each at most once per team. Two partial unique
-- indexes rather than one over both columns, because NULLs never clash.
CREATE TABLE volunteer_team_members (
    team_id     TEXT NOT NULL REFERENCES volunteer_teams (id),
    member_id   TEXT REFERENCES party_members (id),
    resident_id TEXT REFERENCES residents (id),
    added_at    INTEGER NOT NULL,
    CHECK ((member_id IS NULL) <> (resident_id IS NULL))
);
CREATE UNIQUE INDEX volunteer_team_members_member ON volunteer_team_members (team_id, member_id)
    WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX volunteer_team_members_resident ON volunteer_team_members (team_id, resident_id)
    WHERE resident_id IS NOT NULL;

-- An activity on the calendar. Hours credited are whole minutes (0 to 24
-- hours), so 1.5 hours adds up exactly on the ledger. `notice_id` is the
-- 活动通知 it was published as: public sign-up is open while that notice is
-- public and the activity has not ended.
CREATE TABLE activities (
    id             TEXT PRIMARY KEY,
    community_id   TEXT NOT NULL REFERENCES communities (id),
    team_id        TEXT REFERENCES volunteer_teams (id),
    title          TEXT NOT NULL,
    place          TEXT NOT NULL,
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL,
    credit_minutes INTEGER NOT NULL CHECK (credit_minutes BETWEEN 0 AND 1440),
    notice_id      TEXT REFERENCES notices (id),
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX activities_community ON activities (community_id, starts_at);

-- Public sign-ups: no account. `name` NULL is anonymous (counted only). The
-- phone is for the lead, shown masked. `address_key` is a hash of the
-- sender's address, for the per-address limit: the address itself is not kept.
CREATE TABLE activity_signups (
    id          TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    name        TEXT,
    phone       TEXT,
    address_key TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX activity_signups_activity ON activity_signups (activity_id, address_key);

-- Attendance, which credits the hours: the attendee is a party member or a
-- resident volunteer, once per activity. The unique indexes make a check-in
-- sent twice (a retried form, a phone pushing again) credit once. The
-- minutes are copied from the activity at check-in, so a later edit of the
-- activity does not rewrite hours already credited.
CREATE TABLE activity_attendance (
    id             TEXT PRIMARY KEY,
    activity_id    TEXT NOT NULL REFERENCES activities (id),
    member_id      TEXT REFERENCES party_members (id),
    resident_id    TEXT REFERENCES residents (id),
    checked_in_at  INTEGER NOT NULL,
    checked_in_by  TEXT NOT NULL REFERENCES users (id),
    credit_minutes INTEGER NOT NULL CHECK (credit_minutes BETWEEN 0 AND 1440),
    CHECK ((member_id IS NULL) <> (resident_id IS NULL))
);
CREATE UNIQUE INDEX activity_attendance_member ON activity_attendance (activity_id, member_id)
    WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX activity_attendance_resident ON activity_attendance (activity_id, resident_id)
    WHERE resident_id IS NOT NULL;
