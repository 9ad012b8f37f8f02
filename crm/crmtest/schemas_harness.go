package crmtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/store/storetest"
)

// The end-to-end harness: a data map, drafted by discovery or written by
// hand, is run against a fixture with the entry points the service's worker
// uses (crm.WalkWith for EXTRACT, Executor.Delete with PlanDelete,
// Executor.Anonymize with PlanAnonymize over a snapshot), and judged
// against the fixture's hand-written truth: EXTRACT must reach exactly the
// titular's rows, and DELETE and ANONYMIZE must change exactly those rows,
// every other row of every table staying as it was.

// FixtureMapPath is the hand-written data map of a fixture.
func FixtureMapPath(f *Fixture) string {
	return filepath.Join(Root(), "crm", "crmtest", "testdata", f.Name+".yaml")
}

// LoadMap parses a data map file as the service does (anonymizers checked
// against the built-in registry).
func LoadMap(tb testing.TB, path string) *datamap.Map {
	tb.Helper()
	m, err := datamap.Load(path, crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	return m
}

// CreateFixture makes a fresh database holding f.
func CreateFixture(tb testing.TB, f *Fixture) *sql.DB {
	tb.Helper()
	db, _ := storetest.NewDatabase(tb)
	if err := f.Create(context.Background(), db); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Prove runs the whole proof for m on f, each operation on a fresh database:
// the map fits the live schema (CheckSchema), then for each of people
// EXTRACT, DELETE and ANONYMIZE are judged against the truth.
func Prove(t *testing.T, f *Fixture, m *datamap.Map, people []Person) {
	t.Helper()
	t.Run("check", func(t *testing.T) {
		db := CreateFixture(t, f)
		CheckMap(t, db, m)
	})
	t.Run("extract", func(t *testing.T) {
		db := CreateFixture(t, f)
		for _, p := range people {
			ProveExtract(t, db, m, f, p)
		}
	})
	t.Run("delete", func(t *testing.T) {
		db := CreateFixture(t, f)
		for _, p := range people {
			ProveDelete(t, db, m, f, p)
		}
	})
	t.Run("anonymize", func(t *testing.T) {
		db := CreateFixture(t, f)
		for _, p := range people {
			ProveAnonymize(t, db, m, f, p)
		}
	})
}

// CheckMap fails unless m passes CheckSchema on db's live schema.
func CheckMap(tb testing.TB, db *sql.DB, m *datamap.Map) {
	tb.Helper()
	s, err := crm.LoadSchema(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.CheckSchema(s); err != nil {
		tb.Errorf("CheckSchema: %v", err)
	}
}

// ProveExtract fails unless the walk an EXTRACT runs reaches exactly p's
// rows: per table, the keys the map reaches equal those of the truth.
func ProveExtract(tb testing.TB, db *sql.DB, m *datamap.Map, f *Fixture, p Person) {
	tb.Helper()
	ctx := context.Background()
	want, err := f.PersonKeys(ctx, db, p)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := MapReach(ctx, db, m, p.IDs)
	if err != nil {
		tb.Fatalf("%s: walk: %v", p.Label, err)
	}
	rows := 0
	for _, t := range slices.Sorted(maps.Keys(union(want, got))) {
		missing, extra := diffSets(want[t], got[t])
		if len(missing) > 0 {
			tb.Errorf("%s: EXTRACT misses %d of the titular's %d row(s) of %s: keys %s", p.Label, len(missing), len(want[t]), t, short(missing))
		}
		if len(extra) > 0 {
			tb.Errorf("%s: EXTRACT reaches %d row(s) of %s that are not the titular's: keys %s", p.Label, len(extra), t, short(extra))
		}
		rows += len(want[t])
	}
	tb.Logf("%s: EXTRACT checked against %d truth row(s) in %d table(s)", p.Label, rows, len(want))
}

// MapReach is, per table, the set of primary keys (KeyText) of the rows
// the map's walk reaches for ids, as EXTRACT walks them.
func MapReach(ctx context.Context, q crm.Querier, m *datamap.Map, ids crm.Identifiers) (map[string]map[string]bool, error) {
	pks, err := PrimaryKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	s := &reachSink{keys: map[string][][]any{}, ents: map[string]*datamap.Entity{}}
	if _, err := crm.WalkWith(ctx, q, m, ids, s, crm.WalkOptions{}); err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for name, keys := range s.keys {
		e := s.ents[name]
		set := out[e.Table]
		if set == nil {
			set = map[string]bool{}
			out[e.Table] = set
		}
		pk := pks[e.Table]
		if slices.Equal(pk, e.Key) {
			for _, k := range keys {
				set[KeyText(k)] = true
			}
			continue
		}
		// The entity is keyed by a unique key other than the primary key:
		// look the primary key up.
		for _, k := range keys {
			row, err := scanRow(ctx, q, "SELECT "+sqlq.JoinQuoted(pk)+" FROM "+sqlq.QuoteIdent(e.Table)+
				" WHERE ("+sqlq.JoinQuoted(e.Key)+") = ("+sqlq.Placeholders(len(e.Key))+")", k...)
			if err != nil {
				return nil, fmt.Errorf("%s: primary key of a reached row: %w", e.Table, err)
			}
			set[KeyText(row)] = true
		}
	}
	return out, nil
}

type reachSink struct {
	cur  *datamap.Entity
	keys map[string][][]any
	ents map[string]*datamap.Entity
}

func (s *reachSink) BeginEntity(e *datamap.Entity) error {
	s.cur, s.ents[e.Name] = e, e
	return nil
}
func (s *reachSink) Row([]any) error                        { return errors.New("keyed rows expected") }
func (s *reachSink) EndEntity(*datamap.Entity, int64) error { return nil }
func (s *reachSink) KeyedRow(key, _, _ []any) error {
	s.keys[s.cur.Name] = append(s.keys[s.cur.Name], slices.Clone(key))
	return nil
}

// ProveDelete runs a DELETE for p as the worker does (PlanDelete, one
// transaction) and fails unless exactly p's rows went: every truth row is
// gone (or kept by a hold the result names, changed only in personal
// columns the map names), every other row of every table is unchanged and
// none was added, and no column anywhere still holds p's identifiers
// outside held rows.
func ProveDelete(tb testing.TB, db *sql.DB, m *datamap.Map, f *Fixture, p Person) *crm.DeleteResult {
	tb.Helper()
	var res *crm.DeleteResult
	ProveDeleteBy(tb, db, m, f, p, func() (map[string]bool, error) {
		ctx := context.Background()
		plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
		if err != nil {
			return nil, fmt.Errorf("plan delete: %w", err)
		}
		key, err := anonymize.NewRequestKey()
		if err != nil {
			return nil, err
		}
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			res, err = crm.New(func() time.Time { return Clock }).Delete(ctx, tx, plan, key, p.IDs)
			return err
		}); err != nil {
			return nil, err
		}
		UnreleasedBlocks(tb, p, res.Blocks)
		return BlockedRows(res.Blocks)
	})
	return res
}

// UnreleasedBlocks fails for each row a DELETE kept that nothing will ever
// release (no release date): a row kept "because retained data depends on
// it" when no retained row does (the titular's address kept because the
// DELETE reached it before the customer row that references it, or a row a
// table outside the map references) stays, whole, for good.
func UnreleasedBlocks(tb testing.TB, p Person, blocks []crm.Block) {
	tb.Helper()
	n := map[string][]string{}
	for _, b := range blocks {
		if b.Until == nil {
			n[b.Table+" ("+b.Basis+")"] = append(n[b.Table+" ("+b.Basis+")"], b.RowKey)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(n)) {
		tb.Errorf("%s: DELETE kept %d row(s) of %s with no release date: keys %s", p.Label, len(n[k]), k, short(n[k]))
	}
}

// BlockedRows are the rows a DELETE or ANONYMIZE kept, as table+KeyText.
func BlockedRows(blocks []crm.Block) (map[string]bool, error) {
	out := map[string]bool{}
	for _, b := range blocks {
		k, err := crm.ParseRowKey(b.RowKey)
		if err != nil {
			return nil, err
		}
		out[b.Table+KeyText(k)] = true
	}
	return out, nil
}

// around reads p's truth and snapshots the CRM before and after run (a
// DELETE or ANONYMIZE, what), which returns the rows it kept; ok is false
// when run failed, which it reports.
func around(tb testing.TB, db *sql.DB, f *Fixture, p Person, what string, run func() (map[string]bool, error)) (
	truth map[string]map[string]bool, before, after map[string]*TableSnapshot, kept map[string]bool, ok bool) {
	tb.Helper()
	ctx := context.Background()
	truth, err := f.PersonKeys(ctx, db, p)
	if err != nil {
		tb.Fatal(err)
	}
	if before, err = TakeSnapshot(ctx, db); err != nil {
		tb.Fatal(err)
	}
	if kept, err = run(); err != nil {
		tb.Errorf("%s: %s failed: %v", p.Label, what, err)
		return nil, nil, nil, nil, false
	}
	if after, err = TakeSnapshot(ctx, db); err != nil {
		tb.Fatal(err)
	}
	return truth, before, after, kept, true
}

// ProveDeleteBy is ProveDelete with the DELETE run by run (the service's
// worker, say), which returns the rows it kept under holds (BlockedRows).
func ProveDeleteBy(tb testing.TB, db *sql.DB, m *datamap.Map, f *Fixture, p Person, run func() (blocked map[string]bool, err error)) {
	tb.Helper()
	truth, before, after, blocked, ok := around(tb, db, f, p, "DELETE", run)
	if !ok {
		return
	}
	personal := personalColumns(m)
	gone := 0
	for _, t := range slices.Sorted(maps.Keys(before)) {
		bt, at := before[t], after[t]
		var kept, keptBad, changed, removed []string
		for k, row := range bt.Rows {
			arow, still := at.Rows[k]
			switch {
			case truth[t][k] && !still:
				gone++
			case truth[t][k] && blocked[t+k]:
				if cols := changedColumns(bt, row, arow, allowed(personal, t)); len(cols) > 0 {
					keptBad = append(keptBad, k+" "+strings.Join(cols, ","))
				}
			case truth[t][k]:
				kept = append(kept, k)
			case !still:
				removed = append(removed, k)
			case !slices.Equal(row, arow):
				changed = append(changed, k+" "+strings.Join(changedColumns(bt, row, arow, nil), ","))
			}
		}
		if n := len(kept); n > 0 {
			tb.Errorf("%s: DELETE left %d of the titular's %d row(s) of %s, under no hold: keys %s", p.Label, n, len(truth[t]), t, short(kept))
		}
		if len(keptBad) > 0 {
			tb.Errorf("%s: DELETE changed non-personal columns of held rows of %s: %s", p.Label, t, short(keptBad))
		}
		if len(removed) > 0 {
			tb.Errorf("%s: DELETE removed %d row(s) of %s that are not the titular's: keys %s", p.Label, len(removed), t, short(removed))
		}
		if len(changed) > 0 {
			tb.Errorf("%s: DELETE changed %d row(s) of %s that are not the titular's: %s", p.Label, len(changed), t, short(changed))
		}
		if added := addedRows(bt, at); len(added) > 0 {
			tb.Errorf("%s: DELETE added %d row(s) to %s: keys %s", p.Label, len(added), t, short(added))
		}
	}
	if left := scanIdentifiers(after, Needles(p.IDs), blocked); len(left) > 0 {
		tb.Errorf("%s: after DELETE, the titular's identifiers remain in %s", p.Label, strings.Join(left, ", "))
	}
	tb.Logf("%s: DELETE removed %d row(s), kept %d under holds", p.Label, gone, len(blocked))
}

// ProveAnonymize runs an ANONYMIZE for p as the worker does (PlanAnonymize,
// the walk on a snapshot, the writes in one transaction) and fails unless
// exactly p's rows changed, and only in the personal columns the map names
// (and columns the server rewrites on UPDATE): no row deleted or added, no
// other row changed, p's identifiers nowhere left, and the old identifiers
// reach nothing. A row of the titular that holds a personal value and did not
// change at all fails too.
func ProveAnonymize(tb testing.TB, db *sql.DB, m *datamap.Map, f *Fixture, p Person) *crm.AnonymizeResult {
	tb.Helper()
	var res *crm.AnonymizeResult
	ProveAnonymizeBy(tb, db, m, f, p, func() (map[string]bool, error) {
		ctx := context.Background()
		plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
		if err != nil {
			return nil, fmt.Errorf("plan anonymize: %w", err)
		}
		key, err := anonymize.NewRequestKey()
		if err != nil {
			return nil, err
		}
		read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
		if err != nil {
			return nil, err
		}
		defer read.Rollback() //nolint:errcheck // read-only
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			res, err = crm.New(func() time.Time { return Clock }).Anonymize(ctx, read, tx, plan, key, p.IDs)
			return err
		}); err != nil {
			return nil, err
		}
		return BlockedRows(res.Blocks)
	})
	return res
}

