package crm_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// walk runs crm.Walk and fails the test on any error or crm.Sink protocol breach.
func walk(t *testing.T, q crm.Querier, m *datamap.Map, ids crm.Identifiers) (*recorder, []crm.EntityCount) {
	t.Helper()
	rec := newRecorder()
	counts, err := crm.Walk(context.Background(), q, m, ids, rec)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	for _, e := range rec.errors {
		t.Error(e)
	}
	return rec, counts
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestWalk_FindsExactlyTheSubjectsRows(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	seedCRM(t, db)
	s1, s2 := "350000.0000", "12345678901234.5678"
	parts := []string{"100.01", "200.02", "300.03"}
	notes := []string{"N1", "N2", "N3", "N7"}
	cases := []struct {
		name string
		ids  crm.Identifiers
		want map[string][]string
	}{
		{"cpf alone", crm.Identifiers{CPF: subjectCPF}, map[string][]string{
			"person":    {"Ana Subject"},
			"lead":      {"L1 cpf, email, phone and child", "L2 cpf only", "L3 child only"},
			"sale":      {s1, s2, "777.7700"},
			"sale_part": append(slices.Clone(parts), "400.04"),
			"part_note": append(slices.Clone(notes), "N6 via S4"),
		}},
		{"email alone", crm.Identifiers{Email: subjectEmail}, map[string][]string{
			"person":    {"Ana Subject"},
			"lead":      {"L1 cpf, email, phone and child", "L3 child only", "L4 email only"},
			"sale":      {s1, s2},
			"sale_part": parts,
			"part_note": notes,
		}},
		{"phone alone", crm.Identifiers{Phone: subjectPhone}, map[string][]string{
			"person":    {"Ana Subject"},
			"lead":      {"L1 cpf, email, phone and child", "L3 child only", "L5 phone only"},
			"sale":      {s1, s2},
			"sale_part": parts,
			"part_note": notes,
		}},
		{"all three", crm.Identifiers{CPF: subjectCPF, Email: subjectEmail, Phone: subjectPhone}, map[string][]string{
			"person":    {"Ana Subject"},
			"lead":      {"L1 cpf, email, phone and child", "L2 cpf only", "L3 child only", "L4 email only", "L5 phone only"},
			"sale":      {s1, s2, "777.7700"},
			"sale_part": append(slices.Clone(parts), "400.04"),
			"part_note": append(slices.Clone(notes), "N6 via S4"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, counts := walk(t, db, m, c.ids)
			for entity, want := range c.want {
				got := rec.tags(entity)
				if !slices.Equal(sorted(got), sorted(want)) {
					t.Errorf("%s rows = %q\nwant %q (each once)", entity, got, want)
				}
			}
			// Counts: one per entity, in visiting order, equal to the rows.
			var names []string
			for _, ec := range counts {
				names = append(names, ec.Entity)
				if ec.Rows != int64(len(c.want[ec.Entity])) {
					t.Errorf("count of %s = %d, want %d", ec.Entity, ec.Rows, len(c.want[ec.Entity]))
				}
			}
			if !slices.Equal(names, rec.order) || len(names) != len(m.Entities) {
				t.Errorf("counts for %v, sink saw %v; want every entity once, in the same order", names, rec.order)
			}
			// Nothing of the decoys, nothing unmapped.
			for entity, rows := range rec.rows {
				for _, row := range rows {
					for _, v := range row {
						s := fmt.Sprint(v)
						if strings.Contains(s, "SECRET") || strings.Contains(s, "Decoy") || strings.Contains(s, "decoy") ||
							strings.Contains(s, "orphan") || strings.Contains(s, "lookalike") {
							t.Errorf("%s row %v holds %q, which is not the subject's", entity, row, s)
						}
					}
				}
			}
		})
	}
}

func TestWalk_ParentsBeforeChildren(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	seedCRM(t, db)
	rec, _ := walk(t, db, m, crm.Identifiers{CPF: subjectCPF})
	pos := map[string]int{}
	for i, n := range rec.order {
		pos[n] = i
	}
	for _, e := range m.Entities {
		if _, ok := pos[e.Name]; !ok {
			t.Errorf("entity %s never visited", e.Name)
		}
		if e.Parent != nil && pos[e.Parent.Entity] > pos[e.Name] {
			t.Errorf("%s visited before its parent %s (order %v)", e.Name, e.Parent.Entity, rec.order)
		}
	}
	// The map lists part_note first; it must come last.
	if rec.order[0] != "person" || rec.order[len(rec.order)-1] != "part_note" {
		t.Errorf("visiting order = %v", rec.order)
	}
}

func TestWalk_ValueKinds(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	seedCRM(t, db)
	rec, _ := walk(t, db, m, crm.Identifiers{CPF: subjectCPF})

	check := func(entity, tag, column string, want any) {
		t.Helper()
		got := rec.value(t, entity, tag, column)
		if wt, ok := want.(time.Time); ok {
			gt, ok := got.(time.Time)
			if !ok || !gt.Equal(wt) || gt.Location() != time.UTC {
				t.Errorf("%s.%s = %#v (%T), want %v in UTC", entity, column, got, got, wt)
			}
			return
		}
		if got != want {
			t.Errorf("%s.%s = %#v (%T), want %#v (%T)", entity, column, got, got, want, want)
		}
	}
	check("person", "Ana Subject", "name", "Ana Subject")
	check("person", "Ana Subject", "email", "Ana.Souza@Example.COM") // as stored
	check("person", "Ana Subject", "birth", crm.Date{Year: 1985, Month: time.March, Day: 7})
	check("person", "Ana Subject", "income", crm.Decimal("12345.67"))
	check("person", "Ana Subject", "created", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	check("sale", "12345678901234.5678", "value", crm.Decimal("12345678901234.5678")) // beyond float64
	check("sale", "12345678901234.5678", "sold_on", nil)
	check("sale", "350000.0000", "sold_on", crm.Date{Year: 2023, Month: time.June, Day: 30})
	check("sale_part", "200.02", "part_no", int64(2))
	check("lead", "L3 child only", "cpf", nil)
	check("lead", "L2 cpf only", "email", nil)
	if d := rec.value(t, "person", "Ana Subject", "birth"); fmt.Sprint(d) != "1985-03-07" {
		t.Errorf("Date renders as %q", fmt.Sprint(d))
	}
}

// MySQL's zero date means "unknown" in legacy CRMs: it reaches the sink as
// nil, not as year 1.
func TestWalk_ZeroDatesAreNil(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO people (id, cpf, name, birth, created)
 VALUES (1, ?, 'Zero Dates', '0000-00-00', '0000-00-00 00:00:00')`, subjectCPF); err != nil {
		t.Fatal(err)
	}
	rec, _ := walk(t, db, m, crm.Identifiers{CPF: subjectCPF})
	for _, col := range []string{"birth", "created"} {
		if v := rec.value(t, "person", "Zero Dates", col); v != nil {
			t.Errorf("zero %s = %#v (%v), want nil", col, v, v)
		}
	}
}

// More parent keys than one child query takes: 1203 sales, each with a
// composite-keyed part and a note on it, among a decoy's rows.
func TestWalk_BatchesParentKeys(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	mustExec(t, db, `INSERT INTO people (id, cpf, name) VALUES (1, ?, 'Ana Subject'), (2, ?, 'Bia Decoy')`, subjectCPF, decoyCPF)
	const n, decoys = 1203, 40
	insertRows := func(table, cols string, rows [][]any) {
		t.Helper()
		var marks []string
		var args []any
		for _, r := range rows {
			marks = append(marks, "("+sqlq.Placeholders(len(r))+")")
			args = append(args, r...)
		}
		mustExec(t, db, "INSERT INTO "+table+" ("+cols+") VALUES "+strings.Join(marks, ", "), args...)
	}
	var sales, parts, notes [][]any
	for i := 1; i <= n+decoys; i++ {
		person := 1
		if i%(n/decoys) == 0 {
			person = 2 // the decoy's sales sit among the subject's
		}
		sales = append(sales, []any{i, person, fmt.Sprintf("%d.0000", i)})
		parts = append(parts, []any{i, i%3 + 1, fmt.Sprintf("%d.00", i)})
		notes = append(notes, []any{i, i%3 + 1, fmt.Sprintf("note %d", i)})
	}
	insertRows("sales", "id, person_id, value", sales)
	insertRows("sale_parts", "sale_id, part_no, amount", parts)
	insertRows("part_notes", "sale_id, part_no, body", notes)
	var mine int
	for _, s := range sales {
		if s[1] == 1 {
			mine++
		}
	}
	if mine <= 2*crm.ParentBatch {
		t.Fatalf("fixture has only %d subject sales; need more than %d", mine, 2*crm.ParentBatch)
	}

	rec, counts := walk(t, db, m, crm.Identifiers{CPF: subjectCPF})
	for _, entity := range []string{"sale", "sale_part", "part_note"} {
		tags := rec.tags(entity)
		if len(tags) != mine {
			t.Errorf("%s: %d rows, want %d", entity, len(tags), mine)
		}
		if len(slices.Compact(sorted(tags))) != len(tags) {
			t.Errorf("%s: a row was delivered twice", entity)
		}
	}
	for _, ec := range counts {
		if ec.Entity != "person" && ec.Entity != "lead" && ec.Rows != int64(mine) {
			t.Errorf("count of %s = %d, want %d", ec.Entity, ec.Rows, mine)
		}
	}
	for _, s := range sales {
		if s[1] == 2 && slices.Contains(rec.tags("sale"), s[2].(string)) {
			t.Errorf("decoy sale %v delivered", s)
		}
	}
}

// An entity found both by its match rules and through more parent keys
// than one query takes: the match rules ride with the first batch of parent
// keys, and rows the later batches reach again are delivered once.
func TestWalk_MatchAndParentBatchesDeliverOnce(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	const people = crm.ParentBatch + 100
	var pm, sm []string
	var pargs, sargs []any
	for i := 1; i <= people; i++ {
		pm = append(pm, "(?, ?, ?)")
		pargs = append(pargs, i, subjectCPF, fmt.Sprintf("Pessoa %d", i))
		var cpf any
		if i%3 == 0 { // spread over both batches
			cpf = subjectCPF
		}
		sm = append(sm, "(?, ?, ?, ?)")
		sargs = append(sargs, i, i, cpf, fmt.Sprintf("%d.0000", i))
	}
	mustExec(t, db, "INSERT INTO people (id, cpf, name) VALUES "+strings.Join(pm, ", "), pargs...)
	mustExec(t, db, "INSERT INTO sales (id, person_id, client_cpf, value) VALUES "+strings.Join(sm, ", "), sargs...)
	rec, counts := walk(t, db, m, crm.Identifiers{CPF: subjectCPF})
	tags := rec.tags("sale")
	if len(tags) != people || len(slices.Compact(sorted(tags))) != people {
		t.Errorf("sale: %d rows, %d distinct; want each of %d once", len(tags), len(slices.Compact(sorted(tags))), people)
	}
	for _, ec := range counts {
		if ec.Entity == "sale" && ec.Rows != people {
			t.Errorf("count of sale = %d, want %d", ec.Rows, people)
		}
	}
}

// crm.Walk inside a transaction (as DELETE runs it) sees the transaction's rows.
func TestWalk_InTransaction(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	seedCRM(t, db)
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec("INSERT INTO leads (person_id, note) VALUES (1, 'L9 uncommitted child')"); err != nil {
		t.Fatal(err)
	}
	rec, _ := walk(t, tx, m, crm.Identifiers{Email: subjectEmail})
	if !slices.Contains(rec.tags("lead"), "L9 uncommitted child") {
		t.Errorf("leads seen in the transaction = %v", rec.tags("lead"))
	}
}

func TestWalk_NoIdentifiers(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	rec := newRecorder()
	if _, err := crm.Walk(context.Background(), db, m, crm.Identifiers{}, rec); err == nil {
		t.Fatal("Walk with no identifier returned no error")
	}
	if len(rec.order) != 0 {
		t.Errorf("Walk with no identifier reached the sink: %v", rec.order)
	}
}

// An identifier not in normalized form has no lookup shapes; crm.Walk must not
// build an empty IN () (a SQL syntax error) nor echo the value.
func TestWalk_UnnormalizedIdentifier(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	seedCRM(t, db)
	formatted := subjectCPF[:3] + "." + subjectCPF[3:6] + "." + subjectCPF[6:9] + "-" + subjectCPF[9:]
	rec := newRecorder()
	_, err := crm.Walk(context.Background(), db, m, crm.Identifiers{CPF: formatted}, rec)
	if err != nil {
		if strings.Contains(err.Error(), "SQL syntax") || strings.Contains(err.Error(), "1064") {
			t.Errorf("unnormalized CPF: err = %v; want a clear error (or no match), not a SQL syntax error", err)
		}
		if strings.Contains(err.Error(), formatted) || strings.Contains(err.Error(), subjectCPF) {
			t.Errorf("error echoes the CPF: %v", err)
		}
	}
}

func TestLookupValues(t *testing.T) {
	t.Parallel()
	if got := crm.LookupValues("cpf", subjectCPF); len(got) != 3 || got[0] != subjectCPF {
		t.Errorf("cpf shapes = %q", got)
	}
	if got := crm.LookupValues("phone", subjectPhone); len(got) != 9 || got[0] != subjectPhone || !slices.Contains(got, "(11) 98765-4321") {
		t.Errorf("phone shapes = %q", got)
	}
	if got := crm.LookupValues("email", subjectEmail); !slices.Equal(got, []string{subjectEmail}) {
		t.Errorf("email shapes = %q", got)
	}
}
