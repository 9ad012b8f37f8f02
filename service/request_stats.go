package service

import (
	"context"
	"slices"
	"sync"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
)

// queueFilters moves ListRequests' queue filters (overdue, dates, order)
// into f, refusing what cannot select anything by mistake.
func queueFilters(in *lgpdv1.ListRequestsRequest, f *store.ListFilter) error {
	f.Overdue = in.GetOverdue()
	if d := in.GetDueBefore(); d != nil {
		if !d.IsValid() {
			return invalid("BAD_DUE_BEFORE", "due_before must be a valid timestamp (RFC 3339 over REST, e.g. 2026-12-31T00:00:00Z)")
		}
		f.DueBefore = d.AsTime()
	}
	if d := in.GetReceivedAfter(); d != nil {
		if !d.IsValid() {
			return invalid("BAD_RECEIVED_AFTER", "received_after must be a valid timestamp (RFC 3339 over REST, e.g. 2026-01-01T00:00:00Z)")
		}
		f.ReceivedAfter = d.AsTime()
	}
	if d := in.GetReceivedBefore(); d != nil {
		if !d.IsValid() {
			return invalid("BAD_RECEIVED_BEFORE", "received_before must be a valid timestamp (RFC 3339 over REST, e.g. 2027-01-01T00:00:00Z)")
		}
		f.ReceivedBefore = d.AsTime()
	}
	if !f.ReceivedAfter.IsZero() && !f.ReceivedBefore.IsZero() && !f.ReceivedBefore.After(f.ReceivedAfter) {
		return invalid("BAD_RECEIVED_RANGE", "received_before must be after received_after; swap them or widen the range")
	}
	switch in.GetOrder() {
	case lgpdv1.ListRequestsRequest_LIST_ORDER_UNSPECIFIED:
	case lgpdv1.ListRequestsRequest_DUE:
		f.ByDue = true
	default:
		return invalid("BAD_ORDER", "order must be LIST_ORDER_UNSPECIFIED (newest first) or DUE (overdue first, then by due date)")
	}
	return nil
}

// maxStatsMonths bounds the months one GetRequestStats reports.
const maxStatsMonths = 120

// GetRequestStats counts the tenant's requests for the DPO's queue and
// report. Every figure is counted over covering indexes (migration 0023),
// the medians sorted in Go from the same scan, so it stays fast on a
// tenant of 100,000 requests; none holds personal data.
func (s *Requests) GetRequestStats(ctx context.Context, in *lgpdv1.GetRequestStatsRequest) (*lgpdv1.RequestStats, error) {
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	now := t.Store.Now()
	from, to, err := statsMonths(in, now)
	if err != nil {
		return nil, err
	}
	// The counts and the months are independent scans: taken at once, the
	// call lasts the longer of the two, not their sum.
	var counts []store.RequestStat
	var monthly []store.MonthKindStat
	var errCounts, errMonthly error
	var wg sync.WaitGroup
	wg.Go(func() { counts, errCounts = t.Store.RequestStats(ctx) })
	wg.Go(func() { monthly, errMonthly = t.Store.MonthlyRequestStats(ctx, from, to, now) })
	wg.Wait()
	if errCounts != nil {
		return nil, errCounts
	}
	if errMonthly != nil {
		return nil, errMonthly
	}
	out := &lgpdv1.RequestStats{AsOf: ts(now)}
	byStatus, byKind := map[store.Status]int64{}, map[store.Kind]*lgpdv1.KindCount{}
	for _, c := range counts {
		out.Total += c.Count
		out.Overdue += c.Overdue
		if !c.Status.Final() {
			out.Open += c.Count
		}
		switch c.Status {
		case store.StatusAwaitingApproval:
			out.AwaitingApproval += c.Count
		case store.StatusAwaitingVerification:
			out.AwaitingVerification += c.Count
		}
		byStatus[c.Status] += c.Count
		k := byKind[c.Kind]
		if k == nil {
			k = &lgpdv1.KindCount{Kind: kindProto(c.Kind)}
			byKind[c.Kind] = k
		}
		k.Count += c.Count
		k.Overdue += c.Overdue
	}
	for st, n := range byStatus {
		out.ByStatus = append(out.ByStatus, &lgpdv1.StatusCount{Status: lgpdv1.RequestStatus(lgpdv1.RequestStatus_value[string(st)]), Count: n})
	}
	slices.SortFunc(out.ByStatus, func(a, b *lgpdv1.StatusCount) int { return int(a.Status - b.Status) })
	for _, k := range byKind {
		out.ByKind = append(out.ByKind, k)
	}
	slices.SortFunc(out.ByKind, func(a, b *lgpdv1.KindCount) int { return int(a.Kind - b.Kind) })
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		ms := &lgpdv1.MonthStats{Month: m.Format("2006-01")}
		for _, st := range monthly {
			if st.Month.Equal(m) {
				ms.Kinds = append(ms.Kinds, &lgpdv1.MonthKindStats{
					Kind: kindProto(st.Kind), Received: st.Received, Completed: st.Completed,
					CompletedWithinDeadline: st.WithinDeadline, CompletedWithin_15Days: st.Within15Days,
					MedianDaysToComplete: st.MedianDays, Overdue: st.Overdue,
				})
			}
		}
		slices.SortFunc(ms.Kinds, func(a, b *lgpdv1.MonthKindStats) int { return int(a.Kind - b.Kind) })
		out.Months = append(out.Months, ms)
	}
	return out, nil
}

func kindProto(k store.Kind) lgpdv1.RequestKind {
	return lgpdv1.RequestKind(lgpdv1.RequestKind_value[string(k)])
}

// statsMonths is the reported range [from, to): a year's months, from/to
// months ("YYYY-MM", to inclusive) or, when neither, the current year.
func statsMonths(in *lgpdv1.GetRequestStatsRequest, now time.Time) (from, to time.Time, err error) {
	year, f, l := int(in.GetYear()), in.GetFrom(), in.GetTo()
	switch {
	case year != 0 && (f != "" || l != ""):
		return from, to, invalid("BAD_STATS_RANGE", "send either year or from and to, not both")
	case f != "" || l != "":
		a, errA := time.Parse("2006-01", f)
		b, errB := time.Parse("2006-01", l)
		if errA != nil || errB != nil {
			return from, to, invalid("BAD_STATS_RANGE", `from and to must both be months spelled "YYYY-MM", e.g. from=2026-01 and to=2026-06`)
		}
		to = b.AddDate(0, 1, 0)
		if !a.Before(to) || a.AddDate(0, maxStatsMonths, 0).Before(to) {
			return from, to, invalid("BAD_STATS_RANGE", "to must not be before from, and the range holds at most %d months", maxStatsMonths)
		}
		return a, to, nil
	case year == 0:
		year = now.UTC().Year()
	case year < 1970 || year > 9998:
		return from, to, invalid("BAD_STATS_RANGE", "year must be a calendar year such as %d", now.UTC().Year())
	}
	from = time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
	return from, from.AddDate(1, 0, 0), nil
}
