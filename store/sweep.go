package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/datamap"
)

// SweepCount is what a sweep did (or would do) to one entity's blocked rows.
type SweepCount struct {
	Entity string `json:"entity"`
	// Due rows' hold has ended (or they were kept only for rows now gone).
	Due int64 `json:"due"`
	// Erased rows were deleted; Kept rows are still referenced by held rows.
	Erased int64 `json:"erased"`
	Kept   int64 `json:"kept"`
}

type blockRow struct {
	id       int64
	entity   string
	key      []any
	dependet bool
}

// sweepBatch bounds how many blocks one transaction releases.
const sweepBatch = 500

// Sweep erases blocked rows whose retention hold has ended, and rows that
// were kept only because held rows referenced them once those are gone.
// Each batch commits on its own; a row still referenced stays blocked.
// With dryRun it only counts what is due.
func (s *Store) Sweep(ctx context.Context, m *datamap.Map, dryRun bool) ([]SweepCount, error) {
	now := s.now()
	counts := map[string]*SweepCount{}
	var after int64
	for {
		var due []blockRow
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			due, err = dueBlocks(ctx, tx, now, after, !dryRun)
			if err != nil || dryRun {
				return err
			}
			return s.release(ctx, tx, m, due, now, counts)
		})
		if err != nil {
			return nil, err
		}
		if dryRun {
			for _, b := range due {
				entry(counts, b.entity).Due++
			}
		}
		if len(due) < sweepBatch {
			break
		}
		after = due[len(due)-1].id
	}
	var out []SweepCount
	for _, e := range m.Order() {
		if c := counts[e.Name]; c != nil {
			out = append(out, *c)
		}
	}
	return out, nil
}

func entry(counts map[string]*SweepCount, entity string) *SweepCount {
	c := counts[entity]
	if c == nil {
		c = &SweepCount{Entity: entity}
		counts[entity] = c
	}
	return c
}

// dueBlocks lists unreleased blocks past their release date, plus the
// dependant blocks (no date) worth retrying, in id order after `after`.
func dueBlocks(ctx context.Context, tx *sql.Tx, now time.Time, after int64, lock bool) ([]blockRow, error) {
	q := `SELECT id, entity, row_key, release_at IS NULL FROM lgpd_blocks
 WHERE released_at IS NULL AND (release_at <= ? OR release_at IS NULL) AND id > ? ORDER BY id LIMIT ?`
	if lock {
		q += " FOR UPDATE SKIP LOCKED"
	}
	rows, err := tx.QueryContext(ctx, q, now, after, sweepBatch)
	if err != nil {
		return nil, fmt.Errorf("list due blocks: %w", err)
	}
	defer rows.Close()
	var out []blockRow
	for rows.Next() {
		var b blockRow
		var key string
		if err := rows.Scan(&b.id, &b.entity, &key, &b.dependet); err != nil {
			return nil, fmt.Errorf("list due blocks: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(key))
		dec.UseNumber() // ids beyond 2^53 stay exact
		if err := dec.Decode(&b.key); err != nil {
			return nil, fmt.Errorf("block %d: bad row key: %w", b.id, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// release deletes each due row. Children's blocks come before their
// parents' in id order (DELETE blocks children first), so one pass frees a
// whole titular once every hold has ended.
func (s *Store) release(ctx context.Context, tx *sql.Tx, m *datamap.Map, due []blockRow, now time.Time, counts map[string]*SweepCount) error {
	for _, b := range due {
		c := entry(counts, b.entity)
		c.Due++
		e := m.Entity(b.entity)
		if e == nil {
			// The map no longer has the entity: keep the block for the DPO.
			c.Kept++
			continue
		}
		ok, err := deleteRow(ctx, tx, e, b.key)
		if err != nil {
			return err
		}
		if !ok {
			c.Kept++
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE lgpd_blocks SET released_at = ? WHERE id = ?", now, b.id); err != nil {
			return fmt.Errorf("release block: %w", err)
		}
		if err := s.appendErasureLeaf(ctx, tx, b.id, now); err != nil {
			return err
		}
		c.Erased++
	}
	return nil
}
