package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/ledger/witnesstest"
)

// memLog is a small in-memory ledger: leaf hashes and a signer.
type memLog struct {
	hashes [][]byte
	signer note.Signer
	origin string
}

func (m *memLog) fetch(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		rng, _ := ledger.NewRange(0, nil) // a perfect subtree hashes as a tree of its leaves
		for _, h := range m.hashes[id.Index<<id.Level : (id.Index+1)<<id.Level] {
			_ = rng.Append(h, nil)
		}
		out[i], _ = ledger.Root(rng)
	}
	return out, nil
}

func (m *memLog) checkpoint(t *testing.T, size int) ([]byte, []byte) {
	t.Helper()
	rng, _ := ledger.NewRange(0, nil)
	for _, h := range m.hashes[:size] {
		_ = rng.Append(h, nil)
	}
	root, _ := ledger.Root(rng)
	signed, err := ledger.SignCheckpoint(m.signer, m.origin, uint64(size), root) //nolint:gosec // G115: a test size
	if err != nil {
		t.Fatal(err)
	}
	return signed, root
}

func (m *memLog) proof(t *testing.T, from, to int) [][]byte {
	t.Helper()
	p, err := ledger.ConsistencyProof(uint64(from), uint64(to), m.fetch) //nolint:gosec // G115: test sizes
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWitnessProtocol: the tlog-witness client against the test witness:
// a first checkpoint, a consistent second one with its proof, a 409 with
// the witness's size for a wrong old size, 422 for a proof that does not
// hold, 403 for a checkpoint the log did not sign; each cosignature checks
// under the witness key and under no other.
func TestWitnessProtocol(t *testing.T) {
	skey, vkey, _ := ledger.GenerateKey("titular.test")
	signer, _ := ledger.NewSigner(skey)
	logKey, _ := ledger.NewVerifier(vkey)
	m := &memLog{signer: signer, origin: ledger.Origin("titular.test", "demo")}
	for i := range 13 {
		m.hashes = append(m.hashes, ledger.HashLeaf([]byte{byte(i)}))
	}
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{m.origin: logKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	wkey, err := ledger.NewCosignatureVerifier(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	add := func(old uint64, proof [][]byte, signed []byte) ([]byte, error) {
		return ledger.AddCheckpoint(ctx, http.DefaultClient, srv.URL, wkey, old, proof, signed)
	}

	cp5, root5 := m.checkpoint(t, 5)
	cosigned, err := add(0, nil, cp5)
	if err != nil {
		t.Fatalf("first checkpoint: %v", err)
	}
	got, err := ledger.OpenCosigned(cosigned, wkey)
	if err != nil || got.Size != 5 || !bytes.Equal(got.Hash, root5) {
		t.Fatalf("cosigned checkpoint: %+v %v", got, err)
	}
	if _, err := ledger.OpenCheckpoint(cosigned, m.origin, logKey); err != nil {
		t.Errorf("the log's signature no longer checks beside the cosignature: %v", err)
	}
	// The cosignature form of the key (0x04) checks it too; another key not.
	if k04, err := ledger.CosignatureVerifierKey(w.VerifierKey()); err != nil {
		t.Fatal(err)
	} else if v04, _ := ledger.NewCosignatureVerifier(k04); v04 == nil || v04.KeyHash() != wkey.KeyHash() {
		t.Error("the 0x04 form of the witness key is another key")
	}
	other, _ := witnesstest.New("witness.test", nil)
	otherKey, _ := ledger.NewCosignatureVerifier(other.VerifierKey())
	if _, err := ledger.OpenCosigned(cosigned, otherKey); err == nil {
		t.Error("another witness's key accepts the cosignature")
	}
	altered := bytes.Replace(cosigned, []byte("\n5\n"), []byte("\n6\n"), 1)
	if _, err := ledger.OpenCosigned(altered, wkey); err == nil {
		t.Error("a cosignature checks on an altered checkpoint")
	}

	cp13, _ := m.checkpoint(t, 13)
	var conflict *ledger.ErrWitnessConflict
	if _, err := add(0, nil, cp13); !errors.As(err, &conflict) || conflict.Size != 5 {
		t.Fatalf("wrong old size: %v, want a conflict naming size 5", err)
	}
	bad := m.proof(t, 5, 13)
	bad[0] = bytes.Clone(bad[0])
	bad[0][0] ^= 1
	if _, err := add(5, bad, cp13); err == nil || !strings.Contains(err.Error(), "HTTP 422") {
		t.Fatalf("a broken consistency proof: %v, want HTTP 422", err)
	}
	foreignSkey, _, _ := ledger.GenerateKey("titular.test")
	foreign, _ := ledger.NewSigner(foreignSkey)
	forged, _ := (&memLog{hashes: m.hashes, signer: foreign, origin: m.origin}).checkpoint(t, 13)
	if _, err := add(5, m.proof(t, 5, 13), forged); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("a checkpoint the log did not sign: %v, want HTTP 403", err)
	}
	if _, err := add(5, m.proof(t, 5, 13), cp13); err != nil {
		t.Fatalf("a consistent checkpoint: %v", err)
	}
	if latest, _ := w.Latest(m.origin); latest.Size != 13 {
		t.Errorf("the witness's latest size is %d, want 13", latest.Size)
	}
	// A cosigner's timestamp is inside the signature: a fixed clock signs
	// the same bytes twice.
	s1, _ := ledger.NewCosigner(skey, func() time.Time { return time.Unix(1700000000, 0) })
	a, _ := s1.Sign([]byte("x\n"))
	b, _ := s1.Sign([]byte("x\n"))
	if !bytes.Equal(a, b) || len(a) != 8+64 {
		t.Errorf("cosignature/v1 encoding: %x %x", a, b)
	}
}

// TestAskWitness: what ledger verify asks a witness. A witness that never
// saw the log cosigns it (size 0 before); one at the same size agrees on the
// same root; one behind agrees given a consistency proof; one ahead, or
// holding another history at its size or below, yields ErrRolledBack. The
// test witness also answers per the spec a checkpoint smaller than the old
// size (400) and a proof sent with old size 0 (422).
func TestAskWitness(t *testing.T) {
	skey, vkey, _ := ledger.GenerateKey("titular.test")
	signer, _ := ledger.NewSigner(skey)
	logKey, _ := ledger.NewVerifier(vkey)
	m := &memLog{signer: signer, origin: ledger.Origin("titular.test", "demo")}
	forked := &memLog{signer: signer, origin: m.origin}
	for i := range 20 {
		m.hashes = append(m.hashes, ledger.HashLeaf([]byte{byte(i)}))
		forked.hashes = append(forked.hashes, ledger.HashLeaf([]byte{byte(i), 'x'}))
	}
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{m.origin: logKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	wkey, _ := ledger.NewCosignatureVerifier(w.VerifierKey())
	ask := func(l *memLog, size int) (ledger.WitnessView, error) {
		signed, _ := l.checkpoint(t, size)
		return ledger.AskWitness(context.Background(), http.DefaultClient, srv.URL, wkey, signed, uint64(size), func(old uint64) ([][]byte, error) { //nolint:gosec // G115: test sizes
			return l.proof(t, int(old), size), nil //nolint:gosec // G115: test sizes
		})
	}
	if v, err := ask(m, 8); err != nil || v.Size != 0 {
		t.Fatalf("a witness that never saw the log: %+v %v, want size 0 before", v, err)
	} else if cp, err := ledger.OpenCosigned(v.Cosigned, wkey); err != nil || cp.Size != 8 {
		t.Fatalf("its cosignature: %+v %v", cp, err)
	}
	if v, err := ask(m, 8); err != nil || v.Size != 8 {
		t.Fatalf("same size, same root: %+v %v", v, err)
	}
	if v, err := ask(m, 13); err != nil || v.Size != 8 {
		t.Fatalf("a consistent larger checkpoint: %+v %v", v, err)
	}
	var rolled *ledger.ErrRolledBack
	if _, err := ask(m, 5); !errors.As(err, &rolled) || rolled.Forked || rolled.WitnessSize != 13 || rolled.Size != 5 ||
		!strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("a checkpoint below the witness's size: %v, want ErrRolledBack at 13", err)
	}
	if _, err := ask(forked, 13); !errors.As(err, &rolled) || !rolled.Forked || rolled.WitnessSize != 13 {
		t.Fatalf("another root at the witness's size: %v, want a forked ErrRolledBack", err)
	}
	if _, err := ask(forked, 20); !errors.As(err, &rolled) || !rolled.Forked || rolled.WitnessSize != 13 {
		t.Fatalf("another history grown past the witness's size: %v, want a forked ErrRolledBack", err)
	}
	if cp, _ := w.Latest(m.origin); cp.Size != 13 {
		t.Errorf("the refused checkpoints moved the witness to size %d", cp.Size)
	}
	var refused *ledger.ErrWitnessRefused
	cp5, _ := m.checkpoint(t, 5)
	if _, err := ledger.AddCheckpoint(context.Background(), http.DefaultClient, srv.URL, wkey, 13, nil, cp5); !errors.As(err, &refused) || refused.Status != http.StatusBadRequest {
		t.Errorf("a checkpoint smaller than the old size: %v, want HTTP 400", err)
	}
	other, _ := witnesstest.New("other.test", map[string]note.Verifier{m.origin: logKey})
	osrv := httptest.NewServer(other)
	defer osrv.Close()
	okey, _ := ledger.NewCosignatureVerifier(other.VerifierKey())
	cp13, _ := m.checkpoint(t, 13)
	if _, err := ledger.AddCheckpoint(context.Background(), http.DefaultClient, osrv.URL, okey, 0, m.proof(t, 5, 13), cp13); !errors.As(err, &refused) || refused.Status != http.StatusUnprocessableEntity {
		t.Errorf("a proof with old size 0: %v, want HTTP 422", err)
	}
}
