package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// consentBatchMax bounds the CONSENTs one transaction writes.
const consentBatchMax = 100

// consentFlushers is how many batch transactions of one tenant run at once:
// while they run, new CONSENTs queue and go together into the next batch,
// so batches grow with the load and a lone request waits for no timer.
const consentFlushers = 2

// consentJob is one CreateRequest CONSENT waiting for its batch.
type consentJob struct {
	ctx  context.Context
	n    store.NewRequest
	ch   consentChange
	done chan consentResult
}

type consentResult struct {
	req *store.Request
	err error
	// alone: the batch failed as a whole; the caller runs its job by itself.
	alone bool
}

// consentBatcher groups concurrent CONSENTs per tenant into one
// transaction of multi-row statements: per statement, MariaDB's cost is
// nearly the same for one row as for a hundred.
type consentBatcher struct {
	mu     sync.Mutex
	queues map[string]*consentQueue
}

type consentQueue struct {
	jobs     []*consentJob
	flushers int
}

func newConsentBatcher() *consentBatcher {
	return &consentBatcher{queues: map[string]*consentQueue{}}
}

// submit queues a job and waits for its outcome.
func (b *consentBatcher) submit(ctx context.Context, t *tenant.Tenant, j *consentJob) consentResult {
	j.done = make(chan consentResult, 1)
	b.mu.Lock()
	q := b.queues[t.Config.ID]
	if q == nil {
		q = &consentQueue{}
		b.queues[t.Config.ID] = q
	}
	q.jobs = append(q.jobs, j)
	if q.flushers < consentFlushers {
		q.flushers++
		go b.flush(t, q) //nolint:contextcheck // the batch outlives any one caller: each job carries its own context
	}
	b.mu.Unlock()
	select {
	case r := <-j.done:
		return r
	case <-ctx.Done():
		// The batch may still commit this request; a retry with the same
		// idempotency key finds it, as after any lost answer.
		return consentResult{err: ctx.Err()}
	}
}

// flush runs batches until the tenant's queue is empty.
func (b *consentBatcher) flush(t *tenant.Tenant, q *consentQueue) {
	for {
		b.mu.Lock()
		n := min(len(q.jobs), consentBatchMax)
		if n == 0 {
			q.flushers--
			b.mu.Unlock()
			return
		}
		jobs := q.jobs[:n:n]
		q.jobs = q.jobs[n:]
		b.mu.Unlock()
		runConsentBatch(t, jobs)
	}
}

// runConsentBatch writes jobs in one transaction. Jobs failing a rule get
// their own error and are left out; a job repeating another's idempotency
// key runs alone afterwards and finds the first one's request. When the
// transaction fails, every job runs alone so one bad job fails no other.
func runConsentBatch(t *tenant.Tenant, jobs []*consentJob) {
	live := jobs[:0:0]
	for _, j := range jobs {
		if j.ctx.Err() == nil {
			live = append(live, j)
		}
	}
	// No caller's cancellation may abort the others' transaction.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := make([]consentResult, len(live))
	err := t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		for i := range results {
			results[i] = consentResult{}
		}
		return consentBatchTx(ctx, t, tx, live, results)
	})
	for i, j := range live {
		r := results[i]
		if err != nil {
			r = consentResult{alone: true}
		}
		j.done <- r
	}
}

func consentBatchTx(ctx context.Context, t *tenant.Tenant, tx *store.Tx, jobs []*consentJob, results []consentResult) error {
	var keys []store.IdemKey
	first := map[store.IdemKey]bool{}
	purposeSet := map[string]bool{}
	var purposeIDs []string
	for i, j := range jobs {
		if k := (store.IdemKey{CreatedBy: j.n.CreatedBy, Key: j.n.IdempotencyKey}); k.Key != "" {
			if first[k] {
				results[i].alone = true
				continue
			}
			first[k] = true
			keys = append(keys, k)
		}
		if !purposeSet[j.ch.purpose] {
			purposeSet[j.ch.purpose] = true
			purposeIDs = append(purposeIDs, j.ch.purpose)
		}
	}
	existing, err := tx.RequestsByIdempotencyKeys(ctx, keys)
	if err != nil {
		return err
	}
	purposes, err := tx.PurposesForConsent(ctx, purposeIDs)
	if err != nil {
		return err
	}
	var ws []store.ConsentWrite
	var idx []int
	for i, j := range jobs {
		if results[i].alone {
			continue
		}
		if r, ok := existing[store.IdemKey{CreatedBy: j.n.CreatedBy, Key: j.n.IdempotencyKey}]; ok && j.n.IdempotencyKey != "" {
			results[i].req, results[i].err = t.Store.IdempotentMatch(r, j.n)
			continue
		}
		w, err := consentWrite(ctx, t, tx, purposes[j.ch.purpose], j.ch)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				return err
			}
			results[i].err = err
			continue
		}
		w.New = j.n
		ws = append(ws, w)
		idx = append(idx, i)
	}
	reqs, err := tx.WriteConsentBatch(ctx, ws)
	if err != nil {
		return err
	}
	for k, i := range idx {
		results[i].req = reqs[k]
	}
	return nil
}

