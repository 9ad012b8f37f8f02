-- Checkpoints cosigned by outside witnesses (C2SP tlog-witness), one row per
-- witness and size. A witness cosigns a checkpoint only when it extends the
-- last one it cosigned, so the latest cosigned size is a floor the ledger
-- can never again go below: `titular ledger verify` fails a ledger rolled
-- back under it, or holding another root at its size, even when the rollback
-- restored an older, self-consistent copy of the ledger tables. The witness
-- keeps its own copy; this table saves asking it.
--
-- note is the checkpoint as titular signed it with the witness's
-- cosignature line appended. Append-only, like the ledger's own tables:
--   GRANT SELECT, INSERT ON db.lgpd_ledger_cosignatures TO 'titular'@'%';
CREATE TABLE IF NOT EXISTS lgpd_ledger_cosignatures (
  witness    VARCHAR(255)    NOT NULL,
  size       BIGINT UNSIGNED NOT NULL,
  root       BINARY(32)      NOT NULL,
  note       TEXT            NOT NULL,
  created_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (witness, size)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

DROP TRIGGER IF EXISTS lgpd_ledger_cosignatures_no_update;
CREATE TRIGGER lgpd_ledger_cosignatures_no_update BEFORE UPDATE ON lgpd_ledger_cosignatures
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_cosignatures is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_cosignatures_no_delete;
CREATE TRIGGER lgpd_ledger_cosignatures_no_delete BEFORE DELETE ON lgpd_ledger_cosignatures
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_cosignatures is append-only';
END;
