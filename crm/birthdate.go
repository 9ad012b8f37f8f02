package crm

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// maxBirthRows bounds the rows read per root: one titular has one record
// per root, a few when the CRM holds duplicates.
const maxBirthRows = 16

// BirthDate returns the titular's date of birth as the CRM holds it: the
// birth_date field of every root entity whose rows ids match directly
// (not through children: a dependant's date is not the titular's). When
// rows disagree (a typo in one copy) the latest date wins, so a child is
// never taken for an adult. ok is false when the map names no date of
// birth or no matched row holds one. The date is personal data: callers
// keep only the age band derived from it.
func BirthDate(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers) (d Date, ok bool, err error) {
	if ids.Empty() {
		return d, false, nil
	}
	for _, e := range m.Entities {
		f, has := e.BirthDateField()
		if !has {
			continue
		}
		where, args, err := matchCondition(e, ids)
		if err != nil {
			return d, false, err
		}
		if where == "" {
			continue // none of the identifiers given is matched here
		}
		where, args = restrict(e, where, args)
		col := sqlq.QuoteIdent(f.Column)
		// DATE_FORMAT gives the civil date as text on MySQL and MariaDB,
		// whatever the driver's parseTime setting.
		//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
		rows, err := q.QueryContext(ctx, "SELECT DATE_FORMAT("+col+", '%Y-%m-%d') FROM "+sqlq.QuoteIdent(e.Table)+
			" WHERE ("+where+") AND "+col+" IS NOT NULL LIMIT "+fmt.Sprint(maxBirthRows), args...)
		if err != nil {
			return d, false, fmt.Errorf("date of birth in %s: %w", e.Name, err)
		}
		dates, err := collectDates(rows)
		if err != nil {
			return d, false, fmt.Errorf("date of birth in %s: %w", e.Name, err)
		}
		for _, v := range dates {
			if !ok || v.after(d) {
				d, ok = v, true
			}
		}
	}
	return d, ok, nil
}

// collectDates reads the formatted dates of rows and closes it.
func collectDates(rows *sql.Rows) ([]Date, error) {
	var out []Date
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			_ = rows.Close()
			return nil, err
		}
		if s == nil {
			continue // a zero date MySQL cannot format
		}
		t, err := time.Parse(time.DateOnly, *s)
		if err != nil {
			continue // '0000-00-00' and the like: no date of birth
		}
		out = append(out, Date{Year: t.Year(), Month: t.Month(), Day: t.Day()})
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return nil, err
	}
	return out, rows.Close()
}

func (d Date) after(o Date) bool {
	if d.Year != o.Year {
		return d.Year > o.Year
	}
	if d.Month != o.Month {
		return d.Month > o.Month
	}
	return d.Day > o.Day
}

// AgeOn is how many whole years someone born on d has completed on the
// civil date on: the birthday counts from its own day, and someone born on
// 29 February turns a year older on 1 March in common years (Código Civil
// art. 132 §3: a period in years ends on the same day, or the next when
// the month has none).
func (d Date) AgeOn(on Date) int {
	age := on.Year - d.Year
	if on.Month < d.Month || (on.Month == d.Month && on.Day < d.Day) {
		age--
	}
	return age
}
