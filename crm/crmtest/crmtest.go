// Package crmtest helps tests run the CRM executor against the seeded demo
// CRM: a fresh database per test (through storetest), the demo data map, the
// seed's scenarios, and readers that show what the CRM holds of a titular
// (rows reached, rows by key, identifiers found anywhere in mapped columns).
// It uses only crm's exported API, so the executor's own tests (package
// crm_test), titular's records' (store) and the service's share it.
package crmtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store/storetest"
)

// Clock is the instant seeded tests run at: the seed's retention holds are
// judged from it.
var Clock = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// DemoMap loads the demo data map (examples/realestate/datamap.yaml).
func DemoMap(tb testing.TB) *datamap.Map {
	tb.Helper()
	m, err := datamap.Load(filepath.Join(Root(), "examples", "realestate", "datamap.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Seeded returns a fresh database holding the seeded demo CRM, the demo
// data map and the seed's scenarios by name.
func Seeded(tb testing.TB, opts seed.Options) (*sql.DB, *datamap.Map, map[string]seed.Scenario) {
	tb.Helper()
	db, _ := storetest.NewDatabase(tb)
	sum, err := seed.Seed(context.Background(), db, opts)
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
	sc := map[string]seed.Scenario{}
	for _, x := range sum.Scenarios {
		sc[x.Name] = x
	}
	return db, DemoMap(tb), sc
}

// IDs are a scenario's identifiers.
func IDs(x seed.Scenario) crm.Identifiers {
	return crm.Identifiers{CPF: x.CPF, Email: x.Email, Phone: x.Phone}
}

// CountRows runs a COUNT(*) query.
func CountRows(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// countingSink counts rows per entity.
type countingSink struct{ n map[string]int64 }

func (c *countingSink) BeginEntity(*datamap.Entity) error { return nil }
func (c *countingSink) Row([]any) error                   { return nil }
func (c *countingSink) EndEntity(e *datamap.Entity, n int64) error {
	if c.n == nil {
		c.n = map[string]int64{}
	}
	c.n[e.Name] = n
	return nil
}

// Reach is how many rows of each entity the map reaches for ids (entities
// with none left out).
func Reach(tb testing.TB, db *sql.DB, m *datamap.Map, ids crm.Identifiers) map[string]int64 {
	tb.Helper()
	c := &countingSink{}
	if _, err := crm.Walk(context.Background(), db, m, ids, c); err != nil {
		tb.Fatal(err)
	}
	for k, v := range c.n {
		if v == 0 {
			delete(c.n, k)
		}
	}
	return c.n
}

// rowsSink records every row a walk delivers: entity -> key -> values.
type rowsSink struct {
	cur  string
	rows map[string]map[string][]any
}

func (r *rowsSink) BeginEntity(e *datamap.Entity) error {
	r.cur = e.Name
	if r.rows == nil {
		r.rows = map[string]map[string][]any{}
	}
	r.rows[e.Name] = map[string][]any{}
	return nil
}
func (r *rowsSink) Row([]any) error                        { return errors.New("keyed rows expected") }
func (r *rowsSink) EndEntity(*datamap.Entity, int64) error { return nil }
func (r *rowsSink) KeyedRow(key, values, _ []any) error {
	r.rows[r.cur][crm.RowKeyJSON(key)] = values
	return nil
}

// SubjectRows is every row the map reaches for ids: entity -> key (JSON)
// -> mapped values.
func SubjectRows(tb testing.TB, q crm.Querier, m *datamap.Map, ids crm.Identifiers) map[string]map[string][]any {
	tb.Helper()
	r := &rowsSink{}
	if _, err := crm.WalkWith(context.Background(), q, m, ids, r, crm.WalkOptions{}); err != nil {
		tb.Fatal(err)
	}
	return r.rows
}

// RowByKey reads the mapped fields of one row of an entity; key is the
// row's key as a JSON array ("[1]").
func RowByKey(tb testing.TB, db *sql.DB, e *datamap.Entity, key string) []any {
	tb.Helper()
	cols := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		cols[i] = f.Column
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var args []any
	for _, p := range strings.Split(strings.Trim(key, "[]"), ",") {
		args = append(args, p)
	}
	where := "(" + sqlq.JoinQuoted(e.Key) + ") = (" + sqlq.Placeholders(len(e.Key)) + ")"
	if err := db.QueryRow("SELECT "+sqlq.JoinQuoted(cols)+" FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+where, args...).Scan(ptrs...); err != nil {
		tb.Fatalf("read %s %s: %v", e.Name, key, err)
	}
	for i, v := range raw {
		if b, ok := v.([]byte); ok {
			raw[i] = string(b)
		}
	}
	return raw
}

// SameRow compares rows read by a walk or by RowByKey, value by value.
func SameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if text(a[i]) != text(b[i]) {
			return false
		}
	}
	return true
}

// text makes walked and raw-scanned values comparable.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00null"
	case string:
		return x
	case []byte:
		return string(x)
	case crm.Decimal:
		return string(x)
	case crm.Date:
		return x.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(v)
}

// FieldIndex is the position of column among e's mapped fields.
func FieldIndex(e *datamap.Entity, column string) int {
	for i, f := range e.Fields {
		if f.Column == column {
			return i
		}
	}
	panic("no field " + column)
}

// Needles are the titular's identifiers in every shape a CRM stores.
func Needles(ids crm.Identifiers) []string {
	out := append([]string{}, crm.LookupValues("cpf", ids.CPF)...)
	if ids.Email != "" {
		out = append(out, ids.Email)
	}
	if ids.Phone != "" {
		out = append(out, brdoc.PhoneShapes(ids.Phone)...)
	}
	return out
}

// ScanMapped counts, table by table, the rows whose mapped columns hold or
// contain any needle. Free text is searched too (LIKE), so a CPF quoted in
// a note counts.
func ScanMapped(tb testing.TB, db *sql.DB, m *datamap.Map, needles []string) map[string]int {
	tb.Helper()
	found := map[string]int{}
	for _, e := range m.Entities {
		var conds []string
		var args []any
		for _, f := range e.Fields {
			for _, n := range needles {
				conds = append(conds, "CAST("+sqlq.QuoteIdent(f.Column)+" AS CHAR) LIKE ?")
				args = append(args, "%"+n+"%")
			}
		}
		if n := CountRows(tb, db, "SELECT COUNT(*) FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+strings.Join(conds, " OR "), args...); n > 0 {
			found[e.Name] = n
		}
	}
	return found
}

// Column reads the first column of every row a query returns, failing the
// test on any error, the one that ends a read early included.
func Column[T any](tb testing.TB, q crm.Querier, query string, args ...any) []T {
	tb.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}
