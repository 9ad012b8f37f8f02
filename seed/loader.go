package seed

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
)

const (
	// maxBatchRows bounds a multi-row INSERT; maxPlaceholders is the
	// protocol's limit on bound parameters per statement.
	maxBatchRows    = 1000
	maxPlaceholders = 65535
	// maxWriters is how many connections insert in parallel while the
	// generator runs: enough to overlap generation and the server's work
	// on a two-core machine.
	maxWriters = 2
)

// batch is a run of rows for one table.
type batch struct {
	table int
	rows  [][]any
}

// loader buffers generated rows per table and hands full batches to writer
// goroutines, each on its own connection with foreign key checks off: rows
// arrive in generation order, not parent-before-child order (a couple's
// pessoas rows point at each other), and the generator assigns every key
// itself so integrity holds by construction (the tests check it).
type loader struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	ch     chan batch
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error

	bufs   [numTables][][]any
	counts [numTables]int64
}

func startLoader(ctx context.Context, db *sql.DB) (*loader, error) {
	// A pool bounded below maxWriters would block the second db.Conn forever.
	writers := maxWriters
	if limit := db.Stats().MaxOpenConnections; limit > 0 {
		writers = min(writers, limit)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	l := &loader{ctx: ctx, cancel: cancel, ch: make(chan batch, writers*2)}
	for range writers {
		conn, err := db.Conn(ctx)
		if err != nil {
			l.abort(err)
			return nil, fmt.Errorf("seed: open a loading connection: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "SET SESSION foreign_key_checks = 0"); err != nil {
			conn.Close()
			l.abort(err)
			return nil, fmt.Errorf("seed: disable foreign key checks for the load: %w", err)
		}
		l.wg.Add(1)
		// write works under l.ctx, derived from ctx; only its final restore
		// of the session detaches (WithoutCancel), so it runs after a cancel.
		go l.write(conn) //nolint:contextcheck // see above
	}
	return l, nil
}

// abort stops the writers already started when the loader cannot start.
func (l *loader) abort(err error) {
	l.cancel(err)
	close(l.ch)
	l.wg.Wait()
}

// write inserts batches until the channel closes, then restores the session
// and gives the connection back (or discards it when restoring failed, so no
// pooled connection keeps foreign key checks off).
func (l *loader) write(conn *sql.Conn) {
	defer l.wg.Done()
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(l.ctx), "SET SESSION foreign_key_checks = 1"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	stmts := map[[2]int]string{}
	for b := range l.ch {
		if l.ctx.Err() != nil {
			continue // drain so the generator never blocks
		}
		if err := l.insert(conn, stmts, b); err != nil {
			l.fail(err)
		}
	}
}

func (l *loader) insert(conn *sql.Conn, stmts map[[2]int]string, b batch) error {
	t := tables[b.table]
	key := [2]int{b.table, len(b.rows)}
	q, ok := stmts[key]
	if !ok {
		q = insertSQL(t.name, t.cols, len(b.rows))
		stmts[key] = q
	}
	args := make([]any, 0, len(b.rows)*len(t.cols))
	for _, r := range b.rows {
		args = append(args, r...)
	}
	// One multi-row INSERT is atomic on its own under autocommit; an
	// explicit transaction would only add BEGIN and COMMIT round trips.
	if _, err := conn.ExecContext(l.ctx, q, args...); err != nil {
		return fmt.Errorf("seed: insert %d rows into %s: %w", len(b.rows), t.name, err)
	}
	return nil
}

func insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO `" + table + "` (`" + strings.Join(cols, "`, `") + "`) VALUES ")
	tuple := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

func (l *loader) fail(err error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err == nil {
		l.err = err
		l.cancel(err)
	}
}

// add queues one row; its length must match the table's column list.
func (l *loader) add(table int, row ...any) error {
	if len(row) != len(tables[table].cols) {
		return fmt.Errorf("seed: internal: %s row has %d values for %d columns", tables[table].name, len(row), len(tables[table].cols))
	}
	l.bufs[table] = append(l.bufs[table], row)
	l.counts[table]++
	if len(l.bufs[table]) >= batchRows(table) {
		return l.flush(table)
	}
	return nil
}

func batchRows(table int) int {
	return min(maxBatchRows, maxPlaceholders/len(tables[table].cols))
}

func (l *loader) flush(table int) error {
	if len(l.bufs[table]) == 0 {
		return nil
	}
	select {
	case l.ch <- batch{table: table, rows: l.bufs[table]}:
		l.bufs[table] = make([][]any, 0, batchRows(table))
		return nil
	case <-l.ctx.Done():
		return l.cause()
	}
}

// finish flushes what is left, waits for the writers and reports the first
// error: a writer's failure wins, since a generator error after it is only
// its consequence. It must be called exactly once, also after a generation
// error.
func (l *loader) finish(genErr error) error {
	if genErr == nil {
		for t := range numTables {
			if genErr = l.flush(t); genErr != nil {
				break
			}
		}
	}
	if genErr != nil {
		l.cancel(genErr)
	}
	close(l.ch)
	l.wg.Wait()
	l.cancel(nil)
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err != nil {
		return l.err
	}
	return genErr
}

func (l *loader) cause() error {
	return context.Cause(l.ctx)
}
