package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/export"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// WorkerKinds are the kinds processed by workers rather than in the call.
var WorkerKinds = []store.Kind{store.KindExtract, store.KindDelete, store.KindAnonymize, store.KindBlock}

// Worker processes queued requests, one claim at a time; the fleet
// scheduler decides when and for which tenant. Several processes share a
// tenant's queue through SKIP LOCKED claims.
type Worker struct {
	log   *slog.Logger
	cfg   config.Workers
	ttl   time.Duration
	owner string

	// OnProcessed, when set before use, is told how long each claimed
	// request took (metrics); it must not block.
	OnProcessed func(tenant, kind string, d time.Duration, failed bool)
}

// NewWorker returns a worker that leases the requests it claims under a
// name unique to this process.
func NewWorker(cfg config.Workers, exportTTL time.Duration, log *slog.Logger) *Worker {
	host, _ := os.Hostname()
	return &Worker{log: log, cfg: cfg, ttl: exportTTL,
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])}
}

// Owner is the name this process's claims and leases are held under.
func (w *Worker) Owner() string { return w.owner }

// RunOnce claims and processes at most one request of the tenant. It
// reports whether it found one and, when that one failed and waits to be
// retried, when it can be claimed again. A shutdown (ctx ending) abandons
// the request in hand: its transaction rolls back and, its lease expired,
// it is claimed again.
func (w *Worker) RunOnce(ctx context.Context, t *tenant.Tenant) (found bool, retryAt time.Time, err error) {
	r, err := t.Store.Claim(ctx, w.owner, w.cfg.Lease, WorkerKinds)
	if errors.Is(err, store.ErrNotFound) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, w.cfg.Lease)
	defer cancel()
	err = w.process(pctx, t, r)
	if w.OnProcessed != nil {
		w.OnProcessed(t.Config.ID, string(r.Kind), time.Since(start), err != nil)
	}
	if err != nil && ctx.Err() != nil {
		// Shutdown, not a failure of the request: it goes back to the queue
		// at once and the attempt does not count.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if aerr := t.Store.Abandon(rctx, r.ID, w.owner); aerr != nil {
			w.log.Warn("worker: giving a request back at shutdown failed; its lease will expire", "tenant", t.Config.ID, "request_id", r.ID, "error", logsafe.Error(aerr))
		}
		return true, time.Time{}, ctx.Err()
	}
	if err != nil {
		class := logsafe.Error(err)
		w.log.Error("worker: request failed", "tenant", t.Config.ID, "request_id", r.ID, "attempt", r.Attempts, "error", class)
		backoff := time.Duration(r.Attempts*r.Attempts) * time.Second
		// Recorded even when shutdown ended ctx, within a few seconds.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if rerr := t.Store.Release(rctx, r.ID, w.owner, class, backoff, w.cfg.MaxAttempts); rerr != nil {
			w.log.Error("worker: release failed; the lease will expire", "tenant", t.Config.ID, "request_id", r.ID, "error", logsafe.Error(rerr))
			return true, time.Now().Add(w.cfg.Lease), nil
		}
		return true, time.Now().Add(backoff), nil
	}
	w.log.Info("worker: request completed", "tenant", t.Config.ID, "request_id", r.ID, "kind", r.Kind, "duration_ms", time.Since(start).Milliseconds())
	return true, time.Time{}, nil
}

// process runs one claimed request according to its kind. A kind listed in
// WorkerKinds must have a case here.
func (w *Worker) process(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	if r.Subject.Empty() {
		return w.nothingLeft(ctx, t, r)
	}
	switch r.Kind {
	case store.KindExtract:
		return w.extract(ctx, t, r)
	case store.KindDelete:
		return w.erase(ctx, t, r)
	case store.KindAnonymize:
		return w.anonymize(ctx, t, r)
	case store.KindBlock:
		return w.block(ctx, t, r)
	}
	return fmt.Errorf("no worker for kind %s", r.Kind)
}

// nothingLeft completes a request whose identifiers titular no longer
// holds: an earlier DELETE or ANONYMIZE of the titular, run before this one
// (one after the other), left nothing of them and forgot the identifiers.
// Its result counts what it changed: nothing; a reason says why.
func (w *Worker) nothingLeft(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	res := &store.Result{}
	switch r.Kind {
	case store.KindExtract:
		res.Extract = &store.ExtractResult{}
	case store.KindDelete:
		res.Delete = &store.DeleteOutcome{DeleteResult: crm.DeleteResult{Complete: true}}
	case store.KindAnonymize:
		res.Anonymize = &crm.AnonymizeResult{}
	case store.KindBlock:
		res.Block = &store.BlockResult{}
	default:
		return fmt.Errorf("no worker for kind %s", r.Kind)
	}
	reasons := []store.Reason{{Code: "DATA_ALREADY_ERASED", Message: "Os dados deste titular já haviam sido eliminados " +
		"ou anonimizados por uma solicitação anterior; não havia nada a processar."}}
	return w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		return finish(ctx, tx, r, store.StatusCompleted, res, reasons)
	})
}

