-- Visit cadences (走访频次) as data, editable by an admin: one row per key-group
-- tag, and 'default' for every household. A household is due `cadence_days`
-- after its last visit, by the strictest (smallest) cadence among the tags of
-- the residents living there, else the default. Typical rules: elderly living
-- alone weekly, key groups monthly, everyone else quarterly.
CREATE TABLE visit_policies (
    tag          TEXT PRIMARY KEY,
    cadence_days INTEGER NOT NULL CHECK (cadence_days BETWEEN 1 AND 366),
    updated_at   INTEGER NOT NULL
);
INSERT INTO visit_policies (tag, cadence_days, updated_at) VALUES
    ('default', 90, 0),
    ('elderly_alone', 7, 0),
    ('empty_nest', 30, 0),
    ('disabled', 30, 0),
    ('severe_illness', 14, 0),
    ('low_income', 30, 0),
    ('wubao', 30, 0),
    ('hardship', 30, 0),
    ('military_family', 30, 0),
    ('retired_cadre', 30, 0),
    ('left_behind_child', 30, 0);
