-- Consent evidence kept as proof after the titular's erasure, when the data
-- map says so (consent_evidence: {retention: …}): the date from which the
-- sweep clears it, each record's date plus keep_years. NULL while the
-- titular has not been erased, and for evidence cleared at once.
-- lgpd_consents' update trigger leaves this column free: it is when the
-- proof ends, not part of the proof.
ALTER TABLE lgpd_consents ADD COLUMN evidence_release_at DATETIME(6) NULL;

CREATE INDEX ix_lgpd_consents_evidence_release ON lgpd_consents (evidence_release_at);
