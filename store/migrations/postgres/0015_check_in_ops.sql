-- A phone's outbox carries attendance ticks at activities (issue 18 #6): the
-- push log names the new kind of operation.
ALTER TABLE applied_ops DROP CONSTRAINT applied_ops_kind_check;
ALTER TABLE applied_ops ADD CONSTRAINT applied_ops_kind_check
    CHECK (kind IN ('record_visit', 'add_resident', 'edit_resident', 'raise_request', 'request_action',
                    'rating_token', 'check_in'));
