-- A titular under 18 when the request arrived (LGPD art. 14), from the date
-- of birth the data map names (birth_date: true): 'crianca' (under 12, ECA
-- art. 2) or 'adolescente' (12 to 17). NULL: an adult, or no date of birth
-- known. Who acted for the minor is representative_json (0010).
ALTER TABLE lgpd_requests ADD COLUMN minor_band VARCHAR(16) NULL;

-- The parent or guardian who gave a child's consent (Art. 14 §1): relation,
-- name and document reference, as JSON. Part of the evidence (Art. 8 §2):
-- personal data, cleared with the rest of it.
ALTER TABLE lgpd_consents ADD COLUMN evidence_representative_json TEXT NULL;

-- The update trigger of 0003 again, now also refusing to set or change the
-- new evidence column (it may only be cleared).
DROP TRIGGER IF EXISTS lgpd_consents_no_update;

CREATE TRIGGER lgpd_consents_no_update BEFORE UPDATE ON lgpd_consents FOR EACH ROW
BEGIN
  IF NOT (NEW.id <=> OLD.id AND NEW.subject_ref <=> OLD.subject_ref AND NEW.purpose_id <=> OLD.purpose_id
      AND NEW.action <=> OLD.action AND NEW.term_version <=> OLD.term_version
      AND NEW.term_sha256 <=> OLD.term_sha256 AND NEW.at <=> OLD.at AND NEW.channel <=> OLD.channel
      AND NEW.request_id <=> OLD.request_id)
    OR (NEW.evidence_ip IS NOT NULL AND NOT NEW.evidence_ip <=> OLD.evidence_ip)
    OR (NEW.evidence_user_agent IS NOT NULL AND NOT NEW.evidence_user_agent <=> OLD.evidence_user_agent)
    OR (NEW.evidence_captured_by IS NOT NULL AND NOT NEW.evidence_captured_by <=> OLD.evidence_captured_by)
    OR (NEW.evidence_representative_json IS NOT NULL AND NOT NEW.evidence_representative_json <=> OLD.evidence_representative_json) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'lgpd_consents is append-only; only evidence may be cleared';
  END IF;
END;
