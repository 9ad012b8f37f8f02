-- Rows a DELETE could not erase because a legal retention hold still runs
-- (LGPD art. 16 I, 18 §4 II). The CRM, marketing and EXTRACT can tell a row
-- is blocked by looking it up here; `titular sweep` erases it when the hold
-- ends. row_key holds the row's key values as a JSON array: data maps key
-- entities by surrogate ids, never by personal data.
CREATE TABLE IF NOT EXISTS lgpd_blocks (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  entity      VARCHAR(64)  NOT NULL,
  table_name  VARCHAR(64)  NOT NULL,
  row_key     VARCHAR(255) NOT NULL,
  subject_ref CHAR(36)     NOT NULL,
  request_id  CHAR(36)     NOT NULL,
  basis       VARCHAR(64)  NOT NULL,
  reference   VARCHAR(500) NOT NULL,
  on_delete   VARCHAR(16)  NOT NULL,
  -- NULL when the row is kept only because held rows still reference it; it
  -- is released with them.
  release_at  DATETIME(6)  NULL,
  blocked_at  DATETIME(6)  NOT NULL,
  released_at DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_lgpd_blocks_row (table_name, row_key),
  KEY ix_lgpd_blocks_due (released_at, release_at),
  KEY ix_lgpd_blocks_subject (subject_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