// ProveAnonymizeBy is ProveAnonymize with the ANONYMIZE run by run (the
// service's worker, say), which returns the rows holds kept (BlockedRows).
func ProveAnonymizeBy(tb testing.TB, db *sql.DB, m *datamap.Map, f *Fixture, p Person, run func() (held map[string]bool, err error)) {
	tb.Helper()
	truth, before, after, held, ok := around(tb, db, f, p, "ANONYMIZE", run)
	if !ok {
		return
	}
	personal := personalColumns(m)
	rows := 0
	for _, t := range slices.Sorted(maps.Keys(before)) {
		bt, at := before[t], after[t]
		var removed, changed, bad, unchanged []string
		for k, row := range bt.Rows {
			arow, still := at.Rows[k]
			switch {
			case !still:
				removed = append(removed, k)
			case truth[t][k]:
				if !slices.Equal(row, arow) {
					rows++
				} else if !held[t+k] && holdsPersonal(bt, row, personal[t]) {
					unchanged = append(unchanged, k)
				}
				if cols := changedColumns(bt, row, arow, allowed(personal, t)); len(cols) > 0 {
					bad = append(bad, k+" "+strings.Join(cols, ","))
				}
			case !slices.Equal(row, arow):
				changed = append(changed, k+" "+strings.Join(changedColumns(bt, row, arow, nil), ","))
			}
		}
		if len(removed) > 0 {
			tb.Errorf("%s: ANONYMIZE removed %d row(s) of %s: keys %s", p.Label, len(removed), t, short(removed))
		}
		if len(bad) > 0 {
			tb.Errorf("%s: ANONYMIZE changed columns of the titular's rows of %s that the map does not name as personal: %s", p.Label, t, short(bad))
		}
		if len(unchanged) > 0 {
			tb.Errorf("%s: ANONYMIZE left %d of the titular's row(s) of %s unchanged, though they hold values in columns the map names as personal: keys %s",
				p.Label, len(unchanged), t, short(unchanged))
		}
		if len(changed) > 0 {
			tb.Errorf("%s: ANONYMIZE changed %d row(s) of %s that are not the titular's: %s", p.Label, len(changed), t, short(changed))
		}
		if added := addedRows(bt, at); len(added) > 0 {
			tb.Errorf("%s: ANONYMIZE added %d row(s) to %s: keys %s", p.Label, len(added), t, short(added))
		}
	}
	if left := scanIdentifiers(after, Needles(p.IDs), held); len(left) > 0 {
		tb.Errorf("%s: after ANONYMIZE, the titular's identifiers remain in %s", p.Label, strings.Join(left, ", "))
	}
	if len(held) == 0 {
		reach, err := MapReach(context.Background(), db, m, p.IDs)
		if err != nil {
			tb.Fatal(err)
		}
		for t, set := range reach {
			if len(set) > 0 {
				tb.Errorf("%s: after ANONYMIZE, the old identifiers still reach %d row(s) of %s", p.Label, len(set), t)
			}
		}
	}
	tb.Logf("%s: ANONYMIZE changed %d of the titular's row(s), %d held", p.Label, rows, len(held))
}

