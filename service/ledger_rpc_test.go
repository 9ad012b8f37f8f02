package service

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

const (
	checkpointMethod  = lgpdv1.LedgerService_GetCheckpoint_FullMethodName
	entriesMethod     = lgpdv1.LedgerService_ListEntries_FullMethodName
	inclusionMethod   = lgpdv1.LedgerService_GetInclusionProof_FullMethodName
	consistencyMethod = lgpdv1.LedgerService_GetConsistencyProof_FullMethodName
)

// openCheckpoint verifies a checkpoint's note with the fixture's key and
// checks that the message's fields match it.
func (f *fixture) openCheckpoint(t *testing.T, cp *lgpdv1.Checkpoint) *ledger.Checkpoint {
	t.Helper()
	v, err := note.NewVerifier(f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.OpenCheckpoint([]byte(cp.GetNote()), ledger.Origin("titular.test", "demo"), v)
	if err != nil {
		t.Fatalf("checkpoint note: %v", err)
	}
	if c.Size != cp.GetSize() || !bytes.Equal(c.Hash, cp.GetRootHash()) || cp.GetOrigin() != "titular.test/ledger/demo" || cp.GetCreatedAt() == nil {
		t.Fatalf("checkpoint %v does not match its note (size %d)", cp, c.Size)
	}
	return c
}

// TestLedgerRPCs: the signed checkpoint covers every state change; entries
// are the canonical leaves with their hashes; inclusion and consistency
// proofs verify against checkpoints; ranges beyond the ledger are refused.
func TestLedgerRPCs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	var sizes []int64
	f.ledger.OnSize = func(tenant string, size int64) {
		if tenant == "demo" {
			sizes = append(sizes, size)
		}
	}
	s := f.scenario(seed.ScenarioPEP)
	first := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: s.CPF}})

	// The sequencer integrates the three pending leaves, once.
	n, err := f.ledger.Sequence(context.Background(), f.tenant())
	if err != nil || n != 3 || len(sizes) != 1 || sizes[0] != 3 {
		t.Fatalf("Sequence: %d leaves, %v; OnSize saw %v", n, err, sizes)
	}
	if n, err := f.ledger.Sequence(context.Background(), f.tenant()); err != nil || n != 0 || len(sizes) != 1 {
		t.Errorf("Sequence with nothing pending: %d, %v; OnSize saw %v", n, err, sizes)
	}
	cp1 := must[*lgpdv1.Checkpoint](f.backend, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"})
	c1 := f.openCheckpoint(t, cp1)
	if c1.Size != 3 {
		t.Fatalf("checkpoint size %d, want the CONFIRM's 3 leaves", c1.Size)
	}
	// Unchanged tree, same checkpoint.
	if again := must[*lgpdv1.Checkpoint](f.auditor, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"}); again.GetNote() != cp1.GetNote() {
		t.Error("a checkpoint of an unchanged tree was signed again")
	}

	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	f.work()
	// Reads integrate what is pending first: the EXTRACT's three leaves.
	all := must[*lgpdv1.ListEntriesResponse](f.auditor, f, entriesMethod, &lgpdv1.ListEntriesRequest{Tenant: "demo"})
	if len(all.GetEntries()) != 6 {
		t.Fatalf("%d entries, want 6", len(all.GetEntries()))
	}
	for i, e := range all.GetEntries() {
		leaf, err := ledger.Unmarshal(e.GetLeaf())
		if err != nil || e.GetIndex() != uint64(i) || !bytes.Equal(e.GetLeafHash(), ledger.HashLeaf(e.GetLeaf())) {
			t.Errorf("entry %d: index %d, %v; leaf hash must be the RFC 6962 hash of the leaf", i, e.GetIndex(), err)
		}
		want := first.GetId()
		if i >= 3 {
			want = x.GetId()
		}
		if leaf.RequestID != want || leaf.SubjectRef != first.GetSubjectRef() {
			t.Errorf("entry %d is %s of %s, want request %s", i, leaf.To, leaf.RequestID, want)
		}
	}
	part := must[*lgpdv1.ListEntriesResponse](f.dpo, f, entriesMethod, &lgpdv1.ListEntriesRequest{Tenant: "demo", Start: 2, End: 4})
	if len(part.GetEntries()) != 2 || part.GetEntries()[0].GetIndex() != 2 {
		t.Errorf("entries [2, 4): %v", part.GetEntries())
	}

	// Inclusion: in the latest checkpoint, and in the older one.
	cp2 := must[*lgpdv1.Checkpoint](f.auditor, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"})
	c2 := f.openCheckpoint(t, cp2)
	if c2.Size != 6 {
		t.Fatalf("second checkpoint size %d", c2.Size)
	}
	for _, tc := range []struct {
		index, size uint64
		root        []byte
	}{{4, 0, c2.Hash}, {0, 0, c1.Hash}, {1, 3, c1.Hash}, {5, 6, c2.Hash}} {
		p := must[*lgpdv1.InclusionProof](f.backend, f, inclusionMethod, &lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: tc.index, TreeSize: tc.size})
		if tc.size != 0 && p.GetTreeSize() != tc.size {
			t.Errorf("proof of %d in %d is for size %d", tc.index, tc.size, p.GetTreeSize())
		}
		root := tc.root
		if p.GetTreeSize() == c2.Size {
			root = c2.Hash
		}
		if err := ledger.VerifyInclusion(tc.index, p.GetTreeSize(), all.GetEntries()[tc.index].GetLeafHash(), p.GetHashes(), root); err != nil {
			t.Errorf("inclusion of %d in %d: %v", tc.index, p.GetTreeSize(), err)
		}
	}
	// An auditor recomputes the tree from the leaves alone and finds the
	// signed root.
	r, err := ledger.NewRange(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all.GetEntries() {
		if err := r.Append(ledger.HashLeaf(e.GetLeaf()), nil); err != nil {
			t.Fatal(err)
		}
	}
	if root, err := ledger.Root(r); err != nil || !bytes.Equal(root, c2.Hash) {
		t.Errorf("the root recomputed from the entries is not the checkpoint's (%v)", err)
	}
	cons := must[*lgpdv1.ConsistencyProof](f.auditor, f, consistencyMethod, &lgpdv1.GetConsistencyProofRequest{Tenant: "demo", First: c1.Size})
	if cons.GetSecond() != c2.Size || ledger.VerifyConsistency(c1.Size, c2.Size, cons.GetHashes(), c1.Hash, c2.Hash) != nil {
		t.Errorf("consistency %d -> %d does not verify: %v", c1.Size, cons.GetSecond(), cons)
	}
	explicit := must[*lgpdv1.ConsistencyProof](f.dpo, f, consistencyMethod, &lgpdv1.GetConsistencyProofRequest{Tenant: "demo", First: 3, Second: 6})
	if ledger.VerifyConsistency(3, 6, explicit.GetHashes(), c1.Hash, c2.Hash) != nil {
		t.Error("consistency 3 -> 6 does not verify")
	}

	for _, tc := range []struct {
		name, method, key string
		req               any
		code              codes.Code
		reason            string
	}{
		{"entries start after end", entriesMethod, keyDPO, &lgpdv1.ListEntriesRequest{Tenant: "demo", Start: 4, End: 2}, codes.InvalidArgument, "BAD_RANGE"},
		{"entries range too large", entriesMethod, keyDPO, &lgpdv1.ListEntriesRequest{Tenant: "demo", Start: 0, End: 5000}, codes.InvalidArgument, "RANGE_TOO_LARGE"},
		{"entries beyond the ledger", entriesMethod, keyDPO, &lgpdv1.ListEntriesRequest{Tenant: "demo", Start: 0, End: 7}, codes.OutOfRange, "BEYOND_LEDGER"},
		{"entries by the backend", entriesMethod, keyBackend, &lgpdv1.ListEntriesRequest{Tenant: "demo"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"entries of another tenant", entriesMethod, keyOther, &lgpdv1.ListEntriesRequest{Tenant: "demo"}, codes.PermissionDenied, "TENANT_NOT_ALLOWED"},
		{"entries of an unknown tenant", entriesMethod, keyDPO, &lgpdv1.ListEntriesRequest{Tenant: "nowhere"}, codes.NotFound, "TENANT_NOT_FOUND"},
		{"proof beyond the ledger", inclusionMethod, keyDPO, &lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: 999}, codes.OutOfRange, "BEYOND_LEDGER"},
		{"proof in a tree beyond the ledger", inclusionMethod, keyDPO, &lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: 1, TreeSize: 99}, codes.OutOfRange, "BEYOND_LEDGER"},
		{"proof of an index outside its tree", inclusionMethod, keyDPO, &lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: 4, TreeSize: 3}, codes.InvalidArgument, "BAD_INDEX"},
		{"consistency beyond the ledger", consistencyMethod, keyDPO, &lgpdv1.GetConsistencyProofRequest{Tenant: "demo", First: 1, Second: 99}, codes.OutOfRange, "BEYOND_LEDGER"},
		{"consistency backwards", consistencyMethod, keyDPO, &lgpdv1.GetConsistencyProofRequest{Tenant: "demo", First: 5, Second: 3}, codes.InvalidArgument, "BAD_RANGE"},
		{"checkpoint without credentials", checkpointMethod, "", &lgpdv1.GetCheckpointRequest{Tenant: "demo"}, codes.Unauthenticated, "MISSING_CREDENTIALS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := caller(tc.key)
			if tc.key == "" {
				ctx = context.Background()
			}
			var err error
			switch req := tc.req.(type) {
			case *lgpdv1.ListEntriesRequest:
				_, err = call[*lgpdv1.ListEntriesResponse](ctx, f, tc.method, req)
			case *lgpdv1.GetInclusionProofRequest:
				_, err = call[*lgpdv1.InclusionProof](ctx, f, tc.method, req)
			case *lgpdv1.GetConsistencyProofRequest:
				_, err = call[*lgpdv1.ConsistencyProof](ctx, f, tc.method, req)
			case *lgpdv1.GetCheckpointRequest:
				_, err = call[*lgpdv1.Checkpoint](ctx, f, tc.method, req)
			}
			wantCode(t, err, tc.code, tc.reason)
		})
	}

	// Receipts: none without the ledger, none for an unknown request.
	bare := NewRequests(f.reg, f.log, nil)
	_, err = bare.GetReceipt(f.dpo, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	if st := status.Convert(err); st.Code() != codes.Unimplemented {
		t.Errorf("receipt without a ledger: %v", err)
	}
	_, err = call[*lgpdv1.Receipt](f.dpo, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000"})
	wantCode(t, err, codes.NotFound, "NOT_FOUND")
	_, err = call[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: "x"})
	wantCode(t, err, codes.InvalidArgument, "BAD_REQUEST_ID")
}

