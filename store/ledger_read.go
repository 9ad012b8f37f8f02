package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// LedgerEntry is one integrated leaf.
type LedgerEntry struct {
	Seq       uint64
	Leaf      []byte
	LeafHash  []byte
	RequestID string
	CreatedAt time.Time
}

// LedgerHead returns the stored tree head.
func (s *Store) LedgerHead(ctx context.Context) (ledger.Head, error) {
	var h ledger.Head
	err := s.db.QueryRowContext(ctx, "SELECT size, root FROM lgpd_ledger_head WHERE id = 1").Scan(&h.Size, &h.Root)
	if err != nil {
		return h, fmt.Errorf("read ledger head: %w", err)
	}
	return h, nil
}

// LedgerEntries returns the entries with start <= seq < end, in order.
func (s *Store) LedgerEntries(ctx context.Context, start, end uint64) ([]LedgerEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, leaf, leaf_hash, request_id, created_at FROM lgpd_ledger_entries
 WHERE seq >= ? AND seq < ? ORDER BY seq`, start, end)
	if err != nil {
		return nil, fmt.Errorf("list ledger entries: %w", err)
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("list ledger entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEntry(sc interface{ Scan(...any) error }) (LedgerEntry, error) {
	var e LedgerEntry
	var req sql.NullString
	if err := sc.Scan(&e.Seq, &e.Leaf, &e.LeafHash, &req, &e.CreatedAt); err != nil {
		return e, err
	}
	e.RequestID, e.CreatedAt = req.String, e.CreatedAt.UTC()
	return e, nil
}

// LastRequestEntry returns the latest integrated leaf of a request, or
// ErrNotFound when it has none yet.
func (s *Store) LastRequestEntry(ctx context.Context, requestID string) (LedgerEntry, error) {
	e, err := scanEntry(s.db.QueryRowContext(ctx, `SELECT seq, leaf, leaf_hash, request_id, created_at FROM lgpd_ledger_entries
 WHERE request_id = ? ORDER BY seq DESC LIMIT 1`, requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("find request's ledger entry: %w", err)
	}
	return e, nil
}

// InclusionProof proves entry index is in the tree of the given size, from
// stored nodes.
func (s *Store) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	return ledger.InclusionProof(index, size, s.fetchNodes(ctx))
}

// ConsistencyProof proves the tree of size1 is a prefix of the tree of
// size2, from stored nodes.
func (s *Store) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	return ledger.ConsistencyProof(size1, size2, s.fetchNodes(ctx))
}

// nodeKey is where a node's hash is stored: level 0 under the entry's seq,
// the levels above under the last leaf they cover (see nodeSeq).
type nodeKey struct {
	seq   uint64
	level uint
}

// fetchNodes reads node hashes: level 0 from the entries' leaf hashes, the
// levels above from lgpd_ledger_nodes. It takes two statements, not one
// UNION ALL: go-mysql-server (the demo's engine) marks a statement whose
// branch looks up one primary key as returning at most one row, then fails
// it when the union returns more ("max1Row iterator returned more than one
// row"). Two reads see the same tree: entries and nodes up to the head are
// never changed (entries refuse UPDATE and DELETE), and a proof asks only
// for nodes below a size already integrated.
func (s *Store) fetchNodes(ctx context.Context) ledger.NodeFetcher {
	return func(ids []compact.NodeID) ([][]byte, error) {
		got := make(map[nodeKey][]byte, len(ids))
		var leafVals, nodeVals []any
		var nodeConds []string
		for _, id := range ids {
			if id.Level == 0 {
				leafVals = append(leafVals, id.Index)
			} else {
				nodeConds, nodeVals = append(nodeConds, "(seq = ? AND level = ?)"), append(nodeVals, nodeSeq(id), id.Level)
			}
		}
		if len(leafVals) > 0 {
			q := "SELECT seq, 0, leaf_hash FROM lgpd_ledger_entries WHERE seq IN (" + sqlq.Placeholders(len(leafVals)) + ")" //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
			if err := s.readHashes(ctx, got, q, leafVals); err != nil {
				return nil, err
			}
		}
		if len(nodeVals) > 0 {
			q := "SELECT seq, level, hash FROM lgpd_ledger_nodes WHERE " + strings.Join(nodeConds, " OR ") //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
			if err := s.readHashes(ctx, got, q, nodeVals); err != nil {
				return nil, err
			}
		}
		out := make([][]byte, len(ids))
		for i, id := range ids {
			k := nodeKey{seq: id.Index, level: 0}
			if id.Level > 0 {
				k = nodeKey{seq: nodeSeq(id), level: id.Level}
			}
			h, ok := got[k]
			if !ok {
				return nil, fmt.Errorf("ledger node (level %d, index %d) is missing; run titular ledger verify", id.Level, id.Index)
			}
			out[i] = h
		}
		return out, nil
	}
}

// readHashes adds the (seq, level, hash) rows of q to got.
func (s *Store) readHashes(ctx context.Context, got map[nodeKey][]byte, q string, args []any) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read ledger nodes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k nodeKey
		var h []byte
		if err := rows.Scan(&k.seq, &k.level, &h); err != nil {
			return fmt.Errorf("read ledger nodes: %w", err)
		}
		got[k] = h
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read ledger nodes: %w", err)
	}
	return nil
}

// StoredCheckpoint is a signed checkpoint as titular stored it.
type StoredCheckpoint struct {
	ID        int64
	Size      uint64
	Root      []byte
	Note      string
	CreatedAt time.Time
}

// SaveCheckpoint stores a signed checkpoint.
func (s *Store) SaveCheckpoint(ctx context.Context, size uint64, root []byte, note string) (StoredCheckpoint, error) {
	cp := StoredCheckpoint{Size: size, Root: root, Note: note, CreatedAt: s.now()}
	res, err := s.db.ExecContext(ctx, "INSERT INTO lgpd_ledger_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)",
		size, root, note, cp.CreatedAt)
	if err != nil {
		return cp, fmt.Errorf("store checkpoint: %w", err)
	}
	cp.ID, _ = res.LastInsertId()
	return cp, nil
}

// LatestCheckpoint returns the stored checkpoint of the largest tree, the
// last stored among those, or ErrNotFound before the first. By size, not by
// id: two signers racing may store a smaller checkpoint after a larger one,
// and the latest must not go back.
func (s *Store) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error) {
	var cp StoredCheckpoint
	err := s.db.QueryRowContext(ctx, `SELECT id, size, root, note, created_at FROM lgpd_ledger_checkpoints
 ORDER BY size DESC, id DESC LIMIT 1`).Scan(&cp.ID, &cp.Size, &cp.Root, &cp.Note, &cp.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, ErrNotFound
	}
	if err != nil {
		return cp, fmt.Errorf("read latest checkpoint: %w", err)
	}
	cp.CreatedAt = cp.CreatedAt.UTC()
	return cp, nil
}

// VerifyLedger streams the stored ledger through ledger.Verify: every entry
// and node up to the end observed at the start, the stored head, the latest
// stored checkpoint, and the checkpoints in c. Entries integrated while it
// runs are left for the next run. It checks leaf MACs with the store's
// ledger key.
func (s *Store) VerifyLedger(ctx context.Context, c ledger.Checks) (ledger.Report, error) {
	// Read the checkpoint before the head: a checkpoint written meanwhile
	// would otherwise look longer than the ledger.
	if cp, err := s.LatestCheckpoint(ctx); err == nil {
		c.Checkpoints = append(c.Checkpoints, []byte(cp.Note))
	} else if !errors.Is(err, ErrNotFound) {
		return ledger.Report{}, err
	}
	var head ledger.Head
	var end uint64
	// One statement, one consistent read: the head and the entries' end
	// agree unless someone changed one behind titular's back.
	err := s.db.QueryRowContext(ctx, `SELECT h.size, h.root, (SELECT COALESCE(MAX(seq) + 1, 0) FROM lgpd_ledger_entries)
 FROM lgpd_ledger_head h WHERE h.id = 1`).Scan(&head.Size, &head.Root, &end)
	if err != nil {
		return ledger.Report{}, fmt.Errorf("read ledger head: %w", err)
	}
	c.MACKey = s.ledgerKey
	return ledger.Verify(ledger.Stored{
		Entries: s.scanEntries(ctx, end),
		Nodes:   s.scanNodes(ctx, end),
		Head:    &head,
	}, c)
}

func (s *Store) scanEntries(ctx context.Context, end uint64) iter.Seq2[ledger.Entry, error] {
	return func(yield func(ledger.Entry, error) bool) {
		rows, err := s.db.QueryContext(ctx, "SELECT seq, leaf, leaf_hash, mac FROM lgpd_ledger_entries WHERE seq < ? ORDER BY seq", end)
		if err != nil {
			yield(ledger.Entry{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var e ledger.Entry
			if err := rows.Scan(&e.Seq, &e.Leaf, &e.LeafHash, &e.MAC); err != nil {
				yield(e, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(ledger.Entry{}, err)
		}
	}
}

func (s *Store) scanNodes(ctx context.Context, end uint64) iter.Seq2[ledger.Node, error] {
	return func(yield func(ledger.Node, error) bool) {
		rows, err := s.db.QueryContext(ctx, "SELECT seq, level, hash FROM lgpd_ledger_nodes WHERE seq < ? ORDER BY seq, level", end)
		if err != nil {
			yield(ledger.Node{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var seq uint64
			var n ledger.Node
			if err := rows.Scan(&seq, &n.Level, &n.Hash); err != nil {
				yield(n, err)
				return
			}
			if n.Level == 0 || n.Level > 63 || (seq+1)%(1<<n.Level) != 0 {
				n.Index = ^uint64(0) // not a node's key: matches nothing the tree computes
			} else {
				n.Index = seq >> n.Level
			}
			if !yield(n, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(ledger.Node{}, err)
		}
	}
}
