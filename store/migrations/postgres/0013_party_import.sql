-- The party roster can be imported from a spreadsheet like the other
-- ledgers: uploads of kind 'party'.
ALTER TABLE import_uploads DROP CONSTRAINT import_uploads_kind_check;
ALTER TABLE import_uploads ADD CONSTRAINT import_uploads_kind_check
    CHECK (kind IN ('territory', 'residents', 'staff', 'party'));
