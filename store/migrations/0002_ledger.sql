-- The tamper-evident ledger (DESIGN §7): per tenant, an RFC 6962 Merkle tree
-- over canonical leaves built by titular (package ledger documents the
-- encoding). A change's transaction inserts its leaf into
-- lgpd_ledger_pending, atomically with the change; titular's sequencer
-- integrates pending leaves in batches: it assigns seq, writes entries and
-- the tree's new nodes, and moves the head once per batch. Locking the head
-- in every change's transaction would serialize a tenant's writers behind
-- one commit (fsync) at a time; measured here, that alone cost more than
-- half the write throughput.
--
-- Append-only: triggers refuse UPDATE and DELETE on entries, nodes and
-- checkpoints, and nothing has a foreign key into the ledger (a cascade
-- would bypass the triggers). TRUNCATE, DROP TRIGGER or a restored dump do
-- bypass them; `titular ledger verify` detects those from the leaves and
-- published checkpoints.
--
-- Privileges. The account titular serves with needs, on the tenant database:
--   GRANT SELECT, INSERT         ON db.lgpd_ledger_entries     TO 'titular'@'%';
--   GRANT SELECT, INSERT         ON db.lgpd_ledger_nodes       TO 'titular'@'%';
--   GRANT SELECT, INSERT         ON db.lgpd_ledger_checkpoints TO 'titular'@'%';
--   GRANT SELECT, INSERT, DELETE ON db.lgpd_ledger_pending     TO 'titular'@'%';
--   GRANT SELECT, UPDATE         ON db.lgpd_ledger_head        TO 'titular'@'%';
--   GRANT SELECT, INSERT, DELETE ON db.lgpd_subject_index      TO 'titular'@'%';
-- and never UPDATE or DELETE on the first three, nor TRIGGER, DROP or ALTER
-- on any: those belong to a separate migration account
-- (CREATE, ALTER, DROP, INDEX, TRIGGER), used only by `titular migrate`.
-- On MySQL with binary logging, creating triggers also needs SUPER or
-- log_bin_trust_function_creators = 1 for the migration account.
-- Portable: MySQL 8.0+ and MariaDB 10.6+.

-- Leaves committed with their change, waiting for the sequencer. Rows leave
-- this table only in the transaction that turns them into entries.
CREATE TABLE IF NOT EXISTS lgpd_ledger_pending (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  leaf       BLOB            NOT NULL,
  -- HMAC-SHA256 of the leaf with the tenant's ledger key (kept outside the
  -- database): a forged leaf cannot carry a valid one.
  mac        BINARY(32)      NOT NULL,
  request_id CHAR(36)        NULL,
  created_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The leaves, in tree order. seq is the leaf index.
CREATE TABLE IF NOT EXISTS lgpd_ledger_entries (
  seq        BIGINT UNSIGNED NOT NULL,
  leaf       BLOB            NOT NULL,
  leaf_hash  BINARY(32)      NOT NULL,
  mac        BINARY(32)      NOT NULL,
  -- For receipts: find a request's entries without decoding leaves.
  request_id CHAR(36)        NULL,
  created_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (seq),
  KEY ix_lgpd_ledger_entries_request (request_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Hashes of the tree's perfect subtrees above the leaves, for proofs. A node
-- is keyed by the last leaf it covers (seq) and its level; its index within
-- the level is seq >> level. Keyed this way, the primary key orders nodes as
-- the tree completes them, so verify streams them beside the entries.
CREATE TABLE IF NOT EXISTS lgpd_ledger_nodes (
  seq   BIGINT UNSIGNED  NOT NULL,
  level TINYINT UNSIGNED NOT NULL,
  hash  BINARY(32)       NOT NULL,
  PRIMARY KEY (seq, level)
) ENGINE=InnoDB;

-- The one tree head: size, root, and the compact range (the left-to-right
-- roots of the perfect subtrees covering [0, size)) the sequencer extends.
CREATE TABLE IF NOT EXISTS lgpd_ledger_head (
  id           TINYINT UNSIGNED NOT NULL,
  size         BIGINT UNSIGNED  NOT NULL,
  root         BINARY(32)       NOT NULL,
  range_hashes VARBINARY(2048)  NOT NULL,
  updated_at   DATETIME(6)      NOT NULL,
  PRIMARY KEY (id),
  CONSTRAINT ck_lgpd_ledger_head_one CHECK (id = 1)
) ENGINE=InnoDB;

INSERT IGNORE INTO lgpd_ledger_head (id, size, root, range_hashes, updated_at)
VALUES (1, 0, UNHEX('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), '', UTC_TIMESTAMP(6));

-- Signed checkpoints (C2SP tlog-checkpoint notes), as titular wrote them.
-- Publish them outside the database too: only an outside copy catches a
-- database restored from an older dump.
CREATE TABLE IF NOT EXISTS lgpd_ledger_checkpoints (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  size       BIGINT UNSIGNED NOT NULL,
  root       BINARY(32)      NOT NULL,
  note       TEXT            NOT NULL,
  created_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (id),
  KEY ix_lgpd_ledger_checkpoints_size (size)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Identifier -> subject reference. The key is an HMAC of the normalized
-- identifier (kind-prefixed) with the tenant's subject key, so the table
-- holds no identifier; deleting a titular's rows here (a DELETE request)
-- leaves nothing in the ledger that links back to them.
CREATE TABLE IF NOT EXISTS lgpd_subject_index (
  id_hmac     BINARY(32)  NOT NULL,
  subject_ref CHAR(36)    NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (id_hmac),
  KEY ix_lgpd_subject_index_ref (subject_ref)
) ENGINE=InnoDB;

DROP TRIGGER IF EXISTS lgpd_ledger_entries_no_update;
CREATE TRIGGER lgpd_ledger_entries_no_update BEFORE UPDATE ON lgpd_ledger_entries
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_entries is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_entries_no_delete;
CREATE TRIGGER lgpd_ledger_entries_no_delete BEFORE DELETE ON lgpd_ledger_entries
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_entries is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_nodes_no_update;
CREATE TRIGGER lgpd_ledger_nodes_no_update BEFORE UPDATE ON lgpd_ledger_nodes
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_nodes is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_nodes_no_delete;
CREATE TRIGGER lgpd_ledger_nodes_no_delete BEFORE DELETE ON lgpd_ledger_nodes
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_nodes is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_checkpoints_no_update;
CREATE TRIGGER lgpd_ledger_checkpoints_no_update BEFORE UPDATE ON lgpd_ledger_checkpoints
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_checkpoints is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_ledger_checkpoints_no_delete;
CREATE TRIGGER lgpd_ledger_checkpoints_no_delete BEFORE DELETE ON lgpd_ledger_checkpoints
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_ledger_checkpoints is append-only';
END;
