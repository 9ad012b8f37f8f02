package server

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

type restReceipt struct {
	RequestID      string   `json:"request_id"`
	LeafIndex      uint64   `json:"leaf_index,string"`
	Leaf           []byte   `json:"leaf"`
	Checkpoint     string   `json:"checkpoint"`
	InclusionProof [][]byte `json:"inclusion_proof"`
}

type restCheckpoint struct {
	Origin   string `json:"origin"`
	Size     uint64 `json:"size,string"`
	RootHash []byte `json:"root_hash"`
	Note     string `json:"note"`
}

type restEntries struct {
	Entries []struct {
		Index    uint64 `json:"index,string"`
		Leaf     []byte `json:"leaf"`
		LeafHash []byte `json:"leaf_hash"`
	} `json:"entries"`
}

type restProof struct {
	Hashes [][]byte `json:"hashes"`
}

// get calls a REST path and decodes a 200 answer.
func get[T any](t *testing.T, env *testEnv, path, key string) T {
	t.Helper()
	code, _, b := env.rest(t, "GET", path, key, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", path, code, b)
	}
	return decode[T](t, b)
}

// devVerifier reads the public key the server generated into its state
// directory: what the controller would publish for titulares.
func devVerifier(t *testing.T, env *testEnv) (string, []byte) {
	t.Helper()
	path := filepath.Join(env.cfg.StateDir, "keys", "ledger-signing.pub")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the server did not write its development verifier key: %v", err)
	}
	return path, b
}

