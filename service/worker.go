package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/uuid"

	"github.com/titular/titular/config"
	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// workerKinds are the kinds processed by workers rather than in the call.
var workerKinds = []string{store.KindExtract, store.KindDelete, store.KindAnonymize}

// Worker processes queued requests for every tenant. Each process runs one;
// several processes share a tenant's queue through SKIP LOCKED claims.
type Worker struct {
	tenants *tenant.Registry
	log     *slog.Logger
	cfg     config.Workers
	ttl     time.Duration
	owner   string

	mu    sync.Mutex
	wakes map[string]chan struct{}

	// OnProcessed, when set before Run, is told how long each claimed
	// request took (metrics); it must not block.
	OnProcessed func(tenant, kind string, d time.Duration, failed bool)
}

// NewWorker returns a worker over the registry's tenants.
func NewWorker(tenants *tenant.Registry, cfg config.Workers, exportTTL time.Duration, log *slog.Logger) *Worker {
	host, _ := os.Hostname()
	w := &Worker{tenants: tenants, log: log, cfg: cfg, ttl: exportTTL,
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]), wakes: map[string]chan struct{}{}}
	for _, id := range tenants.IDs() {
		w.wakes[id] = make(chan struct{}, cfg.PerTenant)
	}
	return w
}

// Wake tells the tenant's idle loops that work arrived, so a new request
// starts at once rather than at the next poll.
func (w *Worker) Wake(tenantID string) {
	w.mu.Lock()
	ch := w.wakes[tenantID]
	w.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run processes requests until ctx ends, then waits for work in hand.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, id := range w.tenants.IDs() {
		for range w.cfg.PerTenant {
			wg.Go(func() { w.loop(ctx, id) })
		}
	}
	wg.Wait()
}

// loop claims and processes one tenant's requests. An idle tenant costs one
// indexed query per poll interval; the wait grows from 100ms to that
// interval while the queue stays empty.
func (w *Worker) loop(ctx context.Context, tenantID string) {
	const minWait = 100 * time.Millisecond
	wait := minWait
	for ctx.Err() == nil {
		did, err := w.RunOnce(ctx, tenantID)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Error("worker: tenant unavailable", "tenant", tenantID, "error", errClass(err))
			wait = w.cfg.PollInterval
		case did:
			wait = minWait
			continue
		default:
			wait = min(wait*2, w.cfg.PollInterval)
		}
		select {
		case <-ctx.Done():
		case <-w.wakes[tenantID]:
			wait = minWait
		case <-time.After(wait):
		}
	}
}

// RunOnce claims and processes at most one request of the tenant. It reports
// whether it found one.
func (w *Worker) RunOnce(ctx context.Context, tenantID string) (bool, error) {
	t, err := w.tenants.Get(ctx, tenantID)
	if err != nil {
		return false, err
	}
	r, err := t.Store.Claim(ctx, w.owner, w.cfg.Lease, workerKinds)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	start := time.Now()
	// Work in hand finishes even when shutdown starts; the lease bounds it.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Lease)
	defer cancel()
	err = w.process(pctx, t, r)
	if w.OnProcessed != nil {
		w.OnProcessed(tenantID, r.Kind, time.Since(start), err != nil)
	}
	if err != nil {
		class := errClass(err)
		w.log.Error("worker: request failed", "tenant", tenantID, "request_id", r.ID, "attempt", r.Attempts, "error", class)
		backoff := time.Duration(r.Attempts*r.Attempts) * time.Second
		if rerr := t.Store.Release(pctx, r.ID, w.owner, class, backoff, w.cfg.MaxAttempts); rerr != nil {
			w.log.Error("worker: release failed; the lease will expire", "tenant", tenantID, "request_id", r.ID, "error", errClass(rerr))
		}
		return true, nil
	}
	w.log.Info("worker: request completed", "tenant", tenantID, "request_id", r.ID, "kind", r.Kind, "duration_ms", time.Since(start).Milliseconds())
	return true, nil
}

