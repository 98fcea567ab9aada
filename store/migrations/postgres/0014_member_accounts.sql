-- A party member may have a light account of role 'member' (issue 18 #3): it
-- signs in on a phone and reaches only the households linked to the member.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'lead', 'worker', 'member'));
