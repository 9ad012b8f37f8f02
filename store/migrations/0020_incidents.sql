-- The register of security incidents (LGPD art. 48, Res. CD/ANPD 15/2024),
-- kept at least 5 years. Texts are the DPO's; the titulares affected appear
-- only as subject references (lgpd_incident_subjects), never by identifier.
-- due_at is the end of the 3rd business day after known_at (Brasília time),
-- the deadline to notify both the ANPD and the titulares.
CREATE TABLE IF NOT EXISTS lgpd_incidents (
  id                    CHAR(36)     NOT NULL,
  title                 VARCHAR(200) NOT NULL,
  description           TEXT         NOT NULL,
  titular_notice        TEXT         NOT NULL,
  occurred_at           DATETIME(6)  NULL,
  known_at              DATETIME(6)  NOT NULL,
  due_at                DATETIME(6)  NOT NULL,
  -- JSON array of data-map category codes.
  categories_json       TEXT         NOT NULL,
  -- JSON array of data-map entity names whose titulares were all counted.
  entities_json         TEXT         NOT NULL,
  subjects_affected     INT          NOT NULL,
  measures              TEXT         NOT NULL,
  relevant_risk         TINYINT(1)   NOT NULL,
  risk_assessment       TEXT         NOT NULL,
  dpo_contact           VARCHAR(255) NOT NULL,
  anpd_notified_at      DATETIME(6)  NULL,
  anpd_protocol         VARCHAR(100) NULL,
  anpd_notified_by      VARCHAR(100) NULL,
  titulares_notified_at DATETIME(6)  NULL,
  titulares_notified_by VARCHAR(100) NULL,
  titulares_events      INT          NOT NULL DEFAULT 0,
  created_by            VARCHAR(100) NOT NULL,
  created_at            DATETIME(6)  NOT NULL,
  updated_at            DATETIME(6)  NOT NULL,
  -- The DPO credential of the last update (UpdateIncident), if any.
  updated_by            VARCHAR(100) NULL,
  PRIMARY KEY (id),
  KEY ix_lgpd_incidents_known (known_at, id),
  KEY ix_lgpd_incidents_due (due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The titulares an incident affected, by subject reference.
CREATE TABLE IF NOT EXISTS lgpd_incident_subjects (
  incident_id CHAR(36) NOT NULL,
  subject_ref CHAR(36) NOT NULL,
  PRIMARY KEY (incident_id, subject_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
