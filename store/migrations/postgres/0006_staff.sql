-- Staff administration from the browser (and `server user …`): one-time
-- passwords, disabling at a moment, sessions a person can see and end.
-- (The reasons are written once, in sqlite/0012_staff.sql.)

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;

CREATE TABLE install_facts (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
INSERT INTO install_facts (name, value)
    SELECT 'demo_seeded', '1' WHERE EXISTS (SELECT 1 FROM users WHERE username = 'worker1');

CREATE TABLE import_uploads (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('territory', 'residents', 'staff')),
    file_name  TEXT COLLATE "C" NOT NULL,
    content    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
