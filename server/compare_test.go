package server

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/datamap"
)

// exportDoc is the part of the JSON export the tests compare.
type exportDoc struct {
	Schema  string `json:"schema"`
	Request struct {
		ID         string `json:"id"`
		Tenant     string `json:"tenant"`
		Controller string `json:"controller"`
		Kind       string `json:"kind"`
		SubjectRef string `json:"subject_ref"`
	} `json:"request"`
	Entities []struct {
		Name   string `json:"name"`
		Label  string `json:"label"`
		Table  string `json:"table"`
		Fields []struct {
			Name     string `json:"name"`
			Label    string `json:"label"`
			Category string `json:"category"`
		} `json:"fields"`
		Rows     []map[string]any `json:"rows"`
		RowCount json.Number      `json:"row_count"`
	} `json:"entities"`
}

func decodeExport(t *testing.T, b []byte) exportDoc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var d exportDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode JSON export: %v", err)
	}
	return d
}

// rowsOf returns the exported rows of an entity, failing when it is absent.
func (d exportDoc) rowsOf(t *testing.T, entity string) []map[string]any {
	t.Helper()
	for _, e := range d.Entities {
		if e.Name == entity {
			return e.Rows
		}
	}
	t.Fatalf("export has no entity %q", entity)
	return nil
}

// expectRows fetches, with SQL written by the test (not the data-map
// walker), the rows the export should hold for entity, and compares them
// with the export field by field, as sets of rows.
func expectRows(t *testing.T, db *sql.DB, m *datamap.Map, doc exportDoc, entity, where string, args ...any) int {
	t.Helper()
	e := m.Entity(entity)
	if e == nil {
		t.Fatalf("data map has no entity %q", entity)
	}
	cols := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		cols[i] = "`" + f.Column + "`"
	}
	rows, err := db.Query("SELECT "+strings.Join(cols, ", ")+" FROM `"+e.Table+"` WHERE "+where, args...)
	if err != nil {
		t.Fatalf("expected rows of %s: %v", entity, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, f := range e.Fields {
			row[f.Column] = canonicalDB(vals[i], types[i].DatabaseTypeName())
		}
		want = append(want, canonicalRow(row))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range doc.rowsOf(t, entity) {
		row := map[string]string{}
		for k, v := range r {
			row[k] = canonicalJSON(v)
		}
		if len(r) != len(e.Fields) {
			t.Errorf("%s: exported row has %d fields, the map has %d (unmapped data must not leak)", entity, len(r), len(e.Fields))
		}
		got = append(got, canonicalRow(row))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Errorf("%s: export rows differ from the database\n got: %v\nwant: %v", entity, got, want)
	}
	return len(want)
}

func canonicalRow(r map[string]string) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, r[k])
	}
	return b.String()
}

func canonicalDB(v any, dbType string) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []byte:
		return string(x)
	case time.Time:
		if dbType == "DATE" {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format(time.RFC3339)
	default:
		return fmt.Sprint(x)
	}
}

func canonicalJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "1"
		}
		return "0"
	default:
		return fmt.Sprint(x)
	}
}
