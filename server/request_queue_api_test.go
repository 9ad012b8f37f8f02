package server

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/internal/sqlq"
)

// queueRow is a request written straight into lgpd_requests, back-dated as
// a test needs: the queue and report read only these columns. Open rows are
// AWAITING_*, which no worker claims.
type queueRow struct {
	name                    string
	kind, status            string
	received, due, complete time.Time // complete zero: not completed
}

// insertQueueRows bulk-inserts rows (multi-row INSERTs of up to 1,000) with
// synthetic subject references and no identifiers, and returns their ids by
// name.
func insertQueueRows(t testing.TB, db *sql.DB, rows []queueRow) map[string]string {
	t.Helper()
	ids := make(map[string]string, len(rows))
	const batch = 1000
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		args := make([]any, 0, 9*len(part))
		for _, r := range part {
			id := uuid.NewString()
			ids[r.name] = id
			var done any
			if !r.complete.IsZero() {
				done = r.complete.UTC()
			}
			updated := r.received
			if !r.complete.IsZero() {
				updated = r.complete
			}
			args = append(args, id, r.kind, r.status, "queue-test", uuid.NewString(), r.received.UTC(), r.due.UTC(), updated.UTC(), done)
		}
		//nolint:gosec // G202: only placeholders are concatenated
		if _, err := db.ExecContext(context.Background(), `INSERT INTO lgpd_requests
 (id, kind, status, created_by, subject_ref, received_at, due_at, updated_at, completed_at) VALUES `+sqlq.RowsOf(len(part), 9), args...); err != nil {
			t.Fatalf("insert requests: %v", err)
		}
	}
	return ids
}

// queueFixture is a small hand-made set whose listing and stats are worked
// out below by hand. The 2025 rows are closed; the open ones are placed
// around now.
func queueFixture(now time.Time) []queueRow {
	d := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	day := 24 * time.Hour
	return []queueRow{
		// 10 days, within the deadline and 15 days.
		{"A", "DELETE", "COMPLETED", d("2025-03-01 00:00"), d("2025-03-16 00:00"), d("2025-03-11 00:00")},
		// 20 days: late.
		{"B", "DELETE", "COMPLETED", d("2025-03-05 00:00"), d("2025-03-20 00:00"), d("2025-03-25 00:00")},
		// Received in February, completed in March after 11 days.
		{"C", "DELETE", "COMPLETED", d("2025-02-20 00:00"), d("2025-03-07 00:00"), d("2025-03-03 00:00")},
		// 20 days, within a doubled (30-day) deadline but not 15 days.
		{"D", "EXTRACT", "COMPLETED", d("2025-03-10 00:00"), d("2025-04-09 00:00"), d("2025-03-30 00:00")},
		// Denied: received, never completed.
		{"E", "EXTRACT", "DENIED", d("2025-03-12 00:00"), d("2025-03-27 00:00"), d("2025-03-13 00:00")},
		// Received in December 2025, completed in January 2026.
		{"F", "DELETE", "COMPLETED", d("2025-12-20 00:00"), d("2026-01-04 00:00"), d("2026-01-02 00:00")},
		// 11.5 days.
		{"G", "DELETE", "COMPLETED", d("2025-03-20 00:00"), d("2025-04-04 00:00"), d("2025-03-31 12:00")},
		// Open and overdue.
		{"H", "DELETE", "AWAITING_APPROVAL", now.Add(-20 * day), now.Add(-5 * day), time.Time{}},
		{"I", "EXTRACT", "AWAITING_VERIFICATION", now.Add(-40 * day), now.Add(-10 * day), time.Time{}},
		// Open, not yet due.
		{"J", "DELETE", "AWAITING_APPROVAL", now.Add(-2 * day), now.Add(13 * day), time.Time{}},
		// Past due but closed: not overdue.
		{"K", "EXTRACT", "COMPLETED", now.Add(-30 * day), now.Add(-15 * day), now.Add(-29 * day)},
	}
}

