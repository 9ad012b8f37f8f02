-- titular's own request tables, inside the tenant's database (DESIGN §2), so a
-- data change and its records commit in one InnoDB transaction.
-- Portable: MySQL 8.0+ and MariaDB 10.6+. JSON documents are stored as TEXT
-- because MariaDB's JSON is LONGTEXT anyway and we never query inside them.

CREATE TABLE IF NOT EXISTS lgpd_requests (
  id              CHAR(36)     NOT NULL,
  kind            VARCHAR(16)  NOT NULL,
  status          VARCHAR(32)  NOT NULL,
  created_by      VARCHAR(100) NOT NULL,
  -- NULL when the caller sent none; NULLs never collide in the UNIQUE key.
  idempotency_key VARCHAR(200) NULL,
  -- Opaque random reference to the titular; never personal data.
  subject_ref     CHAR(36)     NOT NULL,
  -- Normalized identifiers the worker matches on. Personal data: cleared when
  -- the titular's data is deleted.
  subject_json    TEXT         NULL,
  params_json     TEXT         NULL,
  result_json     MEDIUMTEXT   NULL,
  reasons_json    TEXT         NULL,
  received_at     DATETIME(6)  NOT NULL,
  due_at          DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  completed_at    DATETIME(6)  NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  lease_owner     VARCHAR(100) NULL,
  lease_until     DATETIME(6)  NULL,
  last_error      VARCHAR(500) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_lgpd_requests_idem (created_by, idempotency_key),
  -- The worker's claim query: status, then the oldest first.
  KEY ix_lgpd_requests_queue (status, received_at),
  -- Listing, newest first, keyset-paged.
  KEY ix_lgpd_requests_list (received_at, id),
  KEY ix_lgpd_requests_subject (subject_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every state change, written in the transaction that makes it.
CREATE TABLE IF NOT EXISTS lgpd_request_events (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  request_id  CHAR(36)     NOT NULL,
  from_status VARCHAR(32)  NULL,
  to_status   VARCHAR(32)  NOT NULL,
  actor       VARCHAR(100) NOT NULL,
  note        VARCHAR(500) NULL,
  at          DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY ix_lgpd_request_events_request (request_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per materialized export; the bytes live encrypted in chunks.
CREATE TABLE IF NOT EXISTS lgpd_exports (
  id           CHAR(36)     NOT NULL,
  request_id   CHAR(36)     NOT NULL,
  format       VARCHAR(8)   NOT NULL,
  content_type VARCHAR(100) NOT NULL,
  filename     VARCHAR(200) NOT NULL,
  size_bytes   BIGINT       NOT NULL,
  sha256       CHAR(64)     NOT NULL,
  chunk_count  INT          NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  expires_at   DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_lgpd_exports_request_format (request_id, format)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- AES-256-GCM sealed chunks of at most 1 MiB of plaintext each, so an export
-- of any size streams in and out with flat memory.
CREATE TABLE IF NOT EXISTS lgpd_export_chunks (
  export_id CHAR(36)   NOT NULL,
  seq       INT        NOT NULL,
  data      MEDIUMBLOB NOT NULL,
  PRIMARY KEY (export_id, seq)
) ENGINE=InnoDB;
