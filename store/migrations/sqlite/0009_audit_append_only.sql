-- The audit log records sign-in and sign-out beside reads and changes, and is
-- append-only: triggers refuse any UPDATE or DELETE, so a bug or a stray
-- statement cannot rewrite who did what. SQLite cannot change a CHECK
-- constraint in place: the table is rebuilt with its rows.
CREATE TABLE audit_log_new (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    action      TEXT NOT NULL CHECK (action IN ('read', 'create', 'update', 'denied', 'sign_in', 'sign_out')),
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    route       TEXT NOT NULL
);
INSERT INTO audit_log_new (id, at, user_id, action, entity, entity_id, route)
    SELECT id, at, user_id, action, entity, entity_id, route FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