// consentWrite applies the consent rules to ch against purpose p, read
// under a shared lock in tx (nil when the catalog lacks it), so the term a
// GRANT names is the one in force when the transaction commits. The caller
// fills in New, and the request in Record and Event.
//
// Rules. The purpose must exist. A GRANT must rest on consent and name the
// term in force (grantRule; FAILED_PRECONDITION otherwise: the titular saw
// an outdated text). A REVOKE is always accepted (Art. 8 §5: free and as
// easy as granting), and so is a REFUSE: saying no never depends on which
// text was on screen. Both record the term they name when it is a published
// version, and no term otherwise. A job failing a rule gets its error and
// leaves no request behind.
func consentWrite(ctx context.Context, t *tenant.Tenant, tx *store.Tx, p *store.Purpose, ch consentChange) (store.ConsentWrite, error) {
	if p == nil {
		return store.ConsentWrite{}, errorf(codes.NotFound, "PURPOSE_NOT_FOUND", "purpose %s is not in this tenant's catalog; list them with GET /v1/tenants/{tenant}/purposes", ch.purpose)
	}
	rec := store.ConsentRecord{PurposeID: p.ID, Action: ch.action, Channel: ch.channel, Evidence: ch.evidence}
	if err := grantRule(p, ch); err != nil {
		return store.ConsentWrite{}, err
	}
	switch {
	case ch.action == store.ConsentGrant, ch.version == p.CurrentVersion:
		rec.TermVersion, rec.TermSHA256 = p.CurrentVersion, p.CurrentSHA256
	case ch.version != "":
		sum, err := tx.TermDigest(ctx, p.ID, ch.version)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.ConsentWrite{}, err
		}
		if err == nil {
			rec.TermVersion, rec.TermSHA256 = ch.version, sum
		}
	}
	w := store.ConsentWrite{Record: rec,
		Note: fmt.Sprintf("consent %s %s term=%s sha256=%s", ch.action, p.ID, rec.TermVersion, rec.TermSHA256)}
	if ch.action == store.ConsentRevoke {
		w.Event = &store.OutboxEvent{Type: store.EventConsentRevoked,
			Data: consentEventData{Purpose: p.ID, TermVersion: rec.TermVersion, SharedWith: p.SharedWith}}
		w.Endpoints = t.Config.WebhooksFor(w.Event.Type)
	}
	return w, nil
}

// createConsent records a CONSENT through the tenant's batcher, or alone
// when its batch failed as a whole or it repeats another job's idempotency
// key (it then finds that job's request).
func (s *Requests) createConsent(ctx context.Context, t *tenant.Tenant, n store.NewRequest, ch consentChange) (*store.Request, error) {
	j := &consentJob{ctx: ctx, n: n, ch: ch}
	if r := s.consents.submit(ctx, t, j); !r.alone {
		return r.req, r.err
	}
	return runConsentAlone(ctx, t, j)
}

// runConsentAlone is a batch of one in its own transaction. A concurrent
// request taking the same new identifier or idempotency key makes it rerun:
// the next attempt reads what the other committed.
func runConsentAlone(ctx context.Context, t *tenant.Tenant, j *consentJob) (*store.Request, error) {
	results := make([]consentResult, 1)
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			results[0] = consentResult{}
			return consentBatchTx(ctx, t, tx, []*consentJob{j}, results)
		})
		if !store.IsBatchRace(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return results[0].req, results[0].err
}
