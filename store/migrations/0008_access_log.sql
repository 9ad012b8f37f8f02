-- Who read what, and why (issue #14): every export download, receipt read,
-- ledger entry read and consent-evidence read by a caller, with the reason
-- the caller gave (X-Access-Reason), for the DPO to list (ListAccessLog).
-- Like the ledger it holds no personal data: the actor is the credential's
-- name, the titular a subject reference, and the reason is refused when it
-- looks like an identifier. call_request_id is the call's x-request-id, to
-- find the call in titular's logs.
--
-- Append-only: triggers refuse UPDATE and DELETE, so a record of an access
-- cannot be taken back by the account that made it. The runtime account
-- needs SELECT and INSERT on it (store.RuntimePrivileges).
CREATE TABLE IF NOT EXISTS lgpd_access_log (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  at              DATETIME(6)     NOT NULL,
  actor           VARCHAR(128)    NOT NULL,
  role            VARCHAR(16)     NOT NULL,
  action          VARCHAR(32)     NOT NULL,
  request_id      CHAR(36)        NULL,
  subject_ref     CHAR(36)        NULL,
  reason          VARCHAR(500)    NOT NULL DEFAULT '',
  call_request_id VARCHAR(64)     NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY ix_lgpd_access_log_request (request_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

DROP TRIGGER IF EXISTS lgpd_access_log_no_update;
CREATE TRIGGER lgpd_access_log_no_update BEFORE UPDATE ON lgpd_access_log
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_access_log is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_access_log_no_delete;
CREATE TRIGGER lgpd_access_log_no_delete BEFORE DELETE ON lgpd_access_log
FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_access_log is append-only';
END;
