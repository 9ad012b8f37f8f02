-- Who asked for the titular when a representative did (an attorney, a
-- legal guardian): relation, name and a reference to the document, as
-- JSON. NULL when the titular asked in person.
ALTER TABLE lgpd_requests ADD COLUMN representative_json TEXT NULL;
