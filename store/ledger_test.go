package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/ledger"
)

// integrate runs the sequencer until nothing is pending.
func integrate(t testing.TB, s *Store) {
	t.Helper()
	if _, err := s.Integrate(context.Background()); err != nil {
		t.Fatalf("integrate: %v", err)
	}
}

func verifyLedger(t testing.TB, s *Store, c ledger.Checks) ledger.Report {
	t.Helper()
	rep, err := s.VerifyLedger(context.Background(), c)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// TestLedgerSameTransaction: a rolled-back change leaves no leaf; a
// committed one has exactly its leaf, with the request's fields.
func TestLedgerSameTransaction(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	errBoom := errors.New("boom")
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, _, err := tx.InsertRequest(ctx, NewRequest{Kind: KindExtract, CreatedBy: "backend",
			Subject: Identifiers{CPF: "52998224725"}, Deadline: time.Hour}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	integrate(t, s)
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_ledger_entries") + countRows(t, db, "SELECT COUNT(*) FROM lgpd_ledger_pending"); n != 0 {
		t.Fatalf("a rolled-back change left %d leaves", n)
	}

	r := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}})
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_ledger_pending"); n != 1 {
		t.Fatalf("committed change has %d pending leaves, want 1", n)
	}
	integrate(t, s)
	e, err := s.LastRequestEntry(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Unmarshal(e.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 0 || l.Event != ledger.EventRequestStatus || l.Kind != string(KindExtract) || l.RequestID != r.ID ||
		l.SubjectRef != r.SubjectRef || l.From != "" || l.To != string(StatusReceived) || !l.At.Equal(r.ReceivedAt) {
		t.Fatalf("leaf %+v does not record request %+v", l, r)
	}
	head, err := s.LedgerHead(ctx)
	if err != nil || head.Size != 1 || !bytes.Equal(head.Root, ledger.HashLeaf(e.Leaf)) {
		t.Fatalf("head %+v, %v", head, err)
	}
	// A transition is a leaf too.
	if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Transition(ctx, r.ID, []Status{StatusReceived}, StatusCanceled, "dpo", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	integrate(t, s)
	e, _ = s.LastRequestEntry(ctx, r.ID)
	if l, _ := ledger.Unmarshal(e.Leaf); e.Seq != 1 || l.From != string(StatusReceived) || l.To != string(StatusCanceled) {
		t.Fatalf("transition leaf %d %+v", e.Seq, l)
	}
	verifyLedger(t, s, ledger.Checks{})
}

// TestLedgerTriggers: the database itself refuses UPDATE and DELETE.
func TestLedgerTriggers(t *testing.T) {
	s, db := newStore(t)
	// Two leaves, so a node exists for the node triggers to guard.
	createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}})
	createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}})
	integrate(t, s)
	if _, err := s.SaveCheckpoint(context.Background(), 1, ledger.EmptyRoot(), "x"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE lgpd_ledger_entries SET leaf = 'x'", "DELETE FROM lgpd_ledger_entries",
		"UPDATE lgpd_ledger_nodes SET hash = hash", "DELETE FROM lgpd_ledger_nodes",
		"UPDATE lgpd_ledger_checkpoints SET note = 'y'", "DELETE FROM lgpd_ledger_checkpoints",
	} {
		_, err := db.Exec(q)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || string(me.SQLState[:]) != "45000" {
			t.Errorf("%s: %v, want SQLSTATE 45000 from the trigger", q, err)
		}
	}
}

