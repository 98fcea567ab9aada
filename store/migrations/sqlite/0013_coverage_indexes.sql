-- Visits in time order, newest first with ties by id: the order the visit
-- ledger is written in. Its exports fetch it a page at a time (a keyset on
-- visited_at and id), each page a range of this index read in order, so no
-- export sorts or holds every visit of the year at once.
CREATE INDEX visits_time ON visits (visited_at DESC, id);
