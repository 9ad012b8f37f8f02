package service

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// TestDestructiveRequestsOfOneTitularRunInTurn: a DELETE and an ANONYMIZE
// of one titular never run at once. While the DELETE is PROCESSING under a
// live lease, no replica claims the ANONYMIZE (an EXTRACT of the same
// titular is still claimed); while a worker's transaction holds the
// titular's lock, even a DELETE whose lease expired is not claimed again
// and a CORRECT is refused (ABORTED, SUBJECT_BUSY). Run in turn, the
// ANONYMIZE after the DELETE reports only what it changed: nothing.
func TestDestructiveRequestsOfOneTitularRunInTurn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioConsentOnlyLead)
	subject := &lgpdv1.Subject{Email: s.Email}
	ctx := context.Background()
	st := f.tenant().Store
	del := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: subject})
	anon := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: subject})

	first, err := st.Claim(ctx, "replica-a", time.Hour, WorkerKinds)
	if err != nil || first.ID != del.GetId() {
		t.Fatalf("first claim: %v %v; want the DELETE", first, err)
	}
	if r, err := st.Claim(ctx, "replica-b", time.Hour, WorkerKinds); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claimed %v (%v) while the titular's DELETE runs", r, err)
	}
	// Reads are not destructive: an EXTRACT of the titular is claimed.
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: subject})
	if r, err := st.Claim(ctx, "replica-b", time.Hour, WorkerKinds); err != nil || r.ID != x.GetId() {
		t.Fatalf("claim with the DELETE running: %v %v; want the EXTRACT", r, err)
	}
	if _, err := f.db.Exec("UPDATE lgpd_requests SET status = 'CANCELED', lease_owner = NULL, lease_until = NULL WHERE id = ?", x.GetId()); err != nil {
		t.Fatal(err)
	}

	// Replica A's worker is inside the DELETE's transaction, holding the
	// titular's lock, when its lease runs out.
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- st.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.LockSubject(ctx, del.GetSubjectRef()); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	if _, err := f.db.Exec("UPDATE lgpd_requests SET lease_until = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), del.GetId()); err != nil {
		t.Fatal(err)
	}
	if r, err := st.Claim(ctx, "replica-b", time.Hour, WorkerKinds); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claimed %v (%v) while a worker's transaction holds the titular", r, err)
	}
	_, err = call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT,
		Subject: subject, Correction: &lgpdv1.Correction{Fields: map[string]string{"nome": "Maria Teste"}}})
	wantCode(t, err, codes.Aborted, "SUBJECT_BUSY", s.Email)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// In turn: the DELETE first (its worker gave it back), then the ANONYMIZE.
	if _, err := f.db.Exec("UPDATE lgpd_requests SET status = 'RECEIVED', lease_owner = NULL, lease_until = NULL, attempts = 0 WHERE id = ?", del.GetId()); err != nil {
		t.Fatal(err)
	}
	if n := f.work(); n != 2 {
		t.Fatalf("worker took %d requests, want the DELETE and the ANONYMIZE", n)
	}
	d, a := f.get(del.GetId()), f.get(anon.GetId())
	var deleted int64
	for _, c := range d.GetResult().GetDelete().GetEntities() {
		deleted += c.GetDeleted()
	}
	if d.GetStatus() != lgpdv1.RequestStatus_COMPLETED || deleted == 0 {
		t.Fatalf("DELETE: %v", d)
	}
	if a.GetStatus() != lgpdv1.RequestStatus_COMPLETED || a.GetResult().GetAnonymize().GetTotalRows() != 0 {
		t.Errorf("ANONYMIZE after the DELETE reports %d rows anonymized; the DELETE had removed them", a.GetResult().GetAnonymize().GetTotalRows())
	}
	if rs := a.GetReasons(); len(rs) != 1 || rs[0].GetCode() != "DATA_ALREADY_ERASED" {
		t.Errorf("the ANONYMIZE does not say why it changed nothing: %v", rs)
	}
	if a.GetCompletedAt().AsTime().Before(d.GetCompletedAt().AsTime()) {
		t.Error("the ANONYMIZE completed before the DELETE")
	}
}

// TestConcurrentClaimsTakeOneDestructiveRequestPerTitular: replicas
// claiming at once take one of a titular's destructive requests, never two.
func TestConcurrentClaimsTakeOneDestructiveRequestPerTitular(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioProspect)
	subject := &lgpdv1.Subject{Cpf: s.CPF}
	for _, k := range []lgpdv1.RequestKind{lgpdv1.RequestKind_DELETE, lgpdv1.RequestKind_ANONYMIZE, lgpdv1.RequestKind_BLOCK} {
		f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: k, Subject: subject})
	}
	st := f.tenant().Store
	const replicas = 6
	var wg sync.WaitGroup
	claimed := make([]*store.Request, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			claimed[i], errs[i] = st.Claim(context.Background(), "replica-"+string(rune('a'+i)), time.Hour, WorkerKinds)
		})
	}
	close(start)
	wg.Wait()
	n := 0
	for i, err := range errs {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("replica %d: %v", i, err)
		}
	}
	if n != 1 {
		t.Errorf("%d of the titular's destructive requests claimed at once, want 1", n)
	}
	if c := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE status = 'PROCESSING'"); c != 1 {
		t.Errorf("%d requests PROCESSING, want 1", c)
	}
}

// TestDestructiveRequestsOfOnePersonAcrossMergedReferences: a DELETE created
// under one reference and an ANONYMIZE under another are one person's once
// a later request links the two identifiers (the references merge): the
// ANONYMIZE is not claimed while the DELETE runs, though each request keeps
// the reference it was created under.
func TestDestructiveRequestsOfOnePersonAcrossMergedReferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st := f.tenant().Store
	const email, cpf = "pessoa.fundida@example.org", "52998224725"
	del := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Email: email}})
	anon := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: &lgpdv1.Subject{Cpf: cpf}})
	if del.GetSubjectRef() == anon.GetSubjectRef() {
		t.Fatal("the two identifiers must start as two references")
	}
	first, err := st.Claim(ctx, "replica-a", time.Hour, WorkerKinds)
	if err != nil || first.ID != del.GetId() {
		t.Fatalf("first claim: %v %v; want the DELETE", first, err)
	}
	// A request carrying both identifiers: one person, the references merge.
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: email, Cpf: cpf}})
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_merges"); n != 1 {
		t.Fatalf("%d merges recorded, want 1", n)
	}
	if r, err := st.Claim(ctx, "replica-b", time.Hour, WorkerKinds); !errors.Is(err, store.ErrNotFound) {
		var kind store.Kind
		if r != nil {
			kind = r.Kind
		}
		t.Fatalf("claimed a %s (%v) while the same person's DELETE runs under the other reference", kind, err)
	}
}
