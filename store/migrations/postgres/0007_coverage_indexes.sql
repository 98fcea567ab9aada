-- Visits in time order, newest first with ties by id (see
-- sqlite/0013_coverage_indexes.sql): the visit ledger's pages. The household
-- and worker ride along (INCLUDE) so the coverage page's figures for a
-- period (visits since a day, per worker, per household) read the index
-- only, instead of scanning every visit of every year.
CREATE INDEX visits_time ON visits (visited_at DESC, id) INCLUDE (household_id, worker_id);
