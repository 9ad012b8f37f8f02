package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
	"github.com/titular/titular/webhook"
)

// dispatchBatch is how many deliveries one claim takes; dispatchParallel of
// them are in flight at once, over kept-alive connections.
const (
	dispatchBatch    = 64
	dispatchParallel = 16
)

// Dispatcher delivers tenants' outboxes to their webhook endpoints, at
// least once, one batch at a time; the fleet scheduler decides when and for
// which tenant. Claims use SKIP LOCKED with a lease, so several replicas
// share an outbox, and a delivery whose outcome was not recorded (a crash,
// a shutdown mid-call) is sent again when its lease ends.
type Dispatcher struct {
	cfg    config.WebhookDelivery
	client *http.Client
	log    *slog.Logger
	// OnFailure, when set before use, counts each failed delivery attempt
	// (the webhook-failures metric).
	OnFailure func(tenant string)
}

// NewDispatcher returns a dispatcher; each tenant's endpoints and secrets
// come with the tenant (tenant.Tenant.Endpoints).
func NewDispatcher(cfg config.WebhookDelivery, log *slog.Logger) *Dispatcher {
	return &Dispatcher{cfg: cfg, log: log,
		// Redirects are not followed: a signed body goes only where configured.
		client: &http.Client{Timeout: cfg.Timeout, Transport: dispatchTransport(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// dispatchTransport keeps a connection per parallel attempt alive between
// batches: the default keeps two per host, and a busy outbox would open and
// close a TCP (and TLS) connection for nearly every event.
func dispatchTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = dispatchParallel
	return tr
}

// lease is how long a claimed delivery is kept from other dispatchers: a
// batch goes out in waves of dispatchParallel attempts, each wave within the
// HTTP timeout, with room for one more timeout and recording the outcomes.
func (d *Dispatcher) lease() time.Duration {
	waves := (dispatchBatch + dispatchParallel - 1) / dispatchParallel
	return time.Duration(waves+1)*d.cfg.Timeout + time.Second
}

// RunOnce claims and attempts one batch of the tenant's due deliveries. more
// says the batch was full (others may be due); retryAt, when not zero, is
// the earliest retry of an attempt that failed. Attempts in hand finish
// after ctx ends, within the HTTP timeout, so their outcome is recorded.
func (d *Dispatcher) RunOnce(ctx context.Context, t *tenant.Tenant) (more bool, retryAt time.Time, err error) {
	batch, err := t.Store.ClaimDeliveries(ctx, dispatchBatch, d.lease())
	if err != nil || len(batch) == 0 {
		return false, time.Time{}, err
	}
	wctx := context.WithoutCancel(ctx)
	retries := make([]time.Time, len(batch))
	sem := make(chan struct{}, dispatchParallel)
	var wg sync.WaitGroup
	for i, dl := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			retries[i] = d.attempt(wctx, t, dl)
		})
	}
	wg.Wait()
	var done []store.DeliveryKey
	for i, dl := range batch {
		switch r := retries[i]; {
		case r.IsZero():
			done = append(done, store.DeliveryKey{Seq: dl.Event.Seq, Endpoint: dl.Endpoint})
		case r.Equal(never):
		case retryAt.IsZero() || r.Before(retryAt):
			retryAt = r
		}
	}
	if err := t.Store.DeliveriesSucceeded(wctx, done); err != nil {
		// The leases run out and the events are sent again: receivers de-duplicate.
		d.log.Error("dispatcher: delivered, but recording it failed", "tenant", t.Config.ID, "deliveries", len(done), "error", logsafe.Error(err))
		retryAt = time.Now().Add(d.lease())
	}
	return len(batch) >= dispatchBatch, retryAt, nil
}

// never marks an attempt that will not be retried (failed for good).
var never = time.Unix(0, 0)

