-- The pull sequence is numbered from a counter row at the end of each write
-- transaction (store::Tx::commit explains why: on PostgreSQL an identity
-- column can hand out a number that commits after a larger one). SQLite uses
-- the same code path; existing files carry on from their last number.
-- changes.seq stays AUTOINCREMENT in files made before this migration; rows
-- now always arrive with an explicit seq.
CREATE TABLE change_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO change_counter (id, seq)
SELECT 1, MAX(COALESCE((SELECT MAX(seq) FROM changes), 0),
              COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0));

-- Expired sessions are swept by expiry.
CREATE INDEX sessions_expires ON sessions (expires_at);