// TableSnapshot is every row of one table, by primary key (KeyText), each
// row its columns' values as text in Columns order.
type TableSnapshot struct {
	Columns []string
	Rows    map[string][]string
	// AutoUpdate are the columns the server rewrites on any UPDATE (ON
	// UPDATE CURRENT_TIMESTAMP): changing them is part of changing the row.
	AutoUpdate map[string]bool
}

// TakeSnapshot reads every row of every base table of the database (all
// columns) but titular's own (lgpd_*).
func TakeSnapshot(ctx context.Context, q crm.Querier) (map[string]*TableSnapshot, error) {
	pks, err := PrimaryKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	auto := map[string]map[string]bool{}
	err = eachRow(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND LOWER(EXTRA) LIKE '%on update%'`, nil, func(raw []any) error {
		t, c := text(raw[0]), text(raw[1])
		if auto[t] == nil {
			auto[t] = map[string]bool{}
		}
		auto[t][c] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*TableSnapshot{}
	for t, pk := range pks {
		if strings.HasPrefix(t, "lgpd_") {
			continue // titular's own records, not the CRM's
		}
		ts, err := snapshotTable(ctx, q, t, pk)
		if err != nil {
			return nil, err
		}
		ts.AutoUpdate = auto[t]
		out[t] = ts
	}
	return out, nil
}

func snapshotTable(ctx context.Context, q crm.Querier, table string, pk []string) (*TableSnapshot, error) {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+sqlq.QuoteIdent(table))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var keyIdx []int
	for _, k := range pk {
		keyIdx = append(keyIdx, slices.Index(cols, k))
	}
	ts := &TableSnapshot{Columns: cols, Rows: map[string][]string{}}
	for rows.Next() {
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range raw {
			row[i] = text(v)
		}
		key := make([]any, len(keyIdx))
		for i, j := range keyIdx {
			key[i] = raw[j]
		}
		k := KeyText(key)
		if _, dup := ts.Rows[k]; dup {
			k += fmt.Sprintf("#%d", len(ts.Rows))
		}
		ts.Rows[k] = row
	}
	return ts, rows.Err()
}

// pkCache keeps each test database's primary keys: reading
// information_schema costs more than a titular's walk, and the fixtures'
// schemas do not change.
var pkCache sync.Map // database name -> map[string][]string

// PrimaryKeys is every base table's primary key columns, in key order; a
// table without one is keyed by all its columns.
func PrimaryKeys(ctx context.Context, q crm.Querier) (map[string][]string, error) {
	var name string
	if err := q.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		return nil, err
	}
	if v, ok := pkCache.Load(name); ok {
		return v.(map[string][]string), nil
	}
	out, err := primaryKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	pkCache.Store(name, out)
	return out, nil
}

func primaryKeys(ctx context.Context, q crm.Querier) (map[string][]string, error) {
	all := map[string][]string{}
	err := eachRow(ctx, q, `SELECT c.TABLE_NAME, c.COLUMN_NAME
		FROM information_schema.COLUMNS c
		JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
		WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
		ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`, nil, func(raw []any) error {
		t := text(raw[0])
		all[t] = append(all[t], text(raw[1]))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	err = eachRow(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY'
		ORDER BY TABLE_NAME, ORDINAL_POSITION`, nil, func(raw []any) error {
		t := text(raw[0])
		out[t] = append(out[t], text(raw[1]))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for t, cols := range all {
		if out[t] == nil {
			out[t] = cols
		}
	}
	return out, nil
}

// personalColumns are, per table, the columns some entity maps with a
// personal category (not contexto).
func personalColumns(m *datamap.Map) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Category == datamap.CategoryContext {
				continue
			}
			if out[e.Table] == nil {
				out[e.Table] = map[string]bool{}
			}
			out[e.Table][f.Column] = true
		}
	}
	return out
}

