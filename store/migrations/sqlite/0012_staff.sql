-- Staff administration from the browser (and `server user …`): one-time
-- passwords, disabling at a moment, sessions a person can see and end.

-- A password set by someone else (a new account, a reset) must be replaced at
-- the first sign-in. `disabled_at` says when an account was disabled: its
-- phone is told so, and what it pushed before that moment is already in.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- Sessions end after an idle period as well as at their expiry (a lost phone
-- stops working on its own); the owner sees each one by device and address.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;

-- Facts about this installation. `demo_seeded`: the demo street (and its
-- published passwords) is here, so the start-up banner may print them.
CREATE TABLE install_facts (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO install_facts (name, value)
    SELECT 'demo_seeded', '1' WHERE EXISTS (SELECT 1 FROM users WHERE username = 'worker1');

-- A spreadsheet between its dry run and its import: the person confirms what
-- the dry run showed, and the import checks the same bytes again (any
-- instance may serve the confirmation). Removed when imported, or a day later.
CREATE TABLE import_uploads (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('territory', 'residents', 'staff')),
    file_name  TEXT NOT NULL,
    content    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
