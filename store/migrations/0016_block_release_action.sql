-- What the sweep does to a blocked row once its hold ends: 'delete' for a
-- row a DELETE kept (deleted then, or anonymized when another titular's
-- rows still reference it), 'anonymize' for a row an ANONYMIZE had to leave
-- as it was (anonymized then: the promise its result makes). Rows blocked
-- before this column existed were all kept by DELETEs. released_as records
-- what the sweep did: ERASED, ANONYMIZED or GONE (the row had already left
-- the CRM).
ALTER TABLE lgpd_blocks
  ADD COLUMN release_action VARCHAR(16) NOT NULL DEFAULT 'delete',
  ADD COLUMN released_as    VARCHAR(16) NULL;
