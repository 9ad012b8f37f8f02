package ledger

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

func TestKnownAnswers(t *testing.T) {
	if got := hex.EncodeToString(EmptyRoot()); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty root %s", got)
	}
	inputs, nodes, roots := testonly.LeafInputs(), testonly.NodeHashes(), testonly.RootHashes()
	for i, in := range inputs {
		if got := HashLeaf(in); !bytes.Equal(got, nodes[0][i]) {
			t.Errorf("leaf hash %d = %x, want %x", i, got, nodes[0][i])
		}
	}
	for level := 1; level < len(nodes); level++ {
		for i, want := range nodes[level] {
			if got := HashChildren(nodes[level-1][2*i], nodes[level-1][2*i+1]); !bytes.Equal(got, want) {
				t.Errorf("node (%d,%d) = %x, want %x", level, i, got, want)
			}
		}
	}
	rng, _ := NewRange(0, nil)
	for size := 0; size <= len(inputs); size++ {
		if size > 0 {
			if err := rng.Append(HashLeaf(inputs[size-1]), nil); err != nil {
				t.Fatal(err)
			}
		}
		root, err := Root(rng)
		if err != nil || !bytes.Equal(root, roots[size]) {
			t.Errorf("root at size %d = %x, want %x (%v)", size, root, roots[size], err)
		}
		// The stored form of the head rebuilds the same range.
		back, err := DecodeRange(uint64(size), EncodeRange(rng))
		if err != nil || !back.Equal(rng) {
			t.Errorf("size %d: range does not survive encoding: %v", size, err)
		}
	}
	if _, err := DecodeRange(3, make([]byte, 32)); err == nil {
		t.Error("DecodeRange accepted a range of the wrong length")
	}
}

// memTree keeps every perfect-subtree node a compact range reports, as the
// store does, to serve proofs through a NodeFetcher.
type memTree struct {
	rng   *compact.Range
	nodes map[compact.NodeID][]byte
}

func newMemTree() *memTree {
	r, _ := NewRange(0, nil)
	return &memTree{rng: r, nodes: map[compact.NodeID][]byte{}}
}

func (m *memTree) add(leaf []byte) {
	_ = m.rng.Append(HashLeaf(leaf), func(id compact.NodeID, h []byte) { m.nodes[id] = h })
}

func (m *memTree) fetch(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m.nodes[id]
		if !ok {
			return nil, fmt.Errorf("no node %+v", id)
		}
		out[i] = h
	}
	return out, nil
}

// TestProofsAgainstReference builds proofs from stored nodes, as the store
// does, and compares them with the merkle module's in-memory reference tree.
func TestProofsAgainstReference(t *testing.T) {
	ref := testonly.New(rfc6962.DefaultHasher)
	mem := newMemTree()
	for i := range 130 {
		leaf := fmt.Appendf(nil, "leaf %d", i)
		ref.AppendData(leaf)
		mem.add(leaf)
	}
	for size := uint64(1); size <= ref.Size(); size++ {
		for index := uint64(0); index < size; index++ {
			want, _ := ref.InclusionProof(index, size)
			got, err := InclusionProof(index, size, mem.fetch)
			if err != nil || !equalProofs(got, want) {
				t.Fatalf("inclusion proof (%d, %d) differs from the reference: %v", index, size, err)
			}
			if err := VerifyInclusion(index, size, ref.LeafHash(index), got, ref.HashAt(size)); err != nil {
				t.Fatalf("inclusion (%d, %d): %v", index, size, err)
			}
		}
		for size1 := uint64(0); size1 <= size; size1++ {
			want, _ := ref.ConsistencyProof(size1, size)
			got, err := ConsistencyProof(size1, size, mem.fetch)
			if err != nil || !equalProofs(got, want) {
				t.Fatalf("consistency proof (%d, %d) differs from the reference: %v", size1, size, err)
			}
			if err := VerifyConsistency(size1, size, got, ref.HashAt(size1), ref.HashAt(size)); err != nil {
				t.Fatalf("consistency (%d, %d): %v", size1, size, err)
			}
		}
	}
}

