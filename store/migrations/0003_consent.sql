-- Consent (LGPD Art. 8, 9, 18 IX) and propagation events (Art. 18 §6).
-- Portable: MySQL 8.0+ and MariaDB 10.6+. No foreign keys: the service
-- validates purposes and terms, and a cascade must never rewrite history.

-- The tenant's catalog of purposes ("finalidades"). A purpose is never
-- deleted: consent records name it for as long as they are kept.
CREATE TABLE IF NOT EXISTS lgpd_purposes (
  id                   VARCHAR(64)  NOT NULL,
  name                 VARCHAR(200) NOT NULL,
  description          TEXT         NOT NULL,
  legal_basis          VARCHAR(40)  NOT NULL,
  consent_required     TINYINT(1)   NOT NULL,
  -- What happens if the titular does not consent (Art. 18 VIII).
  refusal_consequences TEXT         NOT NULL,
  -- JSON array of recipient names (Art. 18 VII).
  shared_with_json     TEXT         NOT NULL,
  -- The version of lgpd_terms in force; NULL until one is published.
  -- PublishTerm moves it under the row's lock, and a GRANT reads it under a
  -- shared lock, so a grant never commits against a term that was replaced
  -- while it ran.
  current_version      VARCHAR(32)  NULL,
  created_by           VARCHAR(100) NOT NULL,
  created_at           DATETIME(6)  NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every published version of a purpose's terms, with the SHA-256 of its exact
-- text (computed by titular), so a record's hash proves what was shown.
-- valid_to is set when the next version is published.
CREATE TABLE IF NOT EXISTS lgpd_terms (
  purpose_id   VARCHAR(64)  NOT NULL,
  version      VARCHAR(32)  NOT NULL,
  text         MEDIUMTEXT   NOT NULL,
  text_sha256  CHAR(64)     NOT NULL,
  valid_from   DATETIME(6)  NOT NULL,
  valid_to     DATETIME(6)  NULL,
  published_by VARCHAR(100) NOT NULL,
  PRIMARY KEY (purpose_id, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consent history: one row per GRANT, REFUSE or REVOKE, append-only (the
-- triggers below refuse DELETE and any UPDATE but clearing evidence). The
-- current status of a titular for a purpose is their latest row.
--
-- subject_ref, purpose, action, term and time are not personal data and stay
-- as proof for as long as the tenant keeps them (Art. 8 §2, 16). The
-- evidence_* columns are personal data of the titular (IP, user agent) or of
-- the controller's staff (captured_by): a DELETE of the titular clears them
-- with Store.ClearConsentEvidence, unless the data map's consent retention
-- says to keep them as proof. They never reach the ledger or the logs.
CREATE TABLE IF NOT EXISTS lgpd_consents (
  id                   BIGINT       NOT NULL AUTO_INCREMENT,
  subject_ref          CHAR(36)     NOT NULL,
  purpose_id           VARCHAR(64)  NOT NULL,
  action               VARCHAR(8)   NOT NULL,
  -- NULL for a REVOKE or REFUSE that named no published version.
  term_version         VARCHAR(32)  NULL,
  term_sha256          CHAR(64)     NULL,
  at                   DATETIME(6)  NOT NULL,
  channel              VARCHAR(40)  NOT NULL,
  request_id           CHAR(36)     NOT NULL,
  evidence_ip          VARCHAR(45)  NULL,
  evidence_user_agent  VARCHAR(512) NULL,
  evidence_captured_by VARCHAR(200) NULL,
  evidence_cleared_at  DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_lgpd_consents_request (request_id),
  -- A titular's history and current status per purpose: the latest id per
  -- (subject_ref, purpose_id).
  KEY ix_lgpd_consents_subject (subject_ref, purpose_id, id),
  -- Titulares whose latest record for a purpose has a given action, paged by
  -- subject_ref; each candidate is checked against ix_lgpd_consents_subject.
  KEY ix_lgpd_consents_purpose (purpose_id, action, subject_ref, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

DROP TRIGGER IF EXISTS lgpd_consents_no_delete;

CREATE TRIGGER lgpd_consents_no_delete BEFORE DELETE ON lgpd_consents FOR EACH ROW
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_consents is append-only';
END;

DROP TRIGGER IF EXISTS lgpd_consents_no_update;

CREATE TRIGGER lgpd_consents_no_update BEFORE UPDATE ON lgpd_consents FOR EACH ROW
BEGIN
  IF NOT (NEW.id <=> OLD.id AND NEW.subject_ref <=> OLD.subject_ref AND NEW.purpose_id <=> OLD.purpose_id
      AND NEW.action <=> OLD.action AND NEW.term_version <=> OLD.term_version
      AND NEW.term_sha256 <=> OLD.term_sha256 AND NEW.at <=> OLD.at AND NEW.channel <=> OLD.channel
      AND NEW.request_id <=> OLD.request_id)
    OR (NEW.evidence_ip IS NOT NULL AND NOT NEW.evidence_ip <=> OLD.evidence_ip)
    OR (NEW.evidence_user_agent IS NOT NULL AND NOT NEW.evidence_user_agent <=> OLD.evidence_user_agent)
    OR (NEW.evidence_captured_by IS NOT NULL AND NOT NEW.evidence_captured_by <=> OLD.evidence_captured_by) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_consents is append-only; only evidence may be cleared';
  END IF;
END;

-- Transactional outbox (Art. 18 §6): a propagation event is inserted in the
-- transaction of the change it reports (Store.EnqueueEvent), so a committed
-- change always has its event and a rolled-back one never does. seq is the
-- tenant-local order (increasing, may have gaps). data_json holds the
-- event's details and never personal data: the titular appears only as
-- subject_ref. An event is recorded even when no endpoint subscribes to it.
CREATE TABLE IF NOT EXISTS lgpd_outbox (
  seq         BIGINT      NOT NULL AUTO_INCREMENT,
  event_id    CHAR(36)    NOT NULL,
  type        VARCHAR(40) NOT NULL,
  subject_ref CHAR(36)    NULL,
  request_id  CHAR(36)    NULL,
  data_json   TEXT        NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (seq),
  UNIQUE KEY uq_lgpd_outbox_event (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per event and subscribed endpoint (by its configured name). The
-- dispatcher claims due rows with FOR UPDATE SKIP LOCKED and pushes
-- next_attempt_at past the HTTP call as a lease, so replicas share the work
-- and a crash mid-delivery only delays a redelivery (at-least-once).
CREATE TABLE IF NOT EXISTS lgpd_outbox_deliveries (
  seq             BIGINT       NOT NULL,
  endpoint        VARCHAR(100) NOT NULL,
  -- PENDING, DELIVERED or FAILED (gave up after the configured attempts).
  state           VARCHAR(16)  NOT NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)  NOT NULL,
  delivered_at    DATETIME(6)  NULL,
  last_error      VARCHAR(500) NULL,
  PRIMARY KEY (seq, endpoint),
  -- The dispatcher's claim: due PENDING rows, oldest first.
  KEY ix_lgpd_outbox_deliveries_due (state, next_attempt_at),
  -- The DPO's listing by state, newest first, keyset-paged.
  KEY ix_lgpd_outbox_deliveries_list (state, seq, endpoint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