// extract builds the JSON, XLSX and PDF exports in one pass over a consistent
// snapshot of the titular's rows, and stores the three with the COMPLETED
// transition in one transaction: a crash leaves the request claimable and
// nothing half-written.
func (w *Worker) extract(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	read, err := t.Store.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer read.Close()
	return w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		open := func(format string) (*store.ExportWriter, error) {
			return tx.NewExportWriter(ctx, t.ExportKey, r.ID, format,
				export.ContentType(format), export.Filename(r.ID, format), w.ttl)
		}
		jsonOut, err := open(export.FormatJSON)
		if err != nil {
			return err
		}
		xlsxOut, err := open(export.FormatXLSX)
		if err != nil {
			return err
		}
		pdfOut, err := open(export.FormatPDF)
		if err != nil {
			return err
		}
		out := export.Multi(export.NewJSON(jsonOut), export.NewXLSX(xlsxOut), export.NewPDF(pdfOut))
		now := time.Now().UTC()
		meta, err := exportMeta(ctx, read, t, r)
		if err != nil {
			return err
		}
		meta.GeneratedAt = now
		if err := out.Begin(meta); err != nil {
			return err
		}
		counts, err := crm.WalkWith(ctx, read.CRM(), t.Map, r.Subject, &holdExportSink{exportSink: exportSink{w: out, m: t.Map}, now: now},
			crm.WalkOptions{Extra: crm.RetentionExtra})
		if err != nil {
			return err
		}
		receipt, err := writeConsentReceipt(ctx, read.Reads, t, r, out, exportsEvidence(t, r))
		if err != nil {
			return err
		}
		counts = append(counts, receipt)
		if err := out.Close(); err != nil {
			return err
		}
		for _, ew := range []*store.ExportWriter{jsonOut, xlsxOut, pdfOut} {
			if _, err := ew.Finish(); err != nil {
				return err
			}
		}
		res := &store.Result{Extract: &store.ExtractResult{Entities: counts}}
		for _, c := range counts {
			res.Extract.TotalRows += c.Rows
		}
		return finish(ctx, tx, r, store.StatusCompleted, res, nil)
	})
}

// leased runs fn in a read-write transaction that first checks w still
// holds r's lease, so a worker whose lease expired writes nothing. A
// destructive request's transaction also holds its titular's lock (waiting
// for one that holds it), before it reads anything: what an earlier
// DELETE removed is gone for the ANONYMIZE that follows, which counts only
// what it changed.
func (w *Worker) leased(ctx context.Context, t *tenant.Tenant, r *store.Request, fn func(ctx context.Context, tx *store.Tx) error) error {
	return t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CheckLease(ctx, r.ID, w.owner); err != nil {
			return err
		}
		if r.Kind.Destructive() {
			if err := tx.LockSubject(ctx, r.SubjectRef); err != nil {
				return err
			}
		}
		return fn(ctx, tx)
	})
}

// finish stores a claimed request's outcome and ends it as status, in tx.
func finish(ctx context.Context, tx *store.Tx, r *store.Request, status store.Status, res *store.Result, reasons []store.Reason) error {
	if err := tx.SetOutcome(ctx, r.ID, res, reasons); err != nil {
		return err
	}
	_, err := tx.Transition(ctx, r.ID, []store.Status{store.StatusProcessing}, status, "worker", "")
	return err
}

// holdReasons gives each retention hold a RETENTION_HOLD reason (or the
// hold's own code, such as FK_ACTION_WOULD_CHANGE_HELD_ROWS) naming its
// legal reference and release date; msg says what happened to its rows.
func holdReasons(holds []crm.Hold, msg func(crm.Hold) string) []store.Reason {
	var out []store.Reason
	for _, h := range holds {
		code := "RETENTION_HOLD"
		if h.Code != "" {
			code = h.Code
		}
		out = append(out, store.Reason{Code: code, Message: msg(h),
			LegalReference: h.Reference, Entity: h.Entity, Until: h.Until})
	}
	return out
}