// attempt sends one delivery. It returns the zero time when it was
// delivered, else when it is due again (never: failed for good); a failed
// attempt is recorded here, a success by the caller with the batch's others.
func (d *Dispatcher) attempt(ctx context.Context, t *tenant.Tenant, dl store.Delivery) time.Time {
	ep, ok := t.Endpoints[dl.Endpoint]
	var reason string
	if !ok {
		reason = "endpoint is no longer configured for this tenant"
	} else {
		reason = d.post(ctx, t.Config.ID, t.Store, ep, dl)
	}
	attrs := func() []any {
		return []any{"tenant", t.Config.ID, "endpoint", dl.Endpoint, "event_id", dl.Event.ID, "type", dl.Event.Type, "attempt", dl.Attempts}
	}
	if reason == "" {
		// Built only when wanted: this is every event's path.
		if d.log.Enabled(ctx, slog.LevelDebug) {
			d.log.Debug("dispatcher: delivered", attrs()...)
		}
		return time.Time{}
	}
	log := d.log.With(attrs()...)
	if d.OnFailure != nil {
		d.OnFailure(t.Config.ID)
	}
	giveUp := !ok || dl.Attempts >= d.cfg.MaxAttempts
	retryAt := time.Now().UTC().Add(d.backoff(dl.Attempts))
	if err := t.Store.DeliveryFailed(ctx, dl.Event.Seq, dl.Endpoint, dl.Attempts, reason, retryAt, giveUp); err != nil {
		log.Error("dispatcher: recording a failed attempt failed", "error", logsafe.Error(err))
		return time.Now().Add(d.lease())
	}
	if giveUp {
		log.Error("dispatcher: delivery failed for good", "reason", reason)
		return never
	}
	log.Warn("dispatcher: delivery failed; will retry", "reason", reason, "retry_at", retryAt)
	return retryAt
}

// backoff is the wait after the attempt-th failure: MinBackoff doubled per
// attempt up to MaxBackoff, then jittered into [d/2, d] so endpoints coming
// back up are not hit by every retry at once.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < attempt && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	return b/2 + rand.N(b/2+1) //nolint:gosec // G404: jitter of a retry delay, not a secret
}

// post sends the signed event and returns "" on a 2xx, else why it failed.
// The reason names an HTTP status or a network error class, never the body.
func (d *Dispatcher) post(ctx context.Context, tenantID string, st *store.Store, ep tenant.Endpoint, dl store.Delivery) string {
	data, _ := dl.Event.Data.(json.RawMessage) // as ClaimDeliveries reads it
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	// The body is rebuilt from stored columns on every attempt; encoding/json
	// is deterministic, so retries carry the same bytes and signature.
	ev := webhook.Event{
		ID: dl.Event.ID, Seq: dl.Event.Seq, Type: dl.Event.Type, Tenant: tenantID, OccurredAt: dl.Event.CreatedAt,
		SubjectRef: dl.Event.SubjectRef, RequestID: dl.Event.RequestID, Recipient: dl.Recipient, Data: data,
	}
	// Identifiers only for the kinds recorded on the delivery; the reason
	// returned on failure names the event, never a value.
	p, err := st.OpenPrivate(dl)
	if err != nil {
		return err.Error()
	}
	if p != nil {
		ev.Subject = &webhook.Subject{CPF: p.Identifiers.CPF, Email: p.Identifiers.Email, Phone: p.Identifiers.Phone, NewValues: p.NewValues}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return "encode event: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return "build request: invalid endpoint URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "titular-webhooks/1")
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(ep.Secret, body))
	req.Header.Set(webhook.HeaderEventID, dl.Event.ID)
	req.Header.Set(webhook.HeaderEventType, dl.Event.Type)
	req.Header.Set(webhook.HeaderAttempt, strconv.Itoa(dl.Attempts))
	resp, err := d.client.Do(req)
	if err != nil {
		return netReason(err)
	}
	defer resp.Body.Close() //nolint:errcheck // the response was read; closing a drained body cannot lose data
	// Drain a little so the connection is reused; the content is not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return ""
	}
	return fmt.Sprintf("HTTP %d", resp.StatusCode)
}

// netReason classifies a transport error without the URL, which may carry a
// token in its query.
func netReason(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "network: " + oe.Op + ": " + logsafe.Error(oe.Err)
	}
	return "network: " + logsafe.Error(err)
}
