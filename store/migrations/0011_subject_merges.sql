-- One person, many identifiers (issue #15). A titular's identifiers resolve
-- to one subject reference; when titular learns that two references are the
-- same person (a request carrying identifiers indexed apart, or CRM rows
-- holding them together), the younger reference is merged into the older
-- one: its lgpd_subject_index rows move to the survivor and a row here
-- records the merge, with a ledger leaf (subject.merged) in the same
-- transaction. Records written under the old reference (requests, consents,
-- blocks, ledger leaves) keep it, as the ledger's bytes must; reads resolve
-- it through this table. References are random: nothing here is personal
-- data. Rows are never deleted: they are the record of each merge.
-- Portable: MySQL 8.0+ and MariaDB 10.6+.
CREATE TABLE IF NOT EXISTS lgpd_subject_merges (
  -- The reference merged away; a reference is merged once.
  old_ref    CHAR(36)    NOT NULL,
  -- The reference it was merged into, as recorded then.
  into_ref   CHAR(36)    NOT NULL,
  -- The person's current reference: into_ref, or the reference into_ref
  -- was itself merged into later (kept flat, so one lookup resolves).
  person_ref CHAR(36)    NOT NULL,
  -- Why: 'request' (one request carried identifiers indexed apart) or
  -- 'crm' (the CRM's rows found by one identifier hold the other).
  reason     VARCHAR(16) NOT NULL,
  -- Which identifier kinds were linked, e.g. 'cpf+email' (never values).
  kinds      VARCHAR(40) NOT NULL,
  merged_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (old_ref),
  KEY ix_lgpd_subject_merges_person (person_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
