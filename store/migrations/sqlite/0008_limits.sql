-- Login and public-page limits live in the database so that several server
-- instances share them (a lockout earned on one holds on all).

-- One row per failed login, per key (`user:<name>`, `ip:<address>`); counted
-- over a sliding window and swept when older.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Requests per key (`public:<address>`) in fixed one-minute windows aligned
-- on the minute, so every instance counts into the same row.
CREATE TABLE rate_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);