// TestLedgerKeyRotation: a server whose signing key changed without the
// old verifier key listed refuses to sign over checkpoints it cannot
// verify, with DATA_LOSS telling the operator what to run; given the old
// key as a previous verifier, it extends the history.
func TestLedgerKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioPEP).CPF}})
	cp1 := f.openCheckpoint(t, must[*lgpdv1.Checkpoint](f.dpo, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"}))

	skey, vkey, err := ledger.GenerateKey("titular.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(skey)
	verifier, _ := ledger.NewVerifier(vkey)
	rotated := NewLedger(f.reg, signer, verifier, nil, "titular.test", f.log)
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: unknownCPF}})
	f.ledger = rotated
	_, err = call[*lgpdv1.Checkpoint](f.dpo, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"})
	wantCode(t, err, codes.DataLoss, "LEDGER_INCONSISTENT")
	if err != nil && !bytes.Contains([]byte(err.Error()), []byte("ledger verify")) {
		t.Errorf("the message must say what to run: %v", err)
	}

	old, err := ledger.NewVerifier(f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	f.ledger = NewLedger(f.reg, signer, verifier, []note.Verifier{old}, "titular.test", f.log)
	cp := must[*lgpdv1.Checkpoint](f.dpo, f, checkpointMethod, &lgpdv1.GetCheckpointRequest{Tenant: "demo"})
	c, err := ledger.OpenCheckpoint([]byte(cp.GetNote()), ledger.Origin("titular.test", "demo"), verifier)
	if err != nil || c.Size != cp1.Size+3 {
		t.Errorf("checkpoint after rotation: %v, %v", c, err)
	}
}
