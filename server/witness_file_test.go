package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/ledger/witnesstest"
)

// TestWitnessedFile: the cosigned checkpoint kept outside the database only
// moves forward, is read back byte for byte with its cosignature checked,
// and a file of another log or with a broken cosignature is refused with
// the way out.
func TestWitnessedFile(t *testing.T) {
	skey, vkey, _ := ledger.GenerateKey("titular.local")
	signer, _ := ledger.NewSigner(skey)
	logKey, _ := ledger.NewVerifier(vkey)
	origin := ledger.Origin("titular.local", "demo")
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{origin: logKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	wkey, _ := ledger.NewCosignatureVerifier(w.VerifierKey())
	leaves := [][]byte{ledger.HashLeaf([]byte{0}), ledger.HashLeaf([]byte{1}), ledger.HashLeaf([]byte{2}), ledger.HashLeaf([]byte{3})}
	root := func(from, to uint64) []byte {
		rng, _ := ledger.NewRange(0, nil)
		for _, h := range leaves[from:to] {
			_ = rng.Append(h, nil)
		}
		r, _ := ledger.Root(rng)
		return r
	}
	cosign := func(old, size uint64) []byte {
		t.Helper()
		proof, err := ledger.ConsistencyProof(old, size, func(ids []compact.NodeID) ([][]byte, error) {
			out := make([][]byte, len(ids))
			for i, id := range ids {
				out[i] = root(id.Index<<id.Level, (id.Index+1)<<id.Level)
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		signed, _ := ledger.SignCheckpoint(signer, origin, size, root(0, size))
		c, err := ledger.AddCheckpoint(context.Background(), http.DefaultClient, srv.URL, wkey, old, proof, signed)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c2, c4 := cosign(0, 2), cosign(2, 4)
	path := filepath.Join(t.TempDir(), "witnessed", "demo", "w.cosigned")
	if b, cp, err := ReadWitnessedFile(path, wkey, origin); b != nil || cp != nil || err != nil {
		t.Fatalf("no file yet: %q %v %v", b, cp, err)
	}
	if err := writeWitnessedFile(path, wkey, origin, 4, c4); err != nil {
		t.Fatal(err)
	}
	if b, cp, err := ReadWitnessedFile(path, wkey, origin); err != nil || !bytes.Equal(b, c4) || cp.Size != 4 {
		t.Fatalf("read back: %v %v", cp, err)
	}
	// An older cosigned checkpoint does not replace a newer one.
	if err := writeWitnessedFile(path, wkey, origin, 2, c2); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, c4) {
		t.Error("a smaller size replaced the kept checkpoint")
	}
	other, _ := witnesstest.New("witness.test", nil)
	okey, _ := ledger.NewCosignatureVerifier(other.VerifierKey())
	if _, _, err := ReadWitnessedFile(path, okey, origin); err == nil {
		t.Error("the file checks under another witness's key")
	}
	if _, _, err := ReadWitnessedFile(path, wkey, ledger.Origin("titular.local", "other")); err == nil || !strings.Contains(err.Error(), "not of this ledger") {
		t.Errorf("a file of another log: %v", err)
	}
	if err := os.WriteFile(path, bytes.Replace(c4, []byte("\n4\n"), []byte("\n9\n"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeWitnessedFile(path, wkey, origin, 9, c2); err == nil || !strings.Contains(err.Error(), "move the file aside") {
		t.Errorf("an altered kept file: %v, want a refusal saying how to start again", err)
	}
}
