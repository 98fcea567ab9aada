-- A phone's outbox carries attendance ticks at activities (issue 18 #6): the
-- push log names the new kind of operation. SQLite cannot change a CHECK, so
-- the log is rebuilt as 0011 did (nothing references it).
CREATE TABLE applied_ops_new (
    op_id      TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident',
                                             'raise_request', 'request_action', 'rating_token', 'check_in')),
    status     TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    reason     TEXT,
    applied_at INTEGER NOT NULL
);
INSERT INTO applied_ops_new (op_id, user_id, device_id, kind, status, reason, applied_at)
    SELECT op_id, user_id, device_id, kind, status, reason, applied_at FROM applied_ops;
DROP TABLE applied_ops;
ALTER TABLE applied_ops_new RENAME TO applied_ops;
CREATE INDEX applied_ops_user ON applied_ops (user_id, applied_at);
