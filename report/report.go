// Package report draws the DPO's report of requests — what is handed to
// the board or to the ANPD: requests per month by kind, how many were
// completed within the deadline and within 15 days, how many are overdue,
// the median days to complete. It renders charts as SVG (server-side, no
// script, readable by screen readers) and the numbers as CSV and XLSX. It
// computes nothing from the database: the stats RPC (GetRequestStats)
// fills a Report, field for field.
package report

import (
	"fmt"
	"time"
)

// Report is the requests of one tenant over a run of months.
type Report struct {
	// Tenant names the controller as the report shows it.
	Tenant string
	// Generated is when the numbers were taken (Overdue depends on it).
	Generated time.Time
	// Months are in calendar order, each month once; a month without
	// requests may be left out or carry no kinds.
	Months []Month
}

// Month is one calendar month's requests, by kind.
type Month struct {
	Year  int
	Month time.Month
	// Kinds are the kinds with requests received or completed in the
	// month, each kind once, in any order (charts and tables sort them).
	Kinds []KindCount
}

// KindCount counts one kind's requests in one month. A request counts as
// received in the month it arrived, and as completed (with its on-time
// flags and its days) in the month it completed.
type KindCount struct {
	// Kind is the request kind's code: EXTRACT, CONFIRM, CORRECT, DELETE,
	// ANONYMIZE, CONSENT, BLOCK or REVIEW.
	Kind string
	// Received is the requests received in the month.
	Received int64
	// Completed is the requests completed in the month; CompletedOnTime
	// those completed by their due date (the tenant's deadline), and
	// CompletedWithin15Days those completed within 15 days of arrival
	// (LGPD Art. 19 II).
	Completed, CompletedOnTime, CompletedWithin15Days int64
	// Overdue is the requests received in the month still open past their
	// due date when the report was taken.
	Overdue int64
	// MedianDays is the median of the days the completed requests took;
	// meaningless when Completed is 0.
	MedianDays float64
}

// Label is the month as the report names it: "jan/2026".
func (m Month) Label() string {
	return fmt.Sprintf("%s/%d", monthAbbr[m.Month-1], m.Year)
}

// Key is the month as a sortable code: "2026-01".
func (m Month) Key() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

var monthAbbr = [...]string{"jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"}

// Total adds up the month's kinds (MedianDays is left zero: a median of
// medians is not the median).
func (m Month) Total() KindCount {
	var t KindCount
	for _, k := range m.Kinds {
		t.Add(k)
	}
	return t
}

// Add adds o's counts to k's (MedianDays is left alone: a median of
// medians is not the median).
func (k *KindCount) Add(o KindCount) {
	k.Received += o.Received
	k.Completed += o.Completed
	k.CompletedOnTime += o.CompletedOnTime
	k.CompletedWithin15Days += o.CompletedWithin15Days
	k.Overdue += o.Overdue
}

// Share15 is the share of the completed requests completed within 15
// days, from 0 to 1; ok is false when none was completed.
func (k KindCount) Share15() (share float64, ok bool) {
	if k.Completed == 0 {
		return 0, false
	}
	return float64(k.CompletedWithin15Days) / float64(k.Completed), true
}

// Validate says what is wrong with r, so a caller filling it by hand or
// from the RPC learns which month and kind to fix.
func (r Report) Validate() error {
	seen := map[string]bool{}
	for i, m := range r.Months {
		if m.Month < time.January || m.Month > time.December || m.Year < 1 || m.Year > 9999 {
			return fmt.Errorf("report: month %d is %d-%d: use a year from 1 to 9999 and a month from 1 to 12", i, m.Year, int(m.Month))
		}
		if seen[m.Key()] {
			return fmt.Errorf("report: month %s is listed twice: merge its kinds into one Month", m.Key())
		}
		seen[m.Key()] = true
		if i > 0 && m.Key() < r.Months[i-1].Key() {
			return fmt.Errorf("report: month %s comes after %s: list months in calendar order", m.Key(), r.Months[i-1].Key())
		}
		kinds := map[string]bool{}
		for _, k := range m.Kinds {
			switch {
			case kinds[k.Kind]:
				return fmt.Errorf("report: %s lists kind %s twice: add its counts into one", m.Key(), k.Kind)
			case k.Received < 0 || k.Completed < 0 || k.CompletedOnTime < 0 || k.CompletedWithin15Days < 0 || k.Overdue < 0 || k.MedianDays < 0:
				return fmt.Errorf("report: %s %s has a negative count: counts and days start at 0", m.Key(), k.Kind)
			case k.CompletedOnTime > k.Completed || k.CompletedWithin15Days > k.Completed:
				return fmt.Errorf("report: %s %s counts more completed on time or within 15 days than completed", m.Key(), k.Kind)
			case k.Overdue > k.Received:
				return fmt.Errorf("report: %s %s counts more overdue than received: overdue counts requests received in the month", m.Key(), k.Kind)
			}
			kinds[k.Kind] = true
		}
	}
	return nil
}
