package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/bits"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every hash in the tree (SHA-256).
const HashSize = sha256.Size

// HashLeaf is the RFC 6962 leaf hash: SHA-256(0x00 || leaf).
func HashLeaf(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

// HashChildren is the RFC 6962 node hash: SHA-256(0x01 || left || right).
func HashChildren(left, right []byte) []byte { return rfc6962.DefaultHasher.HashChildren(left, right) }

// EmptyRoot is the root of the empty tree, SHA-256 of nothing.
func EmptyRoot() []byte { return rfc6962.DefaultHasher.EmptyRoot() }

// rangeFactory is shared so ranges compare Equal; it is never modified.
var rangeFactory = &compact.RangeFactory{Hash: HashChildren}

// NewRange returns the compact range [0, size) with the given subtree
// hashes (left to right), or an empty one for size 0.
func NewRange(size uint64, hashes [][]byte) (*compact.Range, error) {
	f := rangeFactory
	if size == 0 && len(hashes) == 0 {
		return f.NewEmptyRange(0), nil
	}
	r, err := f.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("compact range of size %d: %w", size, err)
	}
	return r, nil
}

// Root returns the root hash of the compact range r, which starts at 0.
func Root(r *compact.Range) ([]byte, error) {
	if r.End() == 0 {
		return EmptyRoot(), nil
	}
	return r.GetRootHash(nil)
}

// EncodeRange concatenates a compact range's hashes for storage.
func EncodeRange(r *compact.Range) []byte {
	out := make([]byte, 0, len(r.Hashes())*HashSize)
	for _, h := range r.Hashes() {
		out = append(out, h...)
	}
	return out
}

// DecodeRange rebuilds the compact range [0, size) from EncodeRange's bytes.
func DecodeRange(size uint64, b []byte) (*compact.Range, error) {
	if want := bits.OnesCount64(size) * HashSize; len(b) != want {
		return nil, fmt.Errorf("compact range of size %d needs %d bytes, got %d", size, want, len(b))
	}
	hashes := make([][]byte, 0, len(b)/HashSize)
	for i := 0; i < len(b); i += HashSize {
		hashes = append(hashes, b[i:i+HashSize:i+HashSize])
	}
	return NewRange(size, hashes)
}

// NodeFetcher returns the stored hashes of the given perfect-subtree nodes,
// in order.
type NodeFetcher func(ids []compact.NodeID) ([][]byte, error)

// InclusionProof builds the proof that leaf index is in the tree of the
// given size from stored node hashes.
func InclusionProof(index, size uint64, fetch NodeFetcher) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return rehash(nodes, fetch)
}

// ConsistencyProof builds the proof that the tree of size1 is a prefix of
// the tree of size2 from stored node hashes.
func ConsistencyProof(size1, size2 uint64, fetch NodeFetcher) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return rehash(nodes, fetch)
}

func rehash(nodes proof.Nodes, fetch NodeFetcher) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := fetch(nodes.IDs)
	if err != nil {
		return nil, err
	}
	if len(hashes) != len(nodes.IDs) {
		return nil, fmt.Errorf("proof needs %d node hashes, got %d", len(nodes.IDs), len(hashes))
	}
	return nodes.Rehash(hashes, HashChildren)
}

// VerifyInclusion checks that leafHash is at index in the tree of the given
// size and root.
func VerifyInclusion(index, size uint64, leafHash []byte, proofHashes [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, proofHashes, root)
}

// VerifyConsistency checks that the tree (size1, root1) is a prefix of the
// tree (size2, root2).
func VerifyConsistency(size1, size2 uint64, proofHashes [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, proofHashes, root1, root2)
}

// MAC authenticates a leaf with the tenant's ledger key, which lives outside
// the database: an entry a DBA forges, even with the whole tree recomputed
// around it, fails this check. Auditors without the key skip it and rely on
// signed checkpoints.
func MAC(key, leaf []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(leaf)
	return m.Sum(nil)
}