// changedColumns names the columns that differ between a and b, leaving out
// those allowed to change and the server's ON UPDATE columns (nil allowed:
// every difference counts).
func changedColumns(ts *TableSnapshot, a, b []string, allowed map[string]bool) []string {
	var out []string
	for i, c := range ts.Columns {
		if a[i] == b[i] || allowed[c] || (allowed != nil && ts.AutoUpdate[c]) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// holdsPersonal reports whether row has a value (not NULL, not empty) in
// one of the personal columns.
func holdsPersonal(ts *TableSnapshot, row []string, personal map[string]bool) bool {
	for i, c := range ts.Columns {
		if personal[c] && row[i] != "" && row[i] != text(nil) {
			return true
		}
	}
	return false
}

// allowed is personal[t], never nil: the columns of t a change may touch.
func allowed(personal map[string]map[string]bool, t string) map[string]bool {
	if a := personal[t]; a != nil {
		return a
	}
	return map[string]bool{}
}

func addedRows(before, after *TableSnapshot) []string {
	var out []string
	for k := range after.Rows {
		if _, ok := before.Rows[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// scanIdentifiers lists "table.column (n rows)" wherever a value contains
// one of needles, leaving out the rows in skip (table+key). It never
// returns the values.
func scanIdentifiers(snap map[string]*TableSnapshot, needles []string, skip map[string]bool) []string {
	var out []string
	for _, t := range slices.Sorted(maps.Keys(snap)) {
		ts := snap[t]
		hits := map[string]int{}
		for k, row := range ts.Rows {
			if skip[t+k] {
				continue
			}
			for i, v := range row {
				for _, n := range needles {
					if n != "" && strings.Contains(strings.ToLower(v), strings.ToLower(n)) {
						hits[ts.Columns[i]]++
						break
					}
				}
			}
		}
		for _, c := range slices.Sorted(maps.Keys(hits)) {
			out = append(out, fmt.Sprintf("%s.%s (%d row(s))", t, c, hits[c]))
		}
	}
	return out
}

func union(a, b map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// diffSets is what want has and got lacks, and the reverse, sorted.
func diffSets(want, got map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

// short lists at most five items.
func short(v []string) string {
	slices.Sort(v)
	if len(v) > 5 {
		return strings.Join(v[:5], " ") + fmt.Sprintf(" ... (%d more)", len(v)-5)
	}
	return strings.Join(v, " ")
}

func scanRow(ctx context.Context, q crm.Querier, query string, args ...any) ([]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, sql.ErrNoRows
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return raw, rows.Err()
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
