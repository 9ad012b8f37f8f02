package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
)

// memLedger is a ledger held in memory exactly as the store holds it:
// entries, nodes in completion order, and a head.
type memLedger struct {
	entries []Entry
	nodes   []Node
	rng     *compact.Range
	key     []byte
}

func newMemLedger(key []byte) *memLedger {
	r, _ := NewRange(0, nil)
	return &memLedger{rng: r, key: key}
}

func testLeaf(i int) []byte {
	b, err := Leaf{Event: EventRequestStatus, Kind: "EXTRACT", RequestID: fmt.Sprintf("req-%08d", i),
		SubjectRef: fmt.Sprintf("subj-%06d", i%1000), From: "RECEIVED", To: "PROCESSING",
		At: time.Unix(1_741_600_000+int64(i), 0)}.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func (m *memLedger) add(leaf []byte) {
	h := HashLeaf(leaf)
	m.entries = append(m.entries, Entry{Seq: uint64(len(m.entries)), Leaf: leaf, LeafHash: h, MAC: MAC(m.key, leaf)})
	_ = m.rng.Append(h, func(id compact.NodeID, h []byte) {
		if id.Level > 0 {
			m.nodes = append(m.nodes, Node{Level: id.Level, Index: id.Index, Hash: h})
		}
	})
}

func (m *memLedger) head() *Head {
	root, _ := Root(m.rng)
	return &Head{Size: m.rng.End(), Root: root}
}

func (m *memLedger) stored() Stored {
	return Stored{Entries: seq2(m.entries), Nodes: seq2(m.nodes), Head: m.head()}
}

func seq2[T any](xs []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, x := range xs {
			if !yield(x, nil) {
				return
			}
		}
	}
}

func buildMem(n int, key []byte) *memLedger {
	m := newMemLedger(key)
	for i := range n {
		m.add(testLeaf(i))
	}
	return m
}

