package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/internal/brtime"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Children and adolescents (LGPD art. 14).
//
// When the tenant's data map names the titular's date of birth
// (birth_date: true), every request looks it up in the CRM and records the
// titular's age band on that day: "crianca" under 12 (ECA art. 2),
// "adolescente" from 12 to 17, nothing for an adult or when the CRM holds
// no date. The band and the representative, when one acts, are in the
// request (Request.minor, Request.representative), its first ledger leaf
// (by relation and a keyed digest) and the titular's export.
//
// A GRANT of consent for a child is accepted only as the specific consent
// of a parent or legal guardian (Art. 14 §1): the request must name a
// representative whose relation is one of guardianRelations; the
// representative is kept in the consent's evidence. A REFUSE or REVOKE is
// accepted without one: saying no never waits for an adult, and it
// protects the child. An adolescent may consent in person (Art. 14 caput
// asks for their best interest, not a parent's consent; the Civil Code
// lets a relatively incapable person act with assistance, which the CRM
// may record through a representative): the band is recorded so the DPO
// can review such consents.

// Parent and guardian relations, beside RelationGuardian.
const (
	RelationMother = "mae"
	RelationFather = "pai"
	// RelationTutor is a tutor appointed by a court (Código Civil art. 1.728).
	RelationTutor = "tutor"
)

// guardianRelations may give a child's consent (Art. 14 §1: "pelo menos um
// dos pais ou pelo responsável legal").
var guardianRelations = []string{RelationMother, RelationFather, RelationTutor, RelationGuardian}

// representativeRelations are every relation a representative may have.
var representativeRelations = append([]string{RelationAttorney}, guardianRelations...)

// ageBand is the band of someone born on birth, on the civil date of now
// in São Paulo; "" for an adult.
func ageBand(birth crm.Date, now time.Time) string {
	y, m, d := now.In(brtime.Location()).Date()
	switch age := birth.AgeOn(crm.Date{Year: y, Month: m, Day: d}); {
	case age < 12:
		return store.MinorChild
	case age < 18:
		return store.MinorAdolescent
	}
	return ""
}

// minorBand looks up the titular's date of birth in the CRM (only when the
// map names one) and returns their band today. The date itself is kept
// nowhere.
func minorBand(ctx context.Context, t *tenant.Tenant, ids store.Identifiers) (string, error) {
	if t.Map == nil || !t.Map.HasBirthDate() {
		return "", nil
	}
	birth, ok, err := crm.BirthDate(ctx, t.Store.CRM(), t.Map, ids)
	if err != nil || !ok {
		return "", err
	}
	return ageBand(birth, time.Now()), nil
}

// minorConsentRule refuses a child's GRANT that no parent or guardian gives.
func minorConsentRule(n store.NewRequest, ch consentChange) error {
	if n.MinorBand != store.MinorChild || ch.action != store.ConsentGrant {
		return nil
	}
	if n.Representative == nil || !slices.Contains(guardianRelations, n.Representative.Relation) {
		return errorf(codes.FailedPrecondition, "GUARDIAN_CONSENT_REQUIRED",
			"the titular is a child (under 12, ECA art. 2): consent is given by a parent or legal guardian (LGPD art. 14 §1); "+
				"send representative {relation: %s, name, document_ref} with the guardian's name and where the proof of the relation is kept",
			strings.Join(guardianRelations, " | "))
	}
	return nil
}

// minorToProto is what the API says of a minor titular; nil for an adult.
func minorToProto(band string) *lgpdv1.Minor {
	if band == "" {
		return nil
	}
	return &lgpdv1.Minor{Band: band}
}
