package ledger

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"iter"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Entry is one stored ledger entry as read back from storage.
type Entry struct {
	Seq      uint64
	Leaf     []byte
	LeafHash []byte
	// MAC is the leaf's authentication tag (see MAC).
	MAC []byte
}

// Node is one stored hash of a perfect subtree above the leaves (level ≥ 1).
type Node struct {
	Level uint
	Index uint64
	Hash  []byte
}

// Head is the tree head a store keeps beside the entries.
type Head struct {
	Size uint64
	Root []byte
}

// Stored is a tenant's stored ledger, as streams so that verifying a ledger
// of any size takes flat memory.
type Stored struct {
	// Entries yields every stored entry in seq order.
	Entries iter.Seq2[Entry, error]
	// Nodes, when set, yields every stored node in the order the tree
	// completes them: by the last leaf they cover, then by level.
	Nodes iter.Seq2[Node, error]
	// Head, when set, is the stored head to check against the recomputed one.
	Head *Head
}

// Checks are the external facts a ledger must agree with.
type Checks struct {
	// Checkpoints are signed notes (C2SP tlog-checkpoint) of this ledger.
	Checkpoints [][]byte
	// Origin and Verifier check each checkpoint's origin and signature;
	// Previous are the verifier keys of signing keys rotated out, for
	// checkpoints signed before.
	Origin   string
	Verifier note.Verifier
	Previous []note.Verifier
	// MACKey, when set, authenticates every leaf (see MAC).
	MACKey []byte
	// Progress, when set, is not a check: Verify tells it how many entries
	// it has checked of how many the stored head counts (total grows with
	// done when entries lie beyond the head, or when there is no head), at
	// the start, every ProgressEvery entries and once all are checked. It
	// runs on Verify's goroutine, so it must return quickly.
	Progress func(done, total uint64)
}

// ProgressEvery is how many entries Verify checks between two calls of
// Checks.Progress.
const ProgressEvery = 1024

// Report is what a successful verification established.
type Report struct {
	Size  uint64
	Root  []byte
	Nodes uint64
	// Checkpoints are the verified checkpoints, by size.
	Checkpoints []Checkpoint
}

// Problem is the first inconsistency found. Entry is the first bad entry's
// seq, or -1 when the problem is not about one entry.
type Problem struct {
	Entry int64
	Msg   string
}

func (p *Problem) Error() string {
	if p.Entry < 0 {
		return p.Msg
	}
	return fmt.Sprintf("entry %d: %s", p.Entry, p.Msg)
}

func problem(seq uint64, format string, args ...any) *Problem {
	return &Problem{Entry: int64(seq), Msg: fmt.Sprintf(format, args...)} //nolint:gosec // G115: a position in a stored ledger, far below 2^63
}

func general(format string, args ...any) *Problem {
	return &Problem{Entry: -1, Msg: fmt.Sprintf(format, args...)}
}

type checkpointAt struct {
	cp  *Checkpoint
	pos int // position on the command line or in storage, for messages
}

// Verify recomputes the tree from the leaves alone, never trusting stored
// nodes or the stored head: it checks seq contiguity, each leaf's encoding,
// stored hash and MAC, every stored node, every checkpoint's signature and
// root at its size, that the ledger is not shorter than any checkpoint, and
// the stored head. It returns a *Problem naming the first bad entry, or an
// error from the streams.
func Verify(s Stored, c Checks) (Report, error) {
	var rep Report
	cps := make([]checkpointAt, 0, len(c.Checkpoints))
	for i, signed := range c.Checkpoints {
		cp, err := OpenCheckpoint(signed, c.Origin, c.Verifier, c.Previous...)
		if err != nil {
			return rep, general("checkpoint %d: %v", i+1, err)
		}
		cps = append(cps, checkpointAt{cp: cp, pos: i + 1})
	}
	slices.SortStableFunc(cps, func(a, b checkpointAt) int {
		return cmp.Compare(a.cp.Size, b.cp.Size)
	})

	v := verifier{cps: cps, progress: c.Progress}
	if s.Head != nil {
		v.total = s.Head.Size
	}
	if s.Nodes != nil {
		next, stop := pipe(s.Nodes, func(n Node) Node { return n })
		defer stop()
		v.nextNode = next
	}
	rng, _ := NewRange(0, nil)
	v.rng = rng
	if err := v.checkpointsAt(0); err != nil {
		return rep, err
	}
	v.report()
	entries := s.Entries
	if entries == nil {
		entries = func(func(Entry, error) bool) {}
	}
	next, stop := pipe(entries, newLeafChecker(c.MACKey).check)
	defer stop()
	for {
		e, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("read ledger entries: %w", err)
		}
		if err := v.entry(e); err != nil {
			return rep, err
		}
		if v.size%ProgressEvery == 0 {
			v.report()
		}
	}
	if v.size%ProgressEvery != 0 {
		v.report()
	}
	if err := v.finish(s.Head); err != nil {
		return rep, err
	}
	rep.Size, rep.Nodes = v.size, v.nodes
	rep.Root, _ = Root(v.rng)
	for _, cp := range cps {
		rep.Checkpoints = append(rep.Checkpoints, *cp.cp)
	}
	return rep, nil
}

// leafPrefix is RFC 6962's domain separator for leaf hashes.
var leafPrefix = [1]byte{rfc6962.RFC6962LeafHashPrefix}

type verifier struct {
	cps      []checkpointAt
	cpNext   int
	rng      *compact.Range
	size     uint64
	nodes    uint64
	nextNode func() (Node, error, bool)
	bad      error // first node problem, reported by the visitor
	progress func(done, total uint64)
	total    uint64 // the stored head's size, the progress's total
}

