package datamap

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// TestGoldenRealEstate parses a realistic map and compares every decoded
// value with a reviewed golden file; run with -update after a deliberate change.
func TestGoldenRealEstate(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "realestate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "realestate.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("parsed map differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}
}

// TestRoundTrip writes a parsed map back with MarshalYAML and parses it again.
func TestRoundTrip(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "realestate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, m)
}

// roundTrip marshals m, parses the result and checks nothing changed: the
// values must be deeply equal, and marshalling again must give the same text
// (which also holds for parameters such as NaN that never equal themselves).
func roundTrip(t *testing.T, m *Map) {
	t.Helper()
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(m.File, out)
	if err != nil {
		t.Fatalf("re-parsing the marshalled map: %v\n%s", err, out)
	}
	again, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Fatalf("round trip changed the map:\n%s\nthen\n%s", out, again)
	}
	if a, b := withoutLines(m), withoutLines(back); !reflect.DeepEqual(a, b) && string(jsonOf(a)) != string(jsonOf(b)) {
		t.Errorf("round trip changed the map:\nbefore %s\nafter  %s\nYAML:\n%s", jsonOf(a), jsonOf(b), out)
	}
}

// withoutLines copies the public content of m with line numbers cleared.
func withoutLines(m *Map) Map {
	c := Map{Version: m.Version, File: m.File, Identifiers: m.Identifiers}
	for _, e := range m.Entities {
		ec := *e
		ec.Line = 0
		ec.Fields = nil
		for _, f := range e.Fields {
			f.Line = 0
			ec.Fields = append(ec.Fields, f)
		}
		c.Entities = append(c.Entities, &ec)
	}
	return c
}

func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestExampleRealEstate parses the example map shipped for the demo tenant.
func TestExampleRealEstate(t *testing.T) {
	m, err := Load(filepath.Join("..", "examples", "realestate", "datamap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, m)
}

// TestRoundTripAwkwardValues covers values whose YAML spelling is easy to
// break: names that read as booleans or null, multi-line and padded labels,
// dates, NaN and nested parameters.
func TestRoundTripAwkwardValues(t *testing.T) {
	m := mustParse(t, doc(`  "null":
    table: "true"
    key: [a1]
    match: {cpf: "null"}
    label: "multi\nline: {x}"
    shared_with: ["yes", "a, b"]
    fields:
      "true": {category: contato, correctable: "no", label: "  spaced  "}
      x: {category: saude, anonymizer: {name: date_shift, params: {base: 2001-01-01, f: .nan, l: [1, {c: d}], n: null, 5: x}}}
`))
	f, _ := m.Entity("null").Field("x")
	if f.Anonymizer.Params["base"] != "2001-01-01" {
		t.Errorf("a date parameter should stay text, got %#v", f.Anonymizer.Params["base"])
	}
	if f, _ := m.Entity("null").Field("true"); f.Correctable != "no" {
		t.Errorf("quoted correctable = %q, want the field name \"no\"", f.Correctable)
	}
	roundTrip(t, m)
}
