package store

import (
	"context"
	"testing"
)

// TestMinorRecords: a request keeps its minor band and representative; a
// child's consent keeps its guardian in the evidence, which the update
// trigger lets no one set or change afterwards, and clearing the evidence
// clears it too.
func TestMinorRecords(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	mother := &Representative{Relation: "mae", Name: "Mãe Sintética", DocumentRef: "certidao/arquivo-1"}
	r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{CPF: "52998224725"}, MinorBand: MinorChild, Representative: mother})
	got, err := s.GetRequest(ctx, r.ID)
	if err != nil || got.MinorBand != MinorChild || got.Representative == nil || *got.Representative != *mother {
		t.Fatalf("request read back: %+v %v", got, err)
	}
	adult := createRequest(t, s, NewRequest{Kind: KindConfirm, Subject: Identifiers{CPF: "11144477735"}})
	if got, err := s.GetRequest(ctx, adult.ID); err != nil || got.MinorBand != "" {
		t.Errorf("an adult's request: band %q, %v", got.MinorBand, err)
	}

	rec := consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant,
		Channel: "crm", RequestID: r.ID, Evidence: ConsentEvidence{CapturedBy: "x", Representative: mother}})
	_, history, err := s.ConsentHistoryFor(ctx, Identifiers{CPF: "52998224725"})
	if err != nil || len(history) != 1 || history[0].Evidence.Representative == nil || *history[0].Evidence.Representative != *mother {
		t.Fatalf("the consent's evidence: %+v %v", history, err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE lgpd_consents SET evidence_representative_json = '{"relation":"pai"}' WHERE id = ?`, rec.ID); err == nil {
		t.Error("the guardian in the evidence was changed; the history must be append-only")
	}
	err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ClearConsentEvidence(ctx, []string{r.SubjectRef})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, history, err = s.ConsentHistoryFor(ctx, Identifiers{CPF: "52998224725"})
	if err != nil || len(history) != 1 || history[0].Evidence.Representative != nil || history[0].Evidence.ClearedAt == nil {
		t.Errorf("after clearing the evidence: %+v %v", history, err)
	}
}
