package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// createExtract creates an EXTRACT by CPF of one of t's titulares (the
// n-th, modulo the CRM's size) through gRPC, as the CRM back end would, and
// returns its id.
func (f *fleet) createExtract(ctx context.Context, t fleetTenant, n int) (string, error) {
	p := seed.SmallTitulares(t.seed, fleetTitulares)[n%fleetTitulares]
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+f.apiKey)
	r, err := lgpdv1.NewRequestServiceClient(f.grpc).CreateRequest(ctx, &lgpdv1.CreateRequestRequest{
		Tenant: t.id, Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: p.CPF}})
	if err != nil {
		return "", fmt.Errorf("CreateRequest on %s: %w", t.id, err)
	}
	return r.GetId(), nil
}

// waitEnded polls GetRequest (5 ms doubling to 50 ms, as a client would)
// until the request has ended, and returns its final status.
func (f *fleet) waitEnded(ctx context.Context, t fleetTenant, id string) (store.Status, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+f.apiKey)
	c := lgpdv1.NewRequestServiceClient(f.grpc)
	wait := pollMin
	for {
		r, err := c.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: t.id, Id: id})
		if err != nil {
			return "", fmt.Errorf("GetRequest on %s: %w", t.id, err)
		}
		switch s := store.Status(r.GetStatus().String()); s {
		case store.StatusCompleted, store.StatusFailed, store.StatusDenied, store.StatusCanceled:
			return s, nil
		}
		if err := sleep(ctx, &wait); err != nil {
			return "", err
		}
	}
}

// requestTimes are a request's state changes as titular recorded them in
// lgpd_request_events: both ends of every interval come from titular's own
// clock, so the bench's scheduling and the API's round trips are not in
// them.
type requestTimes struct {
	received, processing, ended time.Time
	status                      store.Status // the last state reached
}

// claimDelay is how long the request waited to be claimed.
func (r requestTimes) claimDelay() time.Duration { return r.processing.Sub(r.received) }

// events reads the state changes of requests ids of tenant t, on the
// bench's admin pool (the database name is the bench's own, never input).
func (f *fleet) events(ctx context.Context, t fleetTenant, ids []string) (map[string]*requestTimes, error) {
	out := map[string]*requestTimes{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	f.benchStatements++
	rows, err := f.admin.QueryContext(ctx, "SELECT request_id, to_status, at FROM `"+t.db+"`.lgpd_request_events WHERE request_id IN ("+ //nolint:gosec // G202: the bench's own database name, quoted, and placeholders; every id is a bound parameter
		strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("request events of %s: %w", t.id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var to store.Status
		var at time.Time
		if err := rows.Scan(&id, &to, &at); err != nil {
			return nil, fmt.Errorf("request events of %s: %w", t.id, err)
		}
		r := out[id]
		if r == nil {
			r = &requestTimes{}
			out[id] = r
		}
		r.status = to
		switch to {
		case store.StatusReceived:
			r.received = at
		case store.StatusProcessing:
			if r.processing.IsZero() { // a retried request is claimed again later
				r.processing = at
			}
		case store.StatusCompleted, store.StatusFailed, store.StatusDenied, store.StatusCanceled:
			r.ended = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request events of %s: %w", t.id, err)
	}
	for _, id := range ids {
		if r := out[id]; r == nil || r.received.IsZero() || r.processing.IsZero() {
			return nil, fmt.Errorf("request %s on %s has no RECEIVED or PROCESSING event", id, t.id)
		}
	}
	return out, nil
}

// unfinished counts the requests still waiting or running in the given
// tenants' databases, in one statement.
func (f *fleet) unfinished(ctx context.Context, ts []fleetTenant) (int, error) {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "SELECT COUNT(*) AS n FROM `" + t.db + "`.lgpd_requests WHERE status IN ('" +
			string(store.StatusReceived) + "', '" + string(store.StatusProcessing) + "')"
	}
	var n int
	f.benchStatements++
	if err := f.admin.QueryRowContext(ctx, "SELECT COALESCE(SUM(n), 0) FROM ("+strings.Join(parts, " UNION ALL ")+") q").Scan(&n); err != nil {
		return 0, fmt.Errorf("count unfinished requests: %w", err)
	}
	return n, nil
}

// drain waits until the tenants have no unfinished request, checking every
// 100 ms, for at most limit.
func (f *fleet) drain(ctx context.Context, ts []fleetTenant, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := f.unfinished(ctx, ts)
		if err != nil || n == 0 {
			return err
		}
		if err := f.serve.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d requests still unfinished after %s; titular's log may say why: %s", n, limit, f.serve.logPath)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}
