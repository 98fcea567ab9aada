-- Party members' visits and service hours (001 #5–6): a visit a member made
-- to a household linked to them names the member (`party_member_id`) and the
-- time it counts on their service-hours ledger (`service_minutes`). The lead
-- records one from the member's report at the desk; the row is an ordinary
-- visit, so the household's coverage counts it and phones receive it.
ALTER TABLE visits ADD COLUMN party_member_id TEXT REFERENCES party_members (id);
ALTER TABLE visits ADD COLUMN service_minutes INTEGER CHECK (service_minutes BETWEEN 1 AND 720);
CREATE INDEX visits_party_member ON visits (party_member_id, visited_at) WHERE party_member_id IS NOT NULL;

-- The yearly service-hours rule ("每年参加志愿服务不少于16小时"): one row,
-- editable by an admin.
CREATE TABLE party_rules (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    annual_minutes INTEGER NOT NULL CHECK (annual_minutes BETWEEN 60 AND 30000),
    updated_at     INTEGER NOT NULL
);
INSERT INTO party_rules (id, annual_minutes, updated_at) VALUES (1, 960, 0);
