package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/demo"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/server"
)

// demoAPI is titular serving the demo tenant on the embedded engine, as
// `titular demo` runs it, reached over REST.
type demoAPI struct {
	base, key string
	verifier  note.Verifier
	client    *http.Client
}

func startDemoAPI(t *testing.T) (*demoAPI, *demo.Demo) {
	t.Helper()
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Subjects: 30, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	d.Config.GRPCAddr, d.Config.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	var logs io.Writer = io.Discard
	if testing.Verbose() {
		logs = os.Stderr
	}
	a, err := server.Start(ctx, d.Config, slog.New(slog.NewJSONHandler(logs, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	vkey, err := os.ReadFile(filepath.Join(d.Config.StateDir, "keys", "ledger-signing.pub"))
	if err != nil {
		t.Fatalf("the server wrote no development verifier key: %v", err)
	}
	v, err := ledger.NewVerifier(string(vkey))
	if err != nil {
		t.Fatal(err)
	}
	return &demoAPI{base: "http://" + a.HTTPAddr() + "/v1/tenants/" + demo.TenantID, key: d.APIKey,
		verifier: v, client: &http.Client{Timeout: 30 * time.Second}}, d
}

// call sends a REST call and decodes a 200 answer into out; any other status
// fails the test with the body (the 500s this test guards against).
func (api *demoAPI) call(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	if err := api.try(method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

func (api *demoAPI) try(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, api.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+api.key)
	resp, err := api.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w in %s", method, path, err, b)
	}
	return nil
}

type demoRequest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type demoReceipt struct {
	RequestID      string   `json:"request_id"`
	LeafIndex      uint64   `json:"leaf_index,string"`
	Leaf           []byte   `json:"leaf"`
	Checkpoint     string   `json:"checkpoint"`
	InclusionProof [][]byte `json:"inclusion_proof"`
}

type demoCheckpoint struct {
	Size     uint64 `json:"size,string"`
	RootHash []byte `json:"root_hash"`
	Note     string `json:"note"`
}

type demoEntries struct {
	Entries []struct {
		Index    uint64 `json:"index,string"`
		Leaf     []byte `json:"leaf"`
		LeafHash []byte `json:"leaf_hash"`
	} `json:"entries"`
}

type demoProof struct {
	Hashes [][]byte `json:"hashes"`
}

// TestDemoLedgerAPI: on the demo's embedded engine, through the REST API the
// demo serves, every request's receipt, the inclusion proof of every entry
// at several tree sizes, the checkpoint and consistency proofs answer 200
// and verify with the ledger package. The engine once flagged a UNION whose
// first branch was a one-row key lookup as returning at most one row, and
// failed every proof with one leaf hash in it (HTTP 500, "max1Row iterator
// returned more than one row"); tree sizes vary the shape of the node reads,
// which is why the checkpoint failed only sometimes.
func TestDemoLedgerAPI(t *testing.T) {
	api, d := startDemoAPI(t)
	var cpfs []string
	for _, s := range d.Scenarios {
		cpfs = append(cpfs, s.CPF)
	}
	if len(cpfs) == 0 {
		t.Fatal("the demo seeded no scenario")
	}
	var prev demoCheckpoint
	var ids []string
	const rounds = 12
	for i := range rounds {
		var r demoRequest
		api.call(t, "POST", "/requests", map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": cpfs[i%len(cpfs)]}}, &r)
		ids = append(ids, r.ID)
		waitDone(t, api, r.ID)
		// Every request so far: its receipt verifies offline.
		for _, id := range ids {
			api.receipt(t, id)
		}
		// Checkpoints asked for at once (and beside the scheduler's own
		// checkpoint job) all answer, verify, and never go back.
		var cps [4]demoCheckpoint
		var wg sync.WaitGroup
		errs := make([]error, len(cps))
		for j := range cps {
			wg.Go(func() { errs[j] = api.try("GET", "/ledger/checkpoint", nil, &cps[j]) })
		}
		wg.Wait()
		for j, cp := range cps {
			if errs[j] != nil {
				t.Fatalf("round %d: %v", i, errs[j])
			}
			c, err := ledger.OpenCheckpoint([]byte(cp.Note), "titular.local/ledger/"+demo.TenantID, api.verifier)
			if err != nil {
				t.Fatalf("round %d: checkpoint: %v", i, err)
			}
			if c.Size != cp.Size || !bytes.Equal(c.Hash, cp.RootHash) || cp.Size < prev.Size {
				t.Fatalf("round %d: checkpoint %d/%x disagrees with its note (%d/%x) or shrank from %d", i, cp.Size, cp.RootHash, c.Size, c.Hash, prev.Size)
			}
		}
		var cp demoCheckpoint
		api.call(t, "GET", "/ledger/checkpoint", nil, &cp)
		if cp.Size < cps[0].Size {
			t.Fatalf("round %d: the checkpoint went back from %d to %d", i, cps[0].Size, cp.Size)
		}
		var ents demoEntries
		api.call(t, "GET", "/ledger/entries?start=0&end="+strconv.FormatUint(cp.Size, 10), nil, &ents)
		if uint64(len(ents.Entries)) != cp.Size {
			t.Fatalf("round %d: %d entries for a checkpoint of %d", i, len(ents.Entries), cp.Size)
		}
		// The proof of every entry, in the checkpoint's tree and in a
		// smaller one: all proof shapes up to this size.
		for _, e := range ents.Entries {
			for _, size := range []uint64{cp.Size, e.Index + 1} {
				var p demoProof
				api.call(t, "GET", fmt.Sprintf("/ledger/entries/%d/proof?tree_size=%d", e.Index, size), nil, &p)
				var root []byte
				if size == cp.Size {
					root = cp.RootHash
				} else {
					root = rootOf(t, ents, size)
				}
				if err := ledger.VerifyInclusion(e.Index, size, ledger.HashLeaf(e.Leaf), p.Hashes, root); err != nil {
					t.Fatalf("round %d: proof of entry %d in a tree of %d: %v", i, e.Index, size, err)
				}
			}
		}
		if prev.Size > 0 {
			var p demoProof
			api.call(t, "GET", fmt.Sprintf("/ledger/consistency?first=%d&second=%d", prev.Size, cp.Size), nil, &p)
			if err := ledger.VerifyConsistency(prev.Size, cp.Size, p.Hashes, prev.RootHash, cp.RootHash); err != nil {
				t.Fatalf("round %d: consistency %d -> %d: %v", i, prev.Size, cp.Size, err)
			}
		}
		prev = cp
	}
}

// receipt fetches a request's receipt and verifies it with nothing but the
// receipt and the published verifier key.
func (api *demoAPI) receipt(t *testing.T, id string) {
	t.Helper()
	var rc demoReceipt
	api.call(t, "GET", "/requests/"+id+"/receipt", nil, &rc)
	cp, err := ledger.OpenCheckpoint([]byte(rc.Checkpoint), "titular.local/ledger/"+demo.TenantID, api.verifier)
	if err != nil {
		t.Fatalf("receipt of %s: checkpoint: %v", id, err)
	}
	if err := ledger.VerifyInclusion(rc.LeafIndex, cp.Size, ledger.HashLeaf(rc.Leaf), rc.InclusionProof, cp.Hash); err != nil {
		t.Fatalf("receipt of %s: inclusion proof: %v", id, err)
	}
	l, err := ledger.Unmarshal(rc.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	if l.RequestID != id || rc.RequestID != id {
		t.Fatalf("receipt of %s is about %s", id, l.RequestID)
	}
}

func waitDone(t *testing.T, api *demoAPI, id string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var r demoRequest
		api.call(t, "GET", "/requests/"+id, nil, &r)
		switch r.Status {
		case "COMPLETED":
			return
		case "DENIED", "FAILED", "CANCELED":
			t.Fatalf("request %s ended %s", id, r.Status)
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("request %s still %s after 30s", id, r.Status)
		}
	}
}

// rootOf is the root of the first size listed entries.
func rootOf(t *testing.T, ents demoEntries, size uint64) []byte {
	t.Helper()
	rng, err := ledger.NewRange(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents.Entries[:size] {
		if err := rng.Append(e.LeafHash, nil); err != nil {
			t.Fatal(err)
		}
	}
	root, err := ledger.Root(rng)
	if err != nil {
		t.Fatal(err)
	}
	return root
}