// TestRequestQueueFilters lists the fixture through gRPC and REST: the
// overdue filter and flag, due_before, the received range, the order by due
// date with its pages crossing from the overdue part to the rest, and bad
// input refused with a reason.
func TestRequestQueueFilters(t *testing.T) {
	env := newTestEnv(t, 20)
	db := env.demoDB(t)
	var before int
	if err := db.QueryRow("SELECT COUNT(*) FROM lgpd_requests").Scan(&before); err != nil || before != 0 {
		t.Fatalf("the tenant starts with %d requests (%v), want none", before, err)
	}
	now := time.Now().UTC()
	ids := insertQueueRows(t, db, queueFixture(now))
	name := map[string]string{}
	for n, id := range ids {
		name[id] = n
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	rs := lgpdv1.NewRequestServiceClient(env.grpc)
	// list pages through everything and returns the requests' names in order.
	list := func(in *lgpdv1.ListRequestsRequest) ([]string, []*lgpdv1.Request) {
		t.Helper()
		in.Tenant = "demo"
		var names []string
		var all []*lgpdv1.Request
		for {
			page, err := rs.ListRequests(ctx, in)
			if err != nil {
				t.Fatalf("list %v: %v", in, err)
			}
			for _, r := range page.GetRequests() {
				names = append(names, name[r.GetId()])
				all = append(all, r)
			}
			if in.PageToken = page.GetNextPageToken(); in.PageToken == "" {
				return names, all
			}
		}
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}

	got, all := list(&lgpdv1.ListRequestsRequest{})
	check("newest first", got, []string{"J", "H", "K", "I", "F", "G", "E", "D", "B", "A", "C"})
	for _, r := range all {
		if want := name[r.GetId()] == "H" || name[r.GetId()] == "I"; r.GetOverdue() != want {
			t.Errorf("request %s: overdue=%v, want %v", name[r.GetId()], r.GetOverdue(), want)
		}
	}
	got, _ = list(&lgpdv1.ListRequestsRequest{Overdue: true})
	check("overdue", got, []string{"H", "I"})
	got, _ = list(&lgpdv1.ListRequestsRequest{Overdue: true, Kind: lgpdv1.RequestKind_EXTRACT})
	check("overdue EXTRACT", got, []string{"I"})
	got, _ = list(&lgpdv1.ListRequestsRequest{DueBefore: timestamppb.New(now.Add(-7 * 24 * time.Hour))})
	check("due more than 7 days ago", got, []string{"K", "I", "F", "G", "E", "D", "B", "A", "C"})
	got, _ = list(&lgpdv1.ListRequestsRequest{
		ReceivedAfter:  timestamppb.New(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)),
		ReceivedBefore: timestamppb.New(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)),
	})
	check("received in March 2025", got, []string{"G", "E", "D", "B", "A"})

	// The queue: overdue first, then by due date; pages of 3 cross from one
	// part to the other inside the first page.
	var pages int
	in := &lgpdv1.ListRequestsRequest{Tenant: "demo", Order: lgpdv1.ListRequestsRequest_DUE, PageSize: 3}
	var queue []string
	for {
		page, err := rs.ListRequests(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.GetRequests() {
			queue = append(queue, name[r.GetId()])
		}
		if in.PageToken = page.GetNextPageToken(); in.PageToken == "" {
			break
		}
	}
	check("by due date", queue, []string{"I", "H", "C", "A", "B", "E", "G", "D", "F", "K", "J"})
	if pages != 4 {
		t.Errorf("11 requests by 3 came in %d pages, want 4", pages)
	}
	got, _ = list(&lgpdv1.ListRequestsRequest{Order: lgpdv1.ListRequestsRequest_DUE, Status: lgpdv1.RequestStatus_AWAITING_APPROVAL, PageSize: 1})
	check("approval queue by due date", got, []string{"H", "J"})
	got, _ = list(&lgpdv1.ListRequestsRequest{Order: lgpdv1.ListRequestsRequest_DUE, Overdue: true, PageSize: 1})
	check("overdue by due date", got, []string{"I", "H"})

	// A newest-first token does not continue a by-due-date listing.
	first, err := rs.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageSize: 2, Order: lgpdv1.ListRequestsRequest_DUE, PageToken: first.GetNextPageToken()})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("newest-first token in a due-date listing: %v, want INVALID_ARGUMENT", err)
	}

	// REST: the same filters as query parameters, and the flag in JSON.
	q := url.Values{"overdue": {"true"}, "order": {"DUE"}}
	code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests?"+q.Encode(), keyAuditor, nil)
	if code != http.StatusOK {
		t.Fatalf("REST overdue: HTTP %d: %s", code, raw)
	}
	page := decode[struct {
		Requests []struct {
			ID      string `json:"id"`
			Overdue bool   `json:"overdue"`
		} `json:"requests"`
	}](t, raw)
	if len(page.Requests) != 2 || name[page.Requests[0].ID] != "I" || name[page.Requests[1].ID] != "H" ||
		!page.Requests[0].Overdue || !page.Requests[1].Overdue {
		t.Errorf("REST overdue by due date: %s", raw)
	}
	q = url.Values{"due_before": {now.Add(-7 * 24 * time.Hour).Format(time.RFC3339Nano)}, "kind": {"EXTRACT"}}
	code, _, raw = env.rest(t, "GET", "/v1/tenants/demo/requests?"+q.Encode(), keyDPO, nil)
	if code != http.StatusOK || strings.Count(string(raw), `"id"`) != 4 {
		t.Errorf("REST due_before EXTRACT (K, I, E, D): HTTP %d: %s", code, raw)
	}
	// grpc-gateway ignores a query parameter that names no field (runtime
	// PopulateQueryParameters): a misspelt filter lists everything, which is
	// why the accepted names are documented on ListRequests and in the README.
	code, _, raw = env.rest(t, "GET", "/v1/tenants/demo/requests?overdu=true", keyDPO, nil)
	if code != http.StatusOK || strings.Count(string(raw), `"id"`) != 11 {
		t.Errorf("misspelt overdu=true: HTTP %d, want the 11 requests unfiltered: %s", code, raw)
	}
	for query, reason := range map[string]string{
		"received_after=2025-04-01T00:00:00Z&received_before=2025-03-01T00:00:00Z": "BAD_RECEIVED_RANGE",
		"order=SIDEWAYS":   "",
		"due_before=ontem": "",
	} {
		code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests?"+query, keyDPO, nil)
		if code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400: %s", query, code, raw)
			continue
		}
		if reason != "" && decode[restError](t, raw).reason() != reason {
			t.Errorf("%s: %s, want reason %s", query, raw, reason)
		}
	}
	if _, err := rs.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo", Order: 7}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("order 7: %v, want INVALID_ARGUMENT", err)
	}
}

