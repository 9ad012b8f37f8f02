package service

import (
	"context"
	"fmt"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// endConsentsByErasure ends every consent of r's titular, in tx (the DELETE's
// or ANONYMIZE's transaction): each purpose whose current status is GRANT,
// under any reference of the person, gets a REVOKE on the channel "erasure",
// recorded as any revocation is (a completed CONSENT request by
// store.ErasureActor with its event and ledger leaf, the history row, and a
// consent.revoked event so sharing recipients stop, Art. 18 §6). A partial
// DELETE ends them too: what a hold keeps is kept for the hold's basis, never
// for marketing. The consent records stay as proof; their evidence (IP, user
// agent, who captured it) is kept only as the map's consent_evidence
// retention says, else cleared now. It returns the evidence kept, or nil.
// Run twice, it finds nothing granted the second time.
func endConsentsByErasure(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request) (*store.EvidenceHold, error) {
	person, current, err := tx.CurrentConsentsOf(ctx, r.SubjectRef)
	if err != nil {
		return nil, err
	}
	var granted []store.ConsentRecord
	var ids []string
	for _, c := range current {
		if c.Action == store.ConsentGrant {
			granted = append(granted, c)
			ids = append(ids, c.PurposeID)
		}
	}
	if len(granted) > 0 {
		purposes, err := tx.PurposesForConsent(ctx, ids)
		if err != nil {
			return nil, err
		}
		ws := make([]store.ConsentWrite, 0, len(granted))
		for _, c := range granted {
			rec := store.ConsentRecord{PurposeID: c.PurposeID, Action: store.ConsentRevoke, TermVersion: c.TermVersion,
				TermSHA256: c.TermSHA256, Channel: store.ConsentChannelErasure}
			w := store.ConsentWrite{
				New:        store.NewRequest{Kind: store.KindConsent, CreatedBy: store.ErasureActor, Deadline: t.Config.Policy.Deadline()},
				Record:     rec,
				SubjectRef: person,
				// Binds the revocation to the erasure that made it; no personal data.
				Note: fmt.Sprintf("consent REVOKE %s by erasure request=%s kind=%s term=%s sha256=%s",
					c.PurposeID, r.ID, r.Kind, rec.TermVersion, rec.TermSHA256),
			}
			var shared []string
			if p := purposes[c.PurposeID]; p != nil {
				shared = p.SharedWith
			}
			w.Event = &store.OutboxEvent{Type: store.EventConsentRevoked,
				Data: consentEventData{Purpose: c.PurposeID, TermVersion: rec.TermVersion, SharedWith: shared}}
			w.Endpoints = t.Config.WebhooksFor(w.Event.Type)
			ws = append(ws, w)
		}
		if _, err := tx.WriteConsentBatch(ctx, ws); err != nil {
			return nil, err
		}
	}
	return tx.ReleaseConsentEvidence(ctx, person, t.Map.ConsentEvidence)
}