func equalProofs(a, b [][]byte) bool {
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

// TestProofCorruption: every valid proof fails once its index, size, leaf,
// root or any single bit of any proof hash is altered.
func TestProofCorruption(t *testing.T) {
	ref := testonly.New(rfc6962.DefaultHasher)
	for i := range 77 {
		ref.AppendData(fmt.Appendf(nil, "leaf %d", i))
	}
	size := ref.Size()
	big := testonly.New(rfc6962.DefaultHasher)
	for i := range size + 1 {
		big.AppendData(fmt.Appendf(nil, "leaf %d", i))
	}
	for _, index := range []uint64{0, 1, 31, 32, 63, 64, 75, 76} {
		p, _ := ref.InclusionProof(index, size)
		leaf, root := ref.LeafHash(index), ref.HashAt(size)
		if err := VerifyInclusion(index, size, leaf, p, root); err != nil {
			t.Fatalf("valid proof rejected: %v", err)
		}
		mustFail := func(what string, err error) {
			if err == nil {
				t.Errorf("inclusion of %d: %s still verifies", index, what)
			}
		}
		mustFail("another index", VerifyInclusion(index^1, size, leaf, p, root))
		// A size is only ever claimed together with its root (a checkpoint).
		mustFail("a larger size", VerifyInclusion(index, size+1, leaf, p, big.HashAt(size+1)))
		mustFail("a smaller size", VerifyInclusion(index, size-1, leaf, p, ref.HashAt(size-1)))
		mustFail("another leaf", VerifyInclusion(index, size, ref.LeafHash((index+1)%size), p, root))
		mustFail("another root", VerifyInclusion(index, size, leaf, p, ref.HashAt(size-1)))
		mustFail("a dropped hash", VerifyInclusion(index, size, leaf, p[:len(p)-1], root))
		mustFail("an extra hash", VerifyInclusion(index, size, leaf, append(clone(p), root), root))
		for i := range p {
			for bit := range HashSize * 8 {
				q := clone(p)
				q[i][bit/8] ^= 1 << (bit % 8)
				if VerifyInclusion(index, size, leaf, q, root) == nil {
					t.Fatalf("inclusion of %d: flipping bit %d of hash %d still verifies", index, bit, i)
				}
			}
		}
	}
	for _, size1 := range []uint64{1, 2, 7, 32, 50, 76} {
		p, _ := ref.ConsistencyProof(size1, size)
		r1, r2 := ref.HashAt(size1), ref.HashAt(size)
		if err := VerifyConsistency(size1, size, p, r1, r2); err != nil {
			t.Fatalf("valid consistency proof rejected: %v", err)
		}
		if VerifyConsistency(size1+1, size, p, ref.HashAt(size1+1), r2) == nil || VerifyConsistency(size1, size-1, p, r1, ref.HashAt(size-1)) == nil ||
			VerifyConsistency(size1-1, size, p, ref.HashAt(size1-1), r2) == nil || VerifyConsistency(size1, size+1, p, r1, big.HashAt(size+1)) == nil ||
			VerifyConsistency(size1, size, p, ref.HashAt(size1-1), r2) == nil || VerifyConsistency(size1, size, p, r1, ref.HashAt(size-1)) == nil {
			t.Errorf("consistency %d→%d: altered size or root still verifies", size1, size)
		}
		for i := range p {
			for bit := range HashSize * 8 {
				q := clone(p)
				q[i][bit/8] ^= 1 << (bit % 8)
				if VerifyConsistency(size1, size, q, r1, r2) == nil {
					t.Fatalf("consistency %d→%d: flipping bit %d of hash %d still verifies", size1, size, bit, i)
				}
			}
		}
	}
}

func clone(p [][]byte) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = bytes.Clone(p[i])
	}
	return out
}
