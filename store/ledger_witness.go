package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cosigned is a checkpoint cosigned by a witness (migration 0022).
type Cosigned struct {
	Witness   string
	Size      uint64
	Root      []byte
	Note      string
	CreatedAt time.Time
}

// SaveCosigned stores a witness's cosignature of a checkpoint. Saving the
// same witness and size again is a no-op: the witness cosigned one root at
// a size, and the first stored copy stands.
func (s *Store) SaveCosigned(ctx context.Context, c Cosigned) error {
	_, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO lgpd_ledger_cosignatures (witness, size, root, note, created_at)
 VALUES (?, ?, ?, ?, ?)`, c.Witness, c.Size, c.Root, c.Note, s.now())
	if err != nil {
		return fmt.Errorf("save cosigned checkpoint: %w", err)
	}
	return nil
}

// LatestCosigned returns the largest checkpoint witness cosigned, or
// ErrNotFound.
func (s *Store) LatestCosigned(ctx context.Context, witness string) (Cosigned, error) {
	c := Cosigned{Witness: witness}
	err := s.db.QueryRowContext(ctx, `SELECT size, root, note, created_at FROM lgpd_ledger_cosignatures
 WHERE witness = ? ORDER BY size DESC LIMIT 1`, witness).Scan(&c.Size, &c.Root, &c.Note, &c.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read latest cosigned checkpoint: %w", err)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return c, nil
}
