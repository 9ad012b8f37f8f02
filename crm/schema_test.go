package crm_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

func TestLoadSchema(t *testing.T) {
	t.Parallel()
	db, m := crmDB(t)
	s, err := crm.LoadSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tables) != 5 {
		t.Errorf("tables = %d, want 5", len(s.Tables))
	}
	people := s.Tables["people"]
	if people == nil {
		t.Fatal("people missing")
	}
	if len(people.Columns) != 9 {
		t.Errorf("people has %d columns, want 9 (the unmapped one too)", len(people.Columns))
	}
	cols := []struct {
		table, name, dataType, columnType string
		maxLen                            int64
		nullable                          bool
	}{
		{"people", "id", "int", "int(11)", 0, false},
		{"people", "cpf", "varchar", "varchar(14)", 14, true},
		{"people", "email", "varchar", "varchar(120)", 120, true},
		{"people", "name", "varchar", "varchar(100)", 100, false},
		{"people", "birth", "date", "date", 0, true},
		{"people", "income", "decimal", "decimal(12,2)", 0, true},
		{"people", "created", "datetime", "datetime", 0, true},
		{"people", "password_hash", "varchar", "varchar(100)", 100, true},
		{"leads", "note", "text", "text", 65535, true},
		{"sale_parts", "part_no", "smallint", "smallint(6)", 0, false},
		{"part_notes", "id", "bigint", "bigint(20)", 0, false},
	}
	for _, c := range cols {
		tb := s.Tables[c.table]
		if tb == nil {
			t.Errorf("table %s missing", c.table)
			continue
		}
		got, ok := tb.Columns[c.name]
		if !ok {
			t.Errorf("%s.%s missing", c.table, c.name)
			continue
		}
		// MySQL 8 drops display widths from COLUMN_TYPE; MariaDB keeps them.
		if intWidth.ReplaceAllString(got.ColumnType, "$1") != intWidth.ReplaceAllString(c.columnType, "$1") {
			t.Errorf("%s.%s COLUMN_TYPE = %q, want %q", c.table, c.name, got.ColumnType, c.columnType)
		}
		if got.Name != c.name || got.DataType != c.dataType || got.MaxLength != c.maxLen || got.Nullable != c.nullable {
			t.Errorf("%s.%s = %+v, want type %s, max %d, nullable %v", c.table, c.name, got, c.dataType, c.maxLen, c.nullable)
		}
	}

	keys := []struct {
		table  string
		pk     []string
		unique [][]string
	}{
		{"people", []string{"id"}, [][]string{{"id"}, {"email"}}},
		{"leads", []string{"id"}, [][]string{{"id"}}},
		{"sale_parts", []string{"sale_id", "part_no"}, [][]string{{"sale_id", "part_no"}}},
		{"part_notes", []string{"id"}, [][]string{{"id"}}},
	}
	for _, k := range keys {
		tb := s.Tables[k.table]
		if !slices.Equal(tb.PrimaryKey, k.pk) {
			t.Errorf("%s primary key = %v, want %v", k.table, tb.PrimaryKey, k.pk)
		}
		if !slices.EqualFunc(sortedKeys(tb.Unique), sortedKeys(k.unique), slices.Equal) {
			t.Errorf("%s unique keys = %v, want %v (no plain indexes)", k.table, tb.Unique, k.unique)
		}
	}

	// The map of the crm.Walk tests fits the schema as crm.LoadSchema reads it.
	if err := m.CheckSchema(s); err != nil {
		t.Errorf("CheckSchema: %v", err)
	}
	// And a map naming a missing column does not.
	bad, err := datamap.Parse("bad.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  person:
    table: people
    key: [id]
    match: {cpf: cpf_number}
    fields:
      name: {category: identificacao}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.CheckSchema(s); err == nil {
		t.Error("CheckSchema accepted a match on a column people does not have")
	}
}

// crm.LoadSchema sees only the current database, including titular's own tables.
func TestLoadSchema_OnlyThisDatabase(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	if _, err := store.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	s, err := crm.LoadSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if s.Tables["lgpd_requests"] == nil || s.Tables["people"] != nil {
		t.Errorf("tables = %v", mapKeys(s.Tables))
	}
	if pk := s.Tables["lgpd_requests"].PrimaryKey; !slices.Equal(pk, []string{"id"}) {
		t.Errorf("lgpd_requests primary key = %v", pk)
	}
	want := []string{"created_by", "idempotency_key"}
	if !slices.ContainsFunc(s.Tables["lgpd_requests"].Unique, func(u []string) bool { return slices.Equal(u, want) }) {
		t.Errorf("lgpd_requests unique keys = %v, want %v among them, in index order", s.Tables["lgpd_requests"].Unique, want)
	}
}

// intWidth matches an integer type's display width.
var intWidth = regexp.MustCompile(`^((?:tiny|small|medium|big)?int)\(\d+\)`)

func sortedKeys(keys [][]string) [][]string {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
