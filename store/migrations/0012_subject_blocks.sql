-- Blocking on request (LGPD art. 18 IV): a BLOCK request suspends the
-- processing of the titular's rows, erasing and changing nothing, until the
-- DPO lifts it. One row per BLOCK request; lifted_at is set when the DPO
-- lifts it (LiftBlock). The titular appears only as the subject reference.
CREATE TABLE IF NOT EXISTS lgpd_subject_blocks (
  request_id  CHAR(36)     NOT NULL,
  subject_ref CHAR(36)     NOT NULL,
  blocked_at  DATETIME(6)  NOT NULL,
  lifted_at   DATETIME(6)  NULL,
  -- The DPO credential that lifted it.
  lifted_by   VARCHAR(100) NULL,
  PRIMARY KEY (request_id),
  KEY ix_lgpd_subject_blocks_subject (subject_ref, lifted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The rows the data map reached when the block was recorded, by table and
-- key (a JSON array of the key's values, as lgpd_blocks.row_key): the CRM
-- and marketing tell a row is blocked by joining here on (table_name,
-- row_key) with lgpd_subject_blocks.lifted_at IS NULL. Kept apart from
-- lgpd_blocks, whose rows the sweep erases when their hold ends: a
-- titular's block ends only when the DPO lifts it.
CREATE TABLE IF NOT EXISTS lgpd_subject_block_rows (
  request_id CHAR(36)     NOT NULL,
  entity     VARCHAR(64)  NOT NULL,
  table_name VARCHAR(64)  NOT NULL,
  row_key    VARCHAR(255) NOT NULL,
  PRIMARY KEY (request_id, table_name, row_key),
  KEY ix_lgpd_subject_block_rows_row (table_name, row_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per titular (subject reference) that a destructive request
-- (DELETE, ANONYMIZE, BLOCK, CORRECT) has touched: claims and destructive
-- work lock it FOR UPDATE, so one titular's destructive requests run one
-- after the other across every replica.
CREATE TABLE IF NOT EXISTS lgpd_subject_locks (
  subject_ref CHAR(36)    NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (subject_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
