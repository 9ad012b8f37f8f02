package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/internal/brtime"
	"github.com/titular/titular/service"
)

// brasilia is the time the DPO reads.
var brasilia = brtime.Location()

// queuePageSize is how many requests one page of the queue shows.
const queuePageSize = 50

// queueDateLayout is how the queue's date filters travel: what <input
// type="date"> sends, a civil date in Brasília.
const queueDateLayout = "2006-01-02"

// open statuses: a request still owed to the titular, overdue once past due.
// The queue's status filter lists them first; other pages mark rows with it.
var openStatuses = []lgpdv1.RequestStatus{lgpdv1.RequestStatus_RECEIVED, lgpdv1.RequestStatus_AWAITING_VERIFICATION,
	lgpdv1.RequestStatus_AWAITING_APPROVAL, lgpdv1.RequestStatus_PROCESSING}

type queueRow struct {
	ID, Kind, Status string
	Received, Due    time.Time
	Overdue          bool
}

// queueFilter is the queue's filters as the query spells them: enum names
// and civil dates, never personal data.
type queueFilter struct {
	Status, Kind                        string
	Overdue                             bool
	DueBefore, ReceivedFrom, ReceivedTo string
}

// query is f as URL parameters, empty ones left out, so a link keeps
// exactly the filters in force.
func (f queueFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "kind": f.Kind, "due_before": f.DueBefore,
		"received_from": f.ReceivedFrom, "received_to": f.ReceivedTo} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Overdue {
		q.Set("overdue", "1")
	}
	return q
}

// queueCounts are the tenant's counts, from GetRequestStats: the whole
// tenant, whatever the filters and page.
type queueCounts struct {
	Open, Overdue, Approval, Verify, Total int64
}

type queueData struct {
	queueFilter
	Rows []queueRow
	// OpenStatuses and ClosedStatuses are the status filter's choices, the
	// open ones first; Kinds the kind filter's.
	OpenStatuses, ClosedStatuses, Kinds []string
	// Counts is nil when the stats could not be taken.
	Counts *queueCounts
	// Self is the query of the filters in force; First and Next link the
	// first and the next page with them.
	Self, First, Next string
	Paged             bool
	// Today is the Brasília date, the date inputs' upper bound hint.
	Today string
}

// queue lists the tenant's requests through ListRequests in the queue's
// order (overdue first, then by due date, across pages), filtered by
// status, kind, overdue and dates, under the tenant's counts.
func (c *Console) queue(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	q := r.URL.Query()
	d := &queueData{queueFilter: queueFilter{Status: q.Get("status"), Kind: q.Get("kind"), DueBefore: q.Get("due_before"),
		ReceivedFrom: q.Get("received_from"), ReceivedTo: q.Get("received_to")}, Today: time.Now().In(brasilia).Format(queueDateLayout)}
	for _, st := range []lgpdv1.RequestStatus{1, 2, 3, 4, 5, 6, 7, 8} {
		if slices.Contains(openStatuses, st) {
			d.OpenStatuses = append(d.OpenStatuses, st.String())
		} else {
			d.ClosedStatuses = append(d.ClosedStatuses, st.String())
		}
	}
	for k := range kindNames {
		d.Kinds = append(d.Kinds, k)
	}
	slices.SortFunc(d.Kinds, func(a, b string) int { return int(lgpdv1.RequestKind_value[a] - lgpdv1.RequestKind_value[b]) })
	v.Title, v.Section, v.Data = s("queue.title"), "fila", d
	req := &lgpdv1.ListRequestsRequest{Tenant: v.Tenant.ID, PageSize: queuePageSize, PageToken: q.Get("page"),
		Order: lgpdv1.ListRequestsRequest_DUE}
	if msg := d.parse(q.Get("overdue"), req); msg != "" {
		v.Error = msg
		c.render(w, http.StatusBadRequest, "queue.html", v)
		return
	}
	d.Paged = req.PageToken != ""
	d.Self = d.query().Encode()
	d.First = "?" + d.Self

	var resp *lgpdv1.ListRequestsResponse
	var stats *lgpdv1.RequestStats
	var err, errStats error
	var wg sync.WaitGroup
	wg.Go(func() { resp, err = c.queueList(r.Context(), p, req) })
	wg.Go(func() { stats, errStats = c.queueStats(r.Context(), p, v.Tenant.ID) })
	wg.Wait()
	if errStats != nil {
		// The list still helps without the counts; the page says they are
		// missing rather than showing wrong ones.
		c.opts.Log.Warn("console: queue counts failed", "tenant", v.Tenant.ID, "code", status.Code(errStats).String())
	} else {
		d.Counts = &queueCounts{Open: stats.GetOpen(), Overdue: stats.GetOverdue(), Approval: stats.GetAwaitingApproval(),
			Verify: stats.GetAwaitingVerification(), Total: stats.GetTotal()}
	}
	if err != nil {
		code := apiCode(err)
		c.opts.Log.Warn("console: queue failed", "tenant", v.Tenant.ID, "code", code.String())
		if d.Paged && code == codes.InvalidArgument {
			v.Error = s("queue.bad_page")
			c.render(w, http.StatusBadRequest, "queue.html", v)
			return
		}
		v.Error = s("error.body")
		c.render(w, http.StatusBadGateway, "queue.html", v)
		return
	}
	for _, rq := range resp.GetRequests() {
		d.Rows = append(d.Rows, queueRowOf(rq))
	}
	if tok := resp.GetNextPageToken(); tok != "" {
		next := d.query()
		next.Set("page", tok)
		d.Next = "?" + next.Encode()
	}
	c.render(w, http.StatusOK, "queue.html", v)
}