// process runs one claimed request according to its kind. A kind listed in
// workerKinds must have a case here.
func (w *Worker) process(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	switch r.Kind {
	case store.KindExtract:
		return w.extract(ctx, t, r)
	case store.KindDelete:
		return w.erase(ctx, t, r)
	case store.KindAnonymize:
		return w.anonymize(ctx, t, r)
	}
	return fmt.Errorf("no worker for kind %s", r.Kind)
}

// errClass describes an error without the data it may quote: MySQL messages
// can echo row values, so only their number is kept.
func errClass(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("database error %d", me.Number)
	}
	return err.Error()
}

// extract builds the JSON and XLSX exports in one pass over a consistent
// snapshot of the titular's rows, and stores both with the COMPLETED
// transition in one transaction: a crash leaves the request claimable and
// nothing half-written.
func (w *Worker) extract(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	// InnoDB's default isolation, REPEATABLE READ, makes this read-only
	// transaction one snapshot; asking for it explicitly would cost a `SET
	// TRANSACTION ISOLATION LEVEL` round trip per request.
	read, err := t.Store.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	return w.leased(ctx, t, r, func(ctx context.Context, tx *sql.Tx) error {
		open := func(format string) (*store.ExportWriter, error) {
			return t.Store.NewExportWriter(ctx, tx, t.ExportKey, r.ID, format,
				export.ContentType(format), export.Filename(r.ID, format), w.ttl)
		}
		jsonOut, err := open("json")
		if err != nil {
			return err
		}
		xlsxOut, err := open("xlsx")
		if err != nil {
			return err
		}
		out := export.Multi(export.NewJSON(jsonOut), export.NewXLSX(xlsxOut))
		if err := out.Begin(export.Meta{
			RequestID: r.ID, Tenant: t.Config.ID, TenantName: t.Config.Name, Kind: r.Kind,
			ReceivedAt: r.ReceivedAt, DueAt: r.DueAt, GeneratedAt: time.Now().UTC(), SubjectRef: r.SubjectRef,
		}); err != nil {
			return err
		}
		counts, err := store.Walk(ctx, read, t.Map, r.Subject, &exportSink{w: out})
		if err != nil {
			return err
		}
		receipt, err := writeConsentReceipt(ctx, read, t, r, out)
		if err != nil {
			return err
		}
		counts = append(counts, receipt)
		if err := out.Close(); err != nil {
			return err
		}
		for _, ew := range []*store.ExportWriter{jsonOut, xlsxOut} {
			if _, err := ew.Finish(); err != nil {
				return err
			}
		}
		res := &store.Result{Extract: &store.ExtractResult{Entities: counts}}
		for _, c := range counts {
			res.Extract.TotalRows += c.Rows
		}
		return finish(ctx, t, tx, r, store.StatusCompleted, res, nil)
	})
}

// leased runs fn in a read-write transaction that first checks w still
// holds r's lease, so a worker whose lease expired writes nothing.
func (w *Worker) leased(ctx context.Context, t *tenant.Tenant, r *store.Request, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := t.Store.CheckLease(ctx, tx, r.ID, w.owner); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// finish stores a claimed request's outcome and ends it as status, in tx.
func finish(ctx context.Context, t *tenant.Tenant, tx *sql.Tx, r *store.Request, status string, res *store.Result, reasons []store.Reason) error {
	if err := t.Store.SetOutcome(ctx, tx, r.ID, res, reasons); err != nil {
		return err
	}
	_, err := t.Store.Transition(ctx, tx, r.ID, []string{store.StatusProcessing}, status, "worker", "")
	return err
}

// holdReasons gives each retention hold a RETENTION_HOLD reason naming its
// legal reference and release date; msg says what happened to its rows.
func holdReasons(holds []store.Hold, msg func(store.Hold) string) []store.Reason {
	var out []store.Reason
	for _, h := range holds {
		out = append(out, store.Reason{Code: "RETENTION_HOLD", Message: msg(h),
			LegalReference: h.Reference, Entity: h.Entity, Until: h.Until})
	}
	return out
}
