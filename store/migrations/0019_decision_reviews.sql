-- Review of decisions taken solely by automated processing (LGPD Art. 20).
-- Portable: MySQL 8.0+ and MariaDB 10.6+.

-- A purpose whose decisions are taken by automated processing (the demo's
-- credit_analysis): only such a purpose can be named by a REVIEW.
ALTER TABLE lgpd_purposes
  ADD COLUMN automated_decisions TINYINT(1) NOT NULL DEFAULT 0;

-- The decision a REVIEW request names and, once the DPO answers
-- (CompleteReview), the outcome and what Art. 20 §1 asks to be told: the
-- criteria and procedures used, or why they are withheld. One row per
-- REVIEW request; never deleted while the request is kept (the titular's
-- copy lists it).
CREATE TABLE IF NOT EXISTS lgpd_decision_reviews (
  request_id          CHAR(36)     NOT NULL,
  subject_ref         CHAR(36)     NOT NULL,
  purpose_id          VARCHAR(64)  NOT NULL,
  -- The decision's id in the CRM; no personal data.
  reference           VARCHAR(200) NOT NULL,
  decided_at          DATETIME(6)  NOT NULL,
  -- NULL until the DPO answers: UPHELD or CHANGED.
  outcome             VARCHAR(16)  NULL,
  -- The person who reviewed (staff's personal data: kept here, never in
  -- the ledger or events) and the credential that recorded it.
  reviewer            VARCHAR(200) NULL,
  recorded_by         VARCHAR(100) NULL,
  reviewed_at         DATETIME(6)  NULL,
  criteria            TEXT         NULL,
  trade_secret_reason TEXT         NULL,
  note                TEXT         NULL,
  PRIMARY KEY (request_id),
  KEY lgpd_decision_reviews_subject (subject_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