// parse checks the filters and moves them into req; it returns what to
// tell the DPO when one is wrong, or "".
func (d *queueData) parse(overdue string, req *lgpdv1.ListRequestsRequest) string {
	if d.Status != "" {
		st, ok := lgpdv1.RequestStatus_value[d.Status]
		if !ok || st == 0 {
			return s("queue.bad_status")
		}
		req.Status = lgpdv1.RequestStatus(st)
	}
	if d.Kind != "" {
		k, ok := lgpdv1.RequestKind_value[d.Kind]
		if !ok || k == 0 {
			return s("queue.bad_kind")
		}
		req.Kind = lgpdv1.RequestKind(k)
	}
	switch overdue {
	case "", "0", "false":
	case "1", "on", "true":
		d.Overdue, req.Overdue = true, true
	default:
		return s("queue.bad_overdue")
	}
	// Dates are Brasília civil dates, every bound inclusive: "vence até
	// 10/12" keeps what is due during the 10th.
	dates := []struct {
		value, label string
		set          func(time.Time)
	}{
		{d.DueBefore, s("queue.due_before"), func(t time.Time) { req.DueBefore = timestamppb.New(t.AddDate(0, 0, 1)) }},
		{d.ReceivedFrom, s("queue.received_from"), func(t time.Time) { req.ReceivedAfter = timestamppb.New(t) }},
		{d.ReceivedTo, s("queue.received_to"), func(t time.Time) { req.ReceivedBefore = timestamppb.New(t.AddDate(0, 0, 1)) }},
	}
	for _, f := range dates {
		if f.value == "" {
			continue
		}
		t, err := time.ParseInLocation(queueDateLayout, f.value, brasilia)
		if err != nil || t.Year() < 2000 || t.Year() > 9998 {
			return fmt.Sprintf(s("queue.bad_date"), f.label)
		}
		f.set(t)
	}
	if req.ReceivedAfter != nil && req.ReceivedBefore != nil && !req.ReceivedBefore.AsTime().After(req.ReceivedAfter.AsTime()) {
		return s("queue.bad_range")
	}
	return ""
}

// queueList is ListRequests as the signed-in person.
func (c *Console) queueList(ctx context.Context, p *service.Principal, req *lgpdv1.ListRequestsRequest) (*lgpdv1.ListRequestsResponse, error) {
	ctx, err := c.call(ctx, p, lgpdv1.RequestService_ListRequests_FullMethodName, req)
	if err != nil {
		return nil, err
	}
	return c.opts.Requests.ListRequests(ctx, req)
}

// queueStats takes the tenant's counts for the queue's head: only the
// current month is asked for, as the queue shows no months.
func (c *Console) queueStats(ctx context.Context, p *service.Principal, tenant string) (*lgpdv1.RequestStats, error) {
	month := time.Now().UTC().Format("2006-01")
	req := &lgpdv1.GetRequestStatsRequest{Tenant: tenant, From: month, To: month}
	ctx, err := c.call(ctx, p, lgpdv1.RequestService_GetRequestStats_FullMethodName, req)
	if err != nil {
		return nil, err
	}
	return c.opts.Requests.GetRequestStats(ctx, req)
}

// when formats an instant as the DPO reads it, Brasília time; the zero
// time shows as "—".
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(brasilia).Format("02/01/2006 15:04")
}

// day formats an instant's civil date in Brasília; the zero time shows
// as "—".
func day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(brasilia).Format("02/01/2006")
}

// queueRowOf is a request as a row of the queue's (and the titular page's)
// table; Overdue is the service's flag, Request.overdue.
func queueRowOf(rq *lgpdv1.Request) queueRow {
	return queueRow{ID: rq.GetId(), Kind: rq.GetKind().String(), Status: rq.GetStatus().String(),
		Received: tsTime(rq.GetReceivedAt()), Due: tsTime(rq.GetDueAt()), Overdue: rq.GetOverdue()}
}
