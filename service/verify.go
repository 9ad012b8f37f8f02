package service

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// needsVerification reports whether a new request must wait for the
// titular's identity to be verified: the tenant's policy says so and the
// caller did not verify it. A titular-bound token's portal did, unless a
// representative asks through it: the representation is the DPO's to
// verify.
func needsVerification(ctx context.Context, t *tenant.Tenant, r *store.Request) bool {
	if _, bound := boundTitular(ctx); bound && r.Representative == nil {
		return false
	}
	return t.Config.Policy.NeedsVerification(string(r.Kind))
}

// Relations a representative may have to the titular.
const (
	RelationAttorney = "procurador"
	RelationGuardian = "responsavel_legal"
)

// representativeOf validates the representative a request names, if any.
// The name is the representative's own and stays in the request's record;
// the document reference reaches the history, so it may hold no personal
// data.
func representativeOf(in *lgpdv1.Representative) (*store.Representative, error) {
	if in == nil {
		return nil, nil
	}
	if !slices.Contains(representativeRelations, in.GetRelation()) {
		return nil, invalid("BAD_REPRESENTATIVE", "representative.relation must be one of %s", strings.Join(representativeRelations, ", "))
	}
	if name := strings.TrimSpace(in.GetName()); name == "" || len(name) > 200 || !utf8.ValidString(name) {
		return nil, invalid("BAD_REPRESENTATIVE", "representative.name is required: the representative's name as on the document, UTF-8 of at most 200 bytes")
	}
	if err := historyText("representative.document_ref", in.GetDocumentRef(), 200, true); err != nil {
		return nil, err
	}
	return &store.Representative{Relation: in.GetRelation(), Name: strings.TrimSpace(in.GetName()), DocumentRef: in.GetDocumentRef()}, nil
}

// personalData matches what must not be written in a note or reference
// kept in a request's history (and so in its ledger leaf): an e-mail
// address, a formatted CPF, or a run of digits long enough to be a CPF or
// a phone number.
var personalData = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[^\s@]+|\d{3}\.\d{3}\.\d{3}-\d{2}|\d[\d .()-]{9,}\d`)

// historyText checks a free text kept in a request's history.
func historyText(field, v string, maxLen int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid("VERIFICATION_INCOMPLETE", "%s is required", field)
	case len(v) > maxLen || !utf8.ValidString(v):
		return invalid("BAD_TEXT", "%s must be UTF-8 of at most %d bytes", field, maxLen)
	case personalData.MatchString(v):
		return invalid("PERSONAL_DATA_IN_TEXT", "%s must hold no personal data (it looks like an e-mail, CPF or phone number): refer to where the evidence is kept instead", field)
	}
	return nil
}

// VerifyRequest records how a DPO verified the titular's identity and lets
// the request go on: AWAITING_VERIFICATION -> AWAITING_APPROVAL when the
// policy also wants approval, else RECEIVED, where the workers take it.
// The method, evidence reference and note are kept in the request's
// history.
func (s *Requests) VerifyRequest(ctx context.Context, in *lgpdv1.VerifyRequestRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	for _, c := range []struct {
		field, v string
		max      int
		required bool
	}{
		{"method", in.GetMethod(), 64, true},
		{"evidence_ref", in.GetEvidenceRef(), 200, true},
		{"note", in.GetNote(), 500, false},
	} {
		if err := historyText(c.field, c.v, c.max, c.required); err != nil {
			return nil, err
		}
	}
	note := "identity verified: " + in.GetMethod() + "; evidence: " + in.GetEvidenceRef()
	if in.GetNote() != "" {
		note += "; " + in.GetNote()
	}
	t, r, err := s.lookup(ctx, in.GetTenant(), in.GetId())
	if err != nil {
		return nil, err
	}
	next := store.StatusReceived
	// A REVIEW waits for the DPO's answer (CompleteReview), never for a worker.
	if t.Config.Policy.NeedsApproval(string(r.Kind)) || r.Kind == store.KindReview { // a request's kind never changes
		next = store.StatusAwaitingApproval
	}
	out, err := s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, _ *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		return tx.Transition(ctx, in.GetId(), []store.Status{store.StatusAwaitingVerification}, next, p.Name, note)
	})
	if err != nil {
		return nil, err
	}
	if next == store.StatusReceived {
		s.wake(in.GetTenant())
	}
	return out, nil
}
