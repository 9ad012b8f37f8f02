package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// testRoutes sends every event to "banco" (opted in to the CPF) and "crm".
type testRoutes struct{}

func (testRoutes) Subscribers(string, []string) []string { return []string{"banco", "crm"} }

func (testRoutes) Policy(endpoint string) EndpointPolicy {
	if endpoint == "banco" {
		return EndpointPolicy{Recipient: "Banco X", Identifiers: []string{"cpf", "phone"}}
	}
	return EndpointPolicy{}
}

// TestEventPrivateSealedPerDelivery: the identifiers are sealed with the
// event's key (the CPF never in plain text), a delivery opens only the kinds
// it records (banco: cpf, not the absent phone nor the e-mail it did not
// ask for), crm's delivery opens nothing, and a sealed part moved to another
// event's row does not open.
func TestEventPrivateSealedPerDelivery(t *testing.T) {
	s, db := newStore(t)
	WithEvents(testRoutes{}, []byte(strings.Repeat("k", 32)))(s)
	ctx := context.Background()
	const cpf = "52998224725" // synthetic, valid check digits
	var ev, other *OutboxEvent
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		p := &EventPrivate{Identifiers: Identifiers{CPF: cpf, Email: "titular@example.com"}, NewValues: map[string]string{"profissao": "Arquiteta"}}
		if ev, err = tx.EnqueueEvent(ctx, OutboxEvent{Type: EventSubjectCorrected, SubjectRef: "00000000-0000-4000-8000-000000000001", Private: p},
			testRoutes{}.Subscribers("", nil)); err != nil {
			return err
		}
		other, err = tx.EnqueueEvent(ctx, OutboxEvent{Type: EventSubjectCorrected, Private: p}, []string{"banco"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_outbox WHERE LOCATE(?, private_enc) > 0 OR LOCATE(?, data_json) > 0", []byte(cpf), cpf); n != 0 {
		t.Fatalf("the CPF is stored in plain text (%d rows)", n)
	}
	ds, err := s.ClaimDeliveries(ctx, 10, time.Minute)
	if err != nil || len(ds) != 3 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	for _, d := range ds {
		p, err := s.OpenPrivate(d)
		switch {
		case err != nil:
			t.Fatalf("%s: %v", d.Endpoint, err)
		case d.Endpoint == "crm":
			if p != nil || d.Recipient != "" || d.IdentifiersSent != nil {
				t.Errorf("crm's delivery carries %+v (%+v)", p, d)
			}
		default:
			if p == nil || p.Identifiers.CPF != cpf || p.Identifiers.Email != "" || p.NewValues["profissao"] != "Arquiteta" ||
				d.Recipient != "Banco X" || !slices.Equal(d.IdentifiersSent, []string{"cpf"}) {
				t.Errorf("banco's delivery carries %+v (%+v)", p, d)
			}
		}
		if d.Event.Seq == ev.Seq && d.Endpoint == "banco" {
			moved := d
			moved.Event.ID = other.ID
			if _, err := s.OpenPrivate(moved); err == nil || strings.Contains(err.Error(), cpf) {
				t.Errorf("a sealed part opened under another event: %v", err)
			}
		}
	}
}
