// Package witnesstest is a C2SP tlog-witness for tests: an HTTP handler
// that keeps, per log, the latest checkpoint it cosigned, accepts a new one
// only with a valid log signature and a consistency proof from that size,
// and answers with its cosignature/v1. Tests run it behind httptest to show
// that a ledger rolled back below a witnessed size is caught.
package witnesstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

// Witness is the handler. Make one with New.
type Witness struct {
	signer   note.Signer
	vkey     string
	mu       sync.Mutex
	logs     map[string]note.Verifier // origin -> the log's key
	latest   map[string]ledger.Checkpoint
	requests int
}

// New returns a witness named name that witnesses the log of each origin
// under its verifier key.
func New(name string, logs map[string]note.Verifier) (*Witness, error) {
	skey, vkey, err := ledger.GenerateKey(name)
	if err != nil {
		return nil, err
	}
	signer, err := ledger.NewCosigner(skey, time.Now)
	if err != nil {
		return nil, err
	}
	return &Witness{signer: signer, vkey: vkey, logs: logs, latest: map[string]ledger.Checkpoint{}}, nil
}

// VerifierKey is the witness's public key, for the config's witnesses.
func (w *Witness) VerifierKey() string { return w.vkey }

// Latest is the latest checkpoint the witness cosigned for origin.
func (w *Witness) Latest(origin string) (ledger.Checkpoint, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cp, ok := w.latest[origin]
	return cp, ok
}

// Requests counts the add-checkpoint calls served.
func (w *Witness) Requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests
}

// ServeHTTP implements POST /add-checkpoint.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(rw, "read body", http.StatusBadRequest)
		return
	}
	old, proof, signed, err := ledger.ParseAddCheckpointBody(body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	origin, _, _ := bytes.Cut(signed, []byte("\n"))
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	key, ok := w.logs[string(origin)]
	if !ok {
		http.Error(rw, "unknown log", http.StatusNotFound)
		return
	}
	cp, err := ledger.OpenCheckpoint(signed, string(origin), key)
	if err != nil {
		http.Error(rw, "the log's signature does not verify", http.StatusForbidden)
		return
	}
	// The order of the checks is the spec's (c2sp.org/tlog-witness): the
	// size against the old size (400), the old size against the latest
	// cosigned (409, naming that size), then the consistency proof (422),
	// which at an equal size is an empty proof and the same root.
	if cp.Size < old {
		http.Error(rw, "checkpoint smaller than the old size", http.StatusBadRequest)
		return
	}
	prev, seen := w.latest[string(origin)]
	if !seen {
		prev = ledger.Checkpoint{Origin: string(origin), Size: 0, Hash: ledger.EmptyRoot()}
	}
	if old != prev.Size {
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", prev.Size)
		return
	}
	if err := ledger.VerifyConsistency(old, cp.Size, proof, prev.Hash, cp.Hash); err != nil {
		http.Error(rw, "the consistency proof does not verify", http.StatusUnprocessableEntity)
		return
	}
	n, err := note.Open(signed, note.VerifierList(key))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusForbidden)
		return
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	w.latest[string(origin)] = *cp
	// The answer is the witness's signature line(s) only.
	_, sigs, _ := bytes.Cut(cosigned, []byte("\n\n"))
	_, _ = rw.Write(sigs)
}
