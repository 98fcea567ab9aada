-- A party member may have a light account of role 'member' (issue 18 #3): it
-- signs in on a phone and reaches only the households linked to the member.
--
-- SQLite cannot change a CHECK in place and sqlx runs every SQLite migration
-- in a transaction, where foreign keys cannot be switched off. So the users
-- table is rebuilt under `defer_foreign_keys`: dropping it leaves every row
-- that names a user (sessions, visits, the audit log …) waiting for its user,
-- and putting the same rows back into a table of the same name settles them
-- before the commit, which fails if any were left unsettled. Nothing refers
-- to the copy, and no child row is touched (no reference cascades).
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE users_before AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'worker', 'member')),
    community_id  TEXT REFERENCES communities (id),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    disabled_at   INTEGER,
    work_phone    TEXT
);
INSERT INTO users (id, username, display_name, role, community_id, password_hash, disabled, created_at,
                   must_change_password, disabled_at, work_phone)
    SELECT id, username, display_name, role, community_id, password_hash, disabled, created_at,
           must_change_password, disabled_at, work_phone
    FROM users_before;
DROP TABLE users_before;