// TestRequestStats checks every figure of GetRequestStats against the
// fixture's truth, worked out by hand, through gRPC and REST, and that only
// the DPO and auditors may ask.
func TestRequestStats(t *testing.T) {
	env := newTestEnv(t, 20)
	now := time.Now().UTC()
	insertQueueRows(t, env.demoDB(t), queueFixture(now))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyAuditor)
	rs := lgpdv1.NewRequestServiceClient(env.grpc)
	st, err := rs.GetRequestStats(ctx, &lgpdv1.GetRequestStatsRequest{Tenant: "demo", Year: 2025})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetTotal() != 11 || st.GetOpen() != 3 || st.GetOverdue() != 2 || st.GetAwaitingApproval() != 2 || st.GetAwaitingVerification() != 1 {
		t.Errorf("totals: total %d open %d overdue %d approval %d verification %d; want 11 3 2 2 1",
			st.GetTotal(), st.GetOpen(), st.GetOverdue(), st.GetAwaitingApproval(), st.GetAwaitingVerification())
	}
	if d := st.GetAsOf().AsTime().Sub(now); d < 0 || d > time.Minute {
		t.Errorf("as_of %v, want just after %v", st.GetAsOf().AsTime(), now)
	}
	var byStatus []string
	for _, c := range st.GetByStatus() {
		byStatus = append(byStatus, c.GetStatus().String()+"="+itoa(int(c.GetCount())))
	}
	// In the enum's order: AWAITING_APPROVAL=2, COMPLETED=4, DENIED=5, AWAITING_VERIFICATION=8.
	wantStatus := []string{}
	for _, s := range []struct {
		st lgpdv1.RequestStatus
		n  int
	}{{lgpdv1.RequestStatus_AWAITING_APPROVAL, 2}, {lgpdv1.RequestStatus_COMPLETED, 7}, {lgpdv1.RequestStatus_DENIED, 1}, {lgpdv1.RequestStatus_AWAITING_VERIFICATION, 1}} {
		wantStatus = append(wantStatus, s.st.String()+"="+itoa(s.n))
	}
	slices.SortFunc(wantStatus, func(a, b string) int {
		return int(lgpdv1.RequestStatus_value[a[:strings.Index(a, "=")]] - lgpdv1.RequestStatus_value[b[:strings.Index(b, "=")]])
	})
	if !slices.Equal(byStatus, wantStatus) {
		t.Errorf("by status %v, want %v", byStatus, wantStatus)
	}
	var byKind []string
	for _, c := range st.GetByKind() {
		byKind = append(byKind, c.GetKind().String()+"="+itoa(int(c.GetCount()))+"/"+itoa(int(c.GetOverdue())))
	}
	wantKind := []string{"EXTRACT=4/1", "DELETE=7/1"}
	if lgpdv1.RequestKind_DELETE < lgpdv1.RequestKind_EXTRACT {
		wantKind = []string{"DELETE=7/1", "EXTRACT=4/1"}
	}
	if !slices.Equal(byKind, wantKind) {
		t.Errorf("by kind (count/overdue) %v, want %v", byKind, wantKind)
	}

	// Months: every month of 2025 listed; February, March and December
	// hold requests. March's DELETEs completed after 10, 11 (C, received in
	// February), 11.5 and 20 days: median 11.25; B was late.
	if len(st.GetMonths()) != 12 {
		t.Fatalf("%d months, want the 12 of 2025", len(st.GetMonths()))
	}
	type fig struct {
		received, completed, inDeadline, in15 int64
		median                                float64
	}
	want := map[string]map[string]fig{
		"2025-02": {"DELETE": {1, 0, 0, 0, 0}},
		"2025-03": {"DELETE": {3, 4, 3, 3, 11.25}, "EXTRACT": {2, 1, 1, 0, 20}},
		"2025-12": {"DELETE": {1, 0, 0, 0, 0}},
	}
	for i, m := range st.GetMonths() {
		if wantMonth := time.Date(2025, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"); m.GetMonth() != wantMonth {
			t.Errorf("month %d is %s, want %s", i, m.GetMonth(), wantMonth)
		}
		if len(m.GetKinds()) != len(want[m.GetMonth()]) {
			t.Errorf("%s: %d kinds, want %d: %v", m.GetMonth(), len(m.GetKinds()), len(want[m.GetMonth()]), m.GetKinds())
		}
		for _, k := range m.GetKinds() {
			w, ok := want[m.GetMonth()][k.GetKind().String()]
			got := fig{k.GetReceived(), k.GetCompleted(), k.GetCompletedWithinDeadline(), k.GetCompletedWithin_15Days(), k.GetMedianDaysToComplete()}
			if !ok || got.received != w.received || got.completed != w.completed || got.inDeadline != w.inDeadline ||
				got.in15 != w.in15 || math.Abs(got.median-w.median) > 1e-9 {
				t.Errorf("%s %s: %+v, want %+v", m.GetMonth(), k.GetKind(), got, w)
			}
			if k.GetOverdue() != 0 {
				t.Errorf("%s %s: %d overdue, want 0: every 2025 request is closed", m.GetMonth(), k.GetKind(), k.GetOverdue())
			}
		}
	}

	// Overdue by month of receipt: H (DELETE) and I (EXTRACT) are open and
	// past due; J is open but not yet due, K past due but completed. The
	// months' overdue add up to the tenant's.
	day := 24 * time.Hour
	wantOverdue := map[string]int64{
		now.Add(-20*day).Format("2006-01") + " DELETE":  1,
		now.Add(-40*day).Format("2006-01") + " EXTRACT": 1,
	}
	recent, err := rs.GetRequestStats(ctx, &lgpdv1.GetRequestStatsRequest{Tenant: "demo",
		From: now.Add(-40 * day).Format("2006-01"), To: now.Format("2006-01")})
	if err != nil {
		t.Fatal(err)
	}
	gotOverdue, sum := map[string]int64{}, int64(0)
	for _, m := range recent.GetMonths() {
		for _, k := range m.GetKinds() {
			if k.GetOverdue() > 0 {
				gotOverdue[m.GetMonth()+" "+k.GetKind().String()] = k.GetOverdue()
				sum += k.GetOverdue()
			}
		}
	}
	if len(gotOverdue) != len(wantOverdue) || sum != recent.GetOverdue() {
		t.Errorf("overdue by month %v (sum %d, tenant %d), want %v", gotOverdue, sum, recent.GetOverdue(), wantOverdue)
	}
	for k, n := range wantOverdue {
		if gotOverdue[k] != n {
			t.Errorf("overdue %s: %d, want %d", k, gotOverdue[k], n)
		}
	}

	// A range across the year's end: F completed in January 2026.
	code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests:stats?from=2025-12&to=2026-01", keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("REST stats: HTTP %d: %s", code, raw)
	}
	rest := decode[struct {
		Total  string `json:"total"`
		Months []struct {
			Month string `json:"month"`
			Kinds []struct {
				Kind           string  `json:"kind"`
				Received       string  `json:"received"`
				Completed      string  `json:"completed"`
				WithinDeadline string  `json:"completed_within_deadline"`
				Within15       string  `json:"completed_within_15_days"`
				Median         float64 `json:"median_days_to_complete"`
				Overdue        string  `json:"overdue"`
			} `json:"kinds"`
		} `json:"months"`
	}](t, raw)
	if rest.Total != "11" || len(rest.Months) != 2 || rest.Months[0].Month != "2025-12" || rest.Months[1].Month != "2026-01" ||
		len(rest.Months[0].Kinds) != 1 || rest.Months[0].Kinds[0].Received != "1" || rest.Months[0].Kinds[0].Completed != "0" ||
		len(rest.Months[1].Kinds) != 1 || rest.Months[1].Kinds[0].Completed != "1" || rest.Months[1].Kinds[0].Received != "0" ||
		rest.Months[1].Kinds[0].WithinDeadline != "1" || rest.Months[1].Kinds[0].Within15 != "1" || rest.Months[1].Kinds[0].Median != 13 ||
		rest.Months[0].Kinds[0].Overdue != "0" {
		t.Errorf("REST stats December 2025 to January 2026: %s", raw)
	}

	for query, want := range map[string]int{
		"year=2025&from=2025-01&to=2025-02": http.StatusBadRequest,
		"from=2025-13&to=2026-01":           http.StatusBadRequest,
		"from=2025-03&to=2025-01":           http.StatusBadRequest,
		"from=2000-01&to=2025-01":           http.StatusBadRequest,
		"year=12":                           http.StatusBadRequest,
		"":                                  http.StatusOK,
	} {
		code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests:stats?"+query, keyDPO, nil)
		if code != want {
			t.Errorf("stats?%s: HTTP %d, want %d: %s", query, code, want, raw)
		}
		if want == http.StatusBadRequest && decode[restError](t, raw).reason() != "BAD_STATS_RANGE" {
			t.Errorf("stats?%s: %s, want reason BAD_STATS_RANGE", query, raw)
		}
	}
	// The backend writes requests; the report is the DPO's and auditors'.
	if code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests:stats", keyBackend, nil); code != http.StatusForbidden {
		t.Errorf("backend stats over REST: HTTP %d, want 403: %s", code, raw)
	}
	backend := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	if _, err := rs.GetRequestStats(backend, &lgpdv1.GetRequestStatsRequest{Tenant: "demo"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("backend stats: %v, want PERMISSION_DENIED", err)
	}
	if _, err := rs.GetRequestStats(ctx, &lgpdv1.GetRequestStatsRequest{Tenant: "other"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("auditor of demo, stats of other: %v, want PERMISSION_DENIED", err)
	}
}