// report tells Checks.Progress how far the check is.
func (v *verifier) report() {
	if v.progress != nil {
		v.progress(v.size, max(v.total, v.size))
	}
}

// checkedEntry is an entry with the per-leaf checks already run, off the
// tree's goroutine.
type checkedEntry struct {
	Entry
	hash    []byte
	badLeaf error
	badHash bool
	badMAC  bool
}

// leafChecker runs the checks that need one leaf only.
type leafChecker struct {
	sha, mac hash.Hash
	scratch  [HashSize]byte
}

func newLeafChecker(macKey []byte) *leafChecker {
	lc := &leafChecker{sha: sha256.New()}
	if macKey != nil {
		lc.mac = hmac.New(sha256.New, macKey)
	}
	return lc
}

func (lc *leafChecker) check(e Entry) checkedEntry {
	c := checkedEntry{Entry: e}
	if c.badLeaf = Check(e.Leaf); c.badLeaf != nil {
		return c
	}
	// The range keeps the hash, so each leaf hash gets its own 32 bytes.
	lc.sha.Reset()
	lc.sha.Write(leafPrefix[:])
	lc.sha.Write(e.Leaf)
	c.hash = lc.sha.Sum(make([]byte, 0, HashSize))
	c.badHash = !bytes.Equal(c.hash, e.LeafHash)
	if lc.mac != nil {
		lc.mac.Reset()
		lc.mac.Write(e.Leaf)
		c.badMAC = !hmac.Equal(lc.mac.Sum(lc.scratch[:0]), e.MAC)
	}
	return c
}

func (v *verifier) entry(e checkedEntry) error {
	seq := v.size
	switch {
	case e.Seq > seq:
		return problem(seq, "missing (the next stored entry is %d): entries were deleted", e.Seq)
	case e.Seq < seq:
		return problem(seq, "stored out of order or twice (found entry %d again)", e.Seq)
	case e.badLeaf != nil:
		return problem(seq, "leaf does not decode: %v", e.badLeaf)
	case e.badHash:
		return problem(seq, "stored leaf hash does not match the leaf: the entry was altered")
	case e.badMAC:
		return problem(seq, "leaf authentication failed: the entry was forged or altered (or titular's ledger key is not the one that wrote it)")
	}
	if err := v.rng.Append(e.hash, v.visit); err != nil {
		return problem(seq, "extend tree: %v", err)
	}
	if v.bad != nil {
		return v.bad
	}
	v.size++
	return v.checkpointsAt(v.size)
}

// visit compares each node the recomputation completes with the next stored
// node.
func (v *verifier) visit(id compact.NodeID, h []byte) {
	if id.Level == 0 || v.nextNode == nil || v.bad != nil {
		return
	}
	seq := v.size
	n, err, ok := v.nextNode()
	switch {
	case err != nil:
		v.bad = fmt.Errorf("read ledger nodes: %w", err)
	case !ok:
		v.bad = problem(seq, "node (level %d, index %d) is missing from storage", id.Level, id.Index)
	case n.Level != id.Level || n.Index != id.Index:
		v.bad = problem(seq, "stored node (level %d, index %d) found where node (level %d, index %d) belongs: nodes were removed, added or moved",
			n.Level, n.Index, id.Level, id.Index)
	case !bytes.Equal(n.Hash, h):
		v.bad = problem(seq, "stored node (level %d, index %d) does not match the tree recomputed from the leaves: it was edited", id.Level, id.Index)
	default:
		v.nodes++
	}
}

// checkpointsAt checks every checkpoint of the given size against the
// recomputed root.
func (v *verifier) checkpointsAt(size uint64) error {
	for v.cpNext < len(v.cps) && v.cps[v.cpNext].cp.Size == size {
		root, err := Root(v.rng)
		if err != nil {
			return err
		}
		cp := v.cps[v.cpNext]
		if !bytes.Equal(root, cp.cp.Hash) {
			if size == 0 {
				return general("checkpoint %d (size 0) has a root that is not the empty tree's", cp.pos)
			}
			return problem(size-1, "the tree of the first %d entries does not have the root signed in checkpoint %d: entries up to here were altered, reordered or replaced", size, cp.pos)
		}
		v.cpNext++
	}
	return nil
}

func (v *verifier) finish(head *Head) error {
	if v.nextNode != nil {
		n, err, ok := v.nextNode()
		if err != nil {
			return fmt.Errorf("read ledger nodes: %w", err)
		}
		if ok {
			return problem(v.size, "stored node (level %d, index %d) lies beyond the last entry: entries were deleted from the tail, or the node was forged", n.Level, n.Index)
		}
	}
	if v.cpNext < len(v.cps) {
		cp := v.cps[len(v.cps)-1]
		return problem(v.size, "missing: the ledger has %d entries but checkpoint %d commits to %d (entries were deleted or the database was restored from an older copy)",
			v.size, cp.pos, cp.cp.Size)
	}
	if head != nil {
		root, err := Root(v.rng)
		if err != nil {
			return err
		}
		switch {
		case head.Size > v.size:
			return problem(v.size, "missing: the stored head counts %d entries but only %d are stored (entries were deleted from the tail)", head.Size, v.size)
		case head.Size < v.size:
			return problem(head.Size, "beyond the stored head of %d entries: the entry was inserted behind titular's back", head.Size)
		case !bytes.Equal(head.Root, root):
			return general("the stored head's root differs from the tree recomputed from the leaves: the head or the entries were altered")
		}
	}
	return nil
}
