package console

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/service"
)

// brasilia is the time the DPO reads: a fixed UTC-3 (Brazil has had no
// daylight saving since 2019), needing no tz database on the host.
var brasilia = time.FixedZone("BRT", -3*60*60)

// queuePageSize is how many requests one page of the queue shows.
const queuePageSize = 50

// open statuses: a request still owed to the titular, overdue once past due.
var openStatuses = []lgpdv1.RequestStatus{lgpdv1.RequestStatus_RECEIVED, lgpdv1.RequestStatus_AWAITING_VERIFICATION,
	lgpdv1.RequestStatus_AWAITING_APPROVAL, lgpdv1.RequestStatus_PROCESSING}

type queueRow struct {
	ID, Kind, Status string
	Received, Due    time.Time
	Overdue          bool
}

type queueData struct {
	Rows                             []queueRow
	Status, Kind                     string
	Statuses, Kinds                  []string
	Total, Overdue, Approval, Verify int
	Next                             string
	Paged                            bool
}

// queue lists the tenant's requests through ListRequests, filtered by
// status and kind (enum names in the query, never personal data).
func (c *Console) queue(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	q := r.URL.Query()
	d := &queueData{Status: q.Get("status"), Kind: q.Get("kind")}
	for _, st := range []lgpdv1.RequestStatus{1, 2, 3, 4, 5, 6, 7, 8} {
		d.Statuses = append(d.Statuses, st.String())
	}
	for k := range kindNames {
		d.Kinds = append(d.Kinds, k)
	}
	slices.SortFunc(d.Kinds, func(a, b string) int { return int(lgpdv1.RequestKind_value[a] - lgpdv1.RequestKind_value[b]) })
	v.Title, v.Section, v.Data = s("queue.title"), "fila", d
	req := &lgpdv1.ListRequestsRequest{Tenant: v.Tenant.ID, PageSize: queuePageSize, PageToken: q.Get("page")}
	if d.Status != "" {
		st, ok := lgpdv1.RequestStatus_value[d.Status]
		if !ok || st == 0 {
			v.Error = s("queue.bad_filter")
			c.render(w, http.StatusBadRequest, "queue.html", v)
			return
		}
		req.Status = lgpdv1.RequestStatus(st)
	}
	if d.Kind != "" {
		k, ok := lgpdv1.RequestKind_value[d.Kind]
		if !ok || k == 0 {
			v.Error = s("queue.bad_filter")
			c.render(w, http.StatusBadRequest, "queue.html", v)
			return
		}
		req.Kind = lgpdv1.RequestKind(k)
	}
	d.Paged = req.PageToken != ""
	ctx, err := c.call(r.Context(), p, lgpdv1.RequestService_ListRequests_FullMethodName, req)
	var resp *lgpdv1.ListRequestsResponse
	if err == nil {
		resp, err = c.opts.Requests.ListRequests(ctx, req)
	}
	if err != nil {
		c.opts.Log.Warn("console: queue failed", "tenant", v.Tenant.ID, "code", status.Code(err).String())
		v.Error = s("error.body")
		c.render(w, http.StatusBadGateway, "queue.html", v)
		return
	}
	now := time.Now()
	for _, rq := range resp.GetRequests() {
		row := queueRow{ID: rq.GetId(), Kind: rq.GetKind().String(), Status: rq.GetStatus().String(),
			Received: rq.GetReceivedAt().AsTime().In(brasilia), Due: rq.GetDueAt().AsTime().In(brasilia)}
		row.Overdue = slices.Contains(openStatuses, rq.GetStatus()) && rq.GetDueAt() != nil && now.After(row.Due)
		d.Rows = append(d.Rows, row)
		if row.Overdue {
			d.Overdue++
		}
		switch rq.GetStatus() {
		case lgpdv1.RequestStatus_AWAITING_APPROVAL:
			d.Approval++
		case lgpdv1.RequestStatus_AWAITING_VERIFICATION:
			d.Verify++
		}
	}
	d.Total = len(d.Rows)
	slices.SortStableFunc(d.Rows, func(a, b queueRow) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		return a.Due.Compare(b.Due)
	})
	if tok := resp.GetNextPageToken(); tok != "" {
		next := url.Values{"page": {tok}}
		if d.Status != "" {
			next.Set("status", d.Status)
		}
		if d.Kind != "" {
			next.Set("kind", d.Kind)
		}
		d.Next = "?" + next.Encode()
	}
	c.render(w, http.StatusOK, "queue.html", v)
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