func TestVerifyClean(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	skey, vkey := testKeys(t, "titular.local")
	s, _ := NewSigner(skey)
	v, _ := NewVerifier(vkey)
	origin := Origin("titular.local", "demo")
	m := newMemLedger(key)
	var cps [][]byte
	for i := range 300 {
		if i%97 == 0 {
			root, _ := Root(m.rng)
			cp, _ := SignCheckpoint(s, origin, m.rng.End(), root)
			cps = append(cps, cp)
		}
		m.add(testLeaf(i))
	}
	rep, err := Verify(m.stored(), Checks{Checkpoints: cps, Origin: origin, Verifier: v, MACKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != 300 || rep.Nodes != uint64(len(m.nodes)) || len(rep.Checkpoints) != len(cps) || !bytes.Equal(rep.Root, m.head().Root) {
		t.Fatalf("report %+v", rep)
	}
	if _, err := Verify(newMemLedger(key).stored(), Checks{}); err != nil {
		t.Fatalf("empty ledger: %v", err)
	}
}

// TestVerifyProgress checks Checks.Progress: it starts at 0 of the head's
// size, climbs every ProgressEvery entries, ends at total = size, and the
// report is the same as without it; a ledger that fails stops short.
func TestVerifyProgress(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	const n = 2*ProgressEvery + 300
	m := buildMem(n, key)
	plain, err := Verify(m.stored(), Checks{MACKey: key})
	if err != nil {
		t.Fatal(err)
	}
	type call struct{ done, total uint64 }
	var calls []call
	rep, err := Verify(m.stored(), Checks{MACKey: key, Progress: func(done, total uint64) { calls = append(calls, call{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != plain.Size || rep.Nodes != plain.Nodes || !bytes.Equal(rep.Root, plain.Root) {
		t.Fatalf("report with progress %+v, without %+v", rep, plain)
	}
	want := []call{{0, n}, {ProgressEvery, n}, {2 * ProgressEvery, n}, {n, n}}
	if !slices.Equal(calls, want) {
		t.Fatalf("progress calls %v, want %v", calls, want)
	}

	// No head: the total follows what was checked.
	st := m.stored()
	st.Head = nil
	calls = nil
	if _, err := Verify(st, Checks{MACKey: key, Progress: func(done, total uint64) { calls = append(calls, call{done, total}) }}); err != nil {
		t.Fatal(err)
	}
	if last := calls[len(calls)-1]; last != (call{n, n}) {
		t.Fatalf("last progress without a head %v, want %d of %d", last, n, n)
	}

	// A tampered entry stops the run before the total.
	m.entries[ProgressEvery+5].Leaf = testLeaf(99999)
	calls = nil
	_, err = Verify(m.stored(), Checks{MACKey: key, Progress: func(done, total uint64) { calls = append(calls, call{done, total}) }})
	var p *Problem
	if !errors.As(err, &p) || p.Entry != ProgressEvery+5 {
		t.Fatalf("tampered: %v, want a problem at entry %d", err, ProgressEvery+5)
	}
	if last := calls[len(calls)-1]; last != (call{ProgressEvery, n}) {
		t.Fatalf("progress of a failed run ended at %v, want %d of %d", last, ProgressEvery, n)
	}

	// The empty ledger reports 0 of 0 once.
	calls = nil
	if _, err := Verify(newMemLedger(key).stored(), Checks{Progress: func(done, total uint64) { calls = append(calls, call{done, total}) }}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []call{{0, 0}}) {
		t.Fatalf("empty ledger progress %v", calls)
	}
}

// TestVerifyDetects tampers with an in-memory ledger in every way the
// database suite does, and more, and expects the first bad entry named.
func TestVerifyDetects(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	skey, vkey := testKeys(t, "titular.local")
	s, _ := NewSigner(skey)
	v, _ := NewVerifier(vkey)
	origin := Origin("titular.local", "demo")
	const n = 100
	full := buildMem(n, key)
	cpFull, _ := SignCheckpoint(s, origin, n, full.head().Root)
	otherKey, _ := testKeys(t, "titular.local")
	os, _ := NewSigner(otherKey)
	cpForeign, _ := SignCheckpoint(os, origin, n, full.head().Root)

	type tc struct {
		mutate func(m *memLedger, st *Stored, c *Checks)
		entry  int64
	}
	cases := map[string]tc{
		"altered leaf": {func(m *memLedger, _ *Stored, _ *Checks) { m.entries[40].Leaf = testLeaf(1000) }, 40},
		"altered leaf and its hash": {func(m *memLedger, _ *Stored, _ *Checks) {
			m.entries[40].Leaf = testLeaf(1000)
			m.entries[40].LeafHash = HashLeaf(m.entries[40].Leaf)
		}, 40},
		"garbage leaf":   {func(m *memLedger, _ *Stored, _ *Checks) { m.entries[3].Leaf = []byte("hello") }, 3},
		"deleted middle": {func(m *memLedger, _ *Stored, _ *Checks) { m.entries = slices.Delete(m.entries, 50, 51) }, 50},
		"reordered": {func(m *memLedger, _ *Stored, _ *Checks) {
			m.entries[10].Leaf, m.entries[11].Leaf = m.entries[11].Leaf, m.entries[10].Leaf
			m.entries[10].LeafHash, m.entries[11].LeafHash = m.entries[11].LeafHash, m.entries[10].LeafHash
			m.entries[10].MAC, m.entries[11].MAC = m.entries[11].MAC, m.entries[10].MAC
		}, 11},
		"edited node":  {func(m *memLedger, _ *Stored, _ *Checks) { m.nodes[20].Hash = HashLeaf(nil) }, -2},
		"missing node": {func(m *memLedger, _ *Stored, _ *Checks) { m.nodes = slices.Delete(m.nodes, 20, 21) }, -2},
		"tail deleted, head kept": {func(m *memLedger, st *Stored, _ *Checks) {
			m.entries = m.entries[:90]
			st.Nodes = nil
		}, 90},
		"truncated, checkpoint given": {func(m *memLedger, st *Stored, c *Checks) {
			m.entries, m.nodes, st.Head = nil, nil, nil
			c.Checkpoints = [][]byte{cpFull}
		}, 0},
		"older copy restored": {func(m *memLedger, st *Stored, c *Checks) {
			old := buildMem(60, key)
			*m = *old
			st.Head = old.head()
			c.Checkpoints = [][]byte{cpFull}
		}, 60},
		"forged entry, tree recomputed": {func(m *memLedger, st *Stored, _ *Checks) {
			forged := testLeaf(5000)
			m.add(forged)
			m.entries[n].MAC = MAC([]byte("a DBA's guess at the key......."), forged)
			st.Head = m.head()
		}, n},
		"checkpoint with a foreign signature": {func(_ *memLedger, _ *Stored, c *Checks) { c.Checkpoints = [][]byte{cpForeign} }, -1},
		"entry beyond the head": {func(m *memLedger, st *Stored, _ *Checks) {
			st.Head = m.head()
			m.add(testLeaf(777))
			st.Nodes = nil
		}, n},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := buildMem(n, key)
			st := m.stored()
			checks := Checks{Origin: origin, Verifier: v, MACKey: key}
			c.mutate(m, &st, &checks)
			st.Entries = seq2(m.entries)
			if st.Nodes != nil {
				st.Nodes = seq2(m.nodes)
			}
			_, err := Verify(st, checks)
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("tampering not detected: %v", err)
			}
			if c.entry != -2 && p.Entry != c.entry {
				t.Errorf("first bad entry %d, want %d (%v)", p.Entry, c.entry, err)
			}
			t.Logf("detected: %v", err)
		})
	}
}

// BenchmarkVerify1M recomputes a 1,000,000-leaf ledger held in memory: the
// CPU side of `titular ledger verify` (goal: under 2 s).
func BenchmarkVerify1M(b *testing.B) {
	key := bytes.Repeat([]byte{7}, 32)
	m := buildMem(1_000_000, key)
	st := m.stored()
	var bytesIn int64
	for _, e := range m.entries {
		bytesIn += int64(len(e.Leaf))
	}
	b.SetBytes(bytesIn)
	b.ResetTimer()
	for b.Loop() {
		st.Entries, st.Nodes = seq2(m.entries), seq2(m.nodes)
		if _, err := Verify(st, Checks{MACKey: key}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/verify")
}
