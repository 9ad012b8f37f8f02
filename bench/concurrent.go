package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
)

// Polling bounds while a client waits for its request to complete: the API
// has no long poll, so clients poll GetRequest, from pollMin doubling to pollMax.
const (
	pollMin = 5 * time.Millisecond
	pollMax = 50 * time.Millisecond
)

func concurrentScenario() Scenario {
	return Scenario{
		Name: "concurrent",
		About: "concurrent clients doing EXTRACT end to end (create, poll until COMPLETED, download the JSON) " +
			"through REST and gRPC, vs the hand-written SQL+JSON baseline at the same concurrency",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			var next atomic.Uint64
			pick := func() store.Identifiers { return env.pool[int(next.Add(1)%uint64(len(env.pool)))] } //nolint:gosec // G115: the remainder is below len(env.pool), an int
			n := env.opts.Clients
			e2e := fmt.Sprintf("create EXTRACT by CPF, poll GetRequest (%s doubling to %s) until COMPLETED, download the JSON export", pollMin, pollMax)
			return compare(ctx, env, comparison{
				scenario: "concurrent",
				variants: []variant{
					{name: "baseline", clients: n, what: "hand-written SQL + JSON of one titular, no service, no queue, nothing stored",
						op: func(ctx context.Context) (int64, error) {
							return env.handExtract(ctx, pick(), newJSONBaseline(io.Discard))
						}},
					{name: "rest", clients: n, what: "REST: " + e2e,
						op: func(ctx context.Context) (int64, error) { return env.restExtract(ctx, pick()) }},
					{name: "grpc", clients: n, what: "gRPC: " + e2e,
						op: func(ctx context.Context) (int64, error) { return env.grpcExtract(ctx, pick()) }},
				},
				ratio: rateRatio, ratioMeans: "requests/s relative to the baseline's",
			})
		},
	}
}

// restRequest is the part of lgpd.v1.Request the REST client reads.
type restRequest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Result *struct {
		Extract *struct {
			TotalRows string `json:"total_rows"` // int64 travels as a string in proto JSON
		} `json:"extract"`
	} `json:"result"`
}

func (e *Env) restExtract(ctx context.Context, ids store.Identifiers) (int64, error) {
	var r restRequest
	body := `{"kind":"EXTRACT","subject":{"cpf":"` + ids.CPF + `"}}`
	if err := e.rest(ctx, http.MethodPost, "/v1/tenants/"+tenantID+"/requests", body, &r); err != nil {
		return 0, err
	}
	wait := pollMin
	for r.Status != "COMPLETED" {
		if err := unfinished(r.Status); err != nil {
			return 0, err
		}
		if err := sleep(ctx, &wait); err != nil {
			return 0, err
		}
		if err := e.rest(ctx, http.MethodGet, "/v1/tenants/"+tenantID+"/requests/"+r.ID, "", &r); err != nil {
			return 0, err
		}
	}
	if err := e.rest(ctx, http.MethodGet, "/v1/tenants/"+tenantID+"/requests/"+r.ID+"/export?format=json", "", nil); err != nil {
		return 0, err
	}
	if r.Result == nil || r.Result.Extract == nil {
		return 0, nil
	}
	n, _ := strconv.ParseInt(r.Result.Extract.TotalRows, 10, 64)
	return n, nil
}

// rest makes one call; with out nil the body is read and discarded.
func (e *Env) rest(ctx context.Context, method, path, body string, out any) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+e.srv.HTTPAddr()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read-only; a read error surfaces from the read itself
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: HTTP %d: %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, b)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (e *Env) grpcExtract(ctx context.Context, ids store.Identifiers) (int64, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.apiKey)
	c := lgpdv1.NewRequestServiceClient(e.grpc)
	r, err := c.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: tenantID, Kind: lgpdv1.RequestKind_EXTRACT,
		Subject: &lgpdv1.Subject{Cpf: ids.CPF}})
	if err != nil {
		return 0, fmt.Errorf("CreateRequest: %w", err)
	}
	wait := pollMin
	for r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		if err := unfinished(r.GetStatus().String()); err != nil {
			return 0, err
		}
		if err := sleep(ctx, &wait); err != nil {
			return 0, err
		}
		if r, err = c.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: tenantID, Id: r.GetId()}); err != nil {
			return 0, fmt.Errorf("GetRequest: %w", err)
		}
	}
	stream, err := c.DownloadExport(ctx, &lgpdv1.DownloadExportRequest{Tenant: tenantID, Id: r.GetId(), Format: "json"})
	if err != nil {
		return 0, fmt.Errorf("DownloadExport: %w", err)
	}
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("DownloadExport: %w", err)
		}
	}
	return r.GetResult().GetExtract().GetTotalRows(), nil
}

// unfinished fails for a request that ended without completing.
func unfinished(status string) error {
	switch status {
	case "FAILED", "DENIED", "CANCELED":
		return fmt.Errorf("the EXTRACT request ended %s", status)
	}
	return nil
}

func sleep(ctx context.Context, wait *time.Duration) error {
	t := time.NewTimer(*wait)
	defer t.Stop()
	*wait = min(2**wait, pollMax)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