// TestLedgerAgainstReference cross-checks the MySQL-backed tree with the
// merkle module's in-memory reference tree over thousands of appends,
// integrated in irregular batches: roots, inclusion and consistency proofs
// from stored nodes, at many sizes.
func TestLedgerAgainstReference(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ref := testonly.New(rfc6962.DefaultHasher)
	rnd := rand.New(rand.NewPCG(1, 2))
	const total = 3000
	for appended := 0; appended < total; {
		batch := 1 + rnd.IntN(40)
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
			for i := range batch {
				if err := tx.AppendLeaf(ctx, benchLeaf(appended+i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			b, _ := benchLeaf(appended + i).Marshal()
			ref.AppendData(b)
		}
		appended += batch
		if rnd.IntN(4) == 0 || appended >= total {
			integrate(t, s)
			checkAgainstReference(t, s, ref, rnd)
		}
	}
	rep := verifyLedger(t, s, ledger.Checks{})
	if rep.Size != ref.Size() || rep.Size < total || !bytes.Equal(rep.Root, ref.Hash()) {
		t.Fatalf("verify report %d %x, reference %x", rep.Size, rep.Root, ref.Hash())
	}
}

func checkAgainstReference(t *testing.T, s *Store, ref *testonly.Tree, rnd *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	head, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Size != ref.Size() || !bytes.Equal(head.Root, ref.Hash()) {
		t.Fatalf("head %d %x, reference %d %x", head.Size, head.Root, ref.Size(), ref.Hash())
	}
	for range 20 {
		size := 1 + rnd.Uint64N(head.Size)
		index := rnd.Uint64N(size)
		got, err := s.InclusionProof(ctx, index, size)
		want, _ := ref.InclusionProof(index, size)
		if err != nil || !equalHashes(got, want) {
			t.Fatalf("inclusion proof (%d, %d) differs from the reference: %v", index, size, err)
		}
		size1 := rnd.Uint64N(size + 1)
		got, err = s.ConsistencyProof(ctx, size1, size)
		want, _ = ref.ConsistencyProof(size1, size)
		if err != nil || !equalHashes(got, want) {
			t.Fatalf("consistency proof (%d, %d) differs from the reference: %v", size1, size, err)
		}
	}
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// benchLeaf is a synthetic leaf: no personal data, distinct per i.
func benchLeaf(i int) ledger.Leaf {
	return ledger.Leaf{Event: ledger.EventRequestStatus, Kind: string(KindExtract),
		RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), SubjectRef: fmt.Sprintf("10000000-0000-4000-8000-%012d", i%977),
		From: string(StatusReceived), To: string(StatusProcessing), At: time.Unix(1_741_600_000+int64(i), 0)}
}

// TestLedgerConcurrentRequests: many goroutines creating and moving
// requests on one tenant, with two sequencers racing, give a contiguous,
// verifiable ledger with exactly one leaf per recorded event.
func TestLedgerConcurrentRequests(t *testing.T) {
	s, db := newStore(t)
	db.SetMaxOpenConns(40)
	ctx, cancel := context.WithCancel(context.Background())
	var seqWG sync.WaitGroup
	for range 2 {
		seqWG.Go(func() {
			for ctx.Err() == nil {
				if _, err := s.Integrate(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("sequencer: %v", err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	const writers, each = 24, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Some titulares recur, so the subject index races too.
				cpf := validCPF(uint64(w*each+i) % 50)
				var r *Request
				err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
					var err error
					r, _, err = tx.InsertRequest(ctx, NewRequest{Kind: KindExtract, CreatedBy: "backend",
						Subject: Identifiers{CPF: cpf}, Deadline: time.Hour})
					return err
				})
				if err == nil && i%2 == 0 {
					err = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
						_, err := tx.Transition(ctx, r.ID, []Status{StatusReceived}, StatusCanceled, "backend", "")
						return err
					})
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	cancel()
	seqWG.Wait()
	integrate(t, s)

	events := countRows(t, db, "SELECT COUNT(*) FROM lgpd_request_events")
	if want := writers * each * 3 / 2; events != want {
		t.Fatalf("%d events, want %d", events, want)
	}
	rep := verifyLedger(t, s, ledger.Checks{})
	if rep.Size != uint64(events) {
		t.Fatalf("ledger has %d entries for %d events: leaves were lost", rep.Size, events)
	}
	// Each event has its leaf: compare (request, to-state) multisets.
	var fromLeaves []string
	fromEvents := crmtest.Column[string](t, db, "SELECT CONCAT(request_id, '/', to_status) FROM lgpd_request_events")
	entries, err := s.LedgerEntries(context.Background(), 0, rep.Size)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]bool{}
	for _, e := range entries {
		l, err := ledger.Unmarshal(e.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		fromLeaves = append(fromLeaves, l.RequestID+"/"+l.To)
		if refs[l.SubjectRef] == nil {
			refs[l.SubjectRef] = map[string]bool{}
		}
		refs[l.SubjectRef][l.RequestID] = true
	}
	sort.Strings(fromEvents)
	sort.Strings(fromLeaves)
	if fmt.Sprint(fromEvents) != fmt.Sprint(fromLeaves) {
		t.Fatal("the leaves do not match the recorded events one to one")
	}
	if len(refs) != 50 {
		t.Errorf("%d subject references for 50 titulares", len(refs))
	}
}

// validCPF returns a valid, synthetic CPF for n (check digits computed).
func validCPF(n uint64) string {
	d := []byte(fmt.Sprintf("%09d", 100000000+n*7919%899999999))
	for _, size := range []int{9, 10} {
		sum := 0
		for i := 0; i < size; i++ {
			sum += int(d[i]-'0') * (size + 1 - i)
		}
		c := sum * 10 % 11 % 10
		d = append(d, byte('0'+c))
	}
	return string(d)
}