// checkReceipt verifies a receipt offline, with nothing but the receipt and
// the published verifier key, and returns its leaf.
func checkReceipt(t *testing.T, env *testEnv, rc restReceipt) ledger.Leaf {
	t.Helper()
	_, vkey := devVerifier(t, env)
	v, err := ledger.NewVerifier(string(vkey))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.OpenCheckpoint([]byte(rc.Checkpoint), "titular.local/ledger/demo", v)
	if err != nil {
		t.Fatalf("receipt checkpoint: %v", err)
	}
	if err := ledger.VerifyInclusion(rc.LeafIndex, cp.Size, ledger.HashLeaf(rc.Leaf), rc.InclusionProof, cp.Hash); err != nil {
		t.Fatalf("receipt inclusion proof: %v", err)
	}
	l, err := ledger.Unmarshal(rc.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	if l.RequestID != rc.RequestID {
		t.Fatalf("receipt leaf is about request %s, not %s", l.RequestID, rc.RequestID)
	}
	return l
}

// TestLedgerReceiptREST: an EXTRACT's receipt, fetched over REST, verifies
// offline (checkpoint signature and inclusion proof) and vouches for the
// exact export files; the ledger endpoints serve consistent entries and
// proofs; the CLI checkpoints and verifies the same ledger.
func TestLedgerReceiptREST(t *testing.T) {
	env := newTestEnv(t, 50)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)
	first := get[restCheckpoint](t, env, "/v1/tenants/demo/ledger/checkpoint", keyBackend)

	created := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": brdoc.FormatCPF(buyer.CPF)}})
	done := env.waitREST(t, created.ID)
	if done.Status != "COMPLETED" {
		t.Fatalf("EXTRACT ended %s", done.Status)
	}
	rc := get[restReceipt](t, env, "/v1/tenants/demo/requests/"+created.ID+"/receipt", keyAuditor)
	l := checkReceipt(t, env, rc)
	if l.To != "COMPLETED" || l.From != "PROCESSING" || l.Kind != "EXTRACT" || l.SubjectRef != done.SubjectRef {
		t.Errorf("receipt leaf is not the request's final state change: %+v", l)
	}
	// The leaf carries the SHA-256 of each file the titular downloads.
	digests := map[string]string{}
	for _, d := range l.Digests {
		digests[d.Name] = hex.EncodeToString(d.SHA256[:])
	}
	for _, format := range []string{"json", "xlsx", "pdf"} {
		file, _ := env.download(t, done, format)
		if got := sha(string(file)); digests["export."+format] != got {
			t.Errorf("receipt digest of export.%s is %q, the file's is %s", format, digests["export."+format], got)
		}
	}
	for _, shape := range append(brdoc.CPFShapes(buyer.CPF), buyer.Email, buyer.Phone) {
		if shape != "" && bytes.Contains(bytes.ToLower(rc.Leaf), []byte(strings.ToLower(shape))) {
			t.Error("the receipt leaf holds an identifier")
		}
	}

	// Ledger endpoints: the latest checkpoint covers the receipt; entries,
	// inclusion and consistency proofs agree with it.
	cp := get[restCheckpoint](t, env, "/v1/tenants/demo/ledger/checkpoint", keyBackend)
	if cp.Origin != "titular.local/ledger/demo" || cp.Size <= rc.LeafIndex || cp.Note == "" {
		t.Fatalf("checkpoint %+v does not cover leaf %d", cp, rc.LeafIndex)
	}
	ents := get[restEntries](t, env, "/v1/tenants/demo/ledger/entries?start=0&end="+strconv.FormatUint(cp.Size, 10), keyAuditor)
	if uint64(len(ents.Entries)) != cp.Size {
		t.Fatalf("%d entries for a checkpoint of %d", len(ents.Entries), cp.Size)
	}
	rng, _ := ledger.NewRange(0, nil)
	for i, e := range ents.Entries {
		if e.Index != uint64(i) || !bytes.Equal(e.LeafHash, ledger.HashLeaf(e.Leaf)) {
			t.Fatalf("entry %d is not entry %d or its hash is wrong", e.Index, i)
		}
		_ = rng.Append(e.LeafHash, nil)
	}
	if root, _ := ledger.Root(rng); !bytes.Equal(root, cp.RootHash) {
		t.Fatal("the entries listed do not hash to the checkpoint's root")
	}
	if !bytes.Equal(ents.Entries[rc.LeafIndex].Leaf, rc.Leaf) {
		t.Error("the receipt leaf differs from the listed entry")
	}
	p := get[restProof](t, env, "/v1/tenants/demo/ledger/entries/"+strconv.FormatUint(rc.LeafIndex, 10)+"/proof?tree_size="+strconv.FormatUint(cp.Size, 10), keyAuditor)
	if err := ledger.VerifyInclusion(rc.LeafIndex, cp.Size, ledger.HashLeaf(rc.Leaf), p.Hashes, cp.RootHash); err != nil {
		t.Errorf("inclusion proof from the API: %v", err)
	}
	cons := get[restProof](t, env, "/v1/tenants/demo/ledger/consistency?first="+strconv.FormatUint(first.Size, 10)+"&second="+strconv.FormatUint(cp.Size, 10), keyAuditor)
	if err := ledger.VerifyConsistency(first.Size, cp.Size, cons.Hashes, rootOrEmpty(first), cp.RootHash); err != nil {
		t.Errorf("consistency proof from the API: %v", err)
	}
	if code, _, _ := env.rest(t, "GET", "/v1/tenants/demo/ledger/entries", keyBackend, nil); code != http.StatusForbidden {
		t.Errorf("backend listed ledger entries: HTTP %d, want 403", code)
	}
	if code, _, _ := env.rest(t, "GET", "/v1/tenants/demo/ledger/entries?start=0&end=100000", keyAuditor, nil); code != http.StatusBadRequest {
		t.Errorf("an oversized range: HTTP %d, want 400", code)
	}

	// The CLI: publish a checkpoint, then verify the ledger against it.
	cfgPath := filepath.Join(env.cfg.Dir, "titular.yaml")
	var out bytes.Buffer
	if err := runCLI(t, &out, "ledger", "checkpoint", "--config", cfgPath, "--tenant", "demo"); err != nil {
		t.Fatalf("ledger checkpoint: %v", err)
	}
	cpFile := filepath.Join(t.TempDir(), "cp.txt")
	if err := os.WriteFile(cpFile, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo", "--checkpoint", cpFile); err != nil {
		t.Fatalf("ledger verify: %v", err)
	}
	if !strings.Contains(out.String(), "verifies") {
		t.Errorf("verify output: %s", out.String())
	}
	t.Logf("%s", out.String())

	// keygen writes a usable pair and never overwrites a key.
	prefix := filepath.Join(t.TempDir(), "ledger")
	if err := runCLI(t, &out, "ledger", "keygen", "--out", prefix, "--name", "titular.example.com"); err != nil {
		t.Fatal(err)
	}
	skey, _ := os.ReadFile(prefix + ".key")
	vkey, _ := os.ReadFile(prefix + ".pub")
	if derived, err := ledger.VerifierKey(string(skey)); err != nil || derived != strings.TrimSpace(string(vkey)) {
		t.Errorf("keygen pair does not match: %v", err)
	}
	if st, err := os.Stat(prefix + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode: %v %v", st, err)
	}
	if err := runCLI(t, &out, "ledger", "keygen", "--out", prefix); err == nil {
		t.Error("keygen overwrote an existing key")
	}
}

func rootOrEmpty(cp restCheckpoint) []byte {
	if len(cp.RootHash) == 0 {
		return ledger.EmptyRoot()
	}
	return cp.RootHash
}
