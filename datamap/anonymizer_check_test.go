package datamap

import (
	"errors"
	"strings"
	"testing"
)

type fixErr struct{ msg, fix string }

func (e fixErr) Error() string { return e.msg }
func (e fixErr) Fix() string   { return e.fix }

// TestAnonymizerCheckHook: params are checked at Parse, the fit to the
// column at CheckSchema, each reported at the field's anonymizer path.
func TestAnonymizerCheckHook(t *testing.T) {
	var seen []string
	check := func(ref AnonymizerRef, col *Column, unique bool) error {
		if col == nil {
			if ref.Params["bad"] != nil {
				return fixErr{"bad param", "remove it"}
			}
			return nil
		}
		seen = append(seen, ref.Name+":"+col.Name)
		if unique {
			return errors.New("column is unique")
		}
		return nil
	}
	src := `version: 1
subject: {identifiers: [cpf]}
entities:
  p:
    table: people
    key: [id]
    match: {cpf: doc}
    fields:
      doc:  {category: identificacao, anonymizer: fake.cpf}
      name: {category: identificacao, anonymizer: fake.name}
`
	if _, err := Parse("m.yaml", []byte(strings.Replace(src, "anonymizer: fake.name", "anonymizer: {name: fake.name, params: {bad: 1}}", 1)), WithAnonymizerCheck(check)); err == nil ||
		!strings.Contains(err.Error(), "fields.name.anonymizer.name: bad param (fix: remove it)") {
		t.Errorf("Parse = %v, want the param problem at the anonymizer", err)
	}
	m, err := Parse("m.yaml", []byte(src), WithAnonymizerCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	s := &Schema{Tables: map[string]*Table{"people": {Name: "people", PrimaryKey: []string{"id"}, Unique: [][]string{{"id"}, {"doc"}},
		Columns: map[string]Column{"id": {Name: "id", DataType: "int"}, "doc": {Name: "doc", DataType: "varchar", MaxLength: 14},
			"name": {Name: "name", DataType: "varchar", MaxLength: 100}}}}}
	err = m.CheckSchema(s)
	if err == nil || !strings.Contains(err.Error(), "fields.doc.anonymizer: column is unique") || strings.Contains(err.Error(), "fields.name") {
		t.Errorf("CheckSchema = %v, want one problem on doc", err)
	}
	if strings.Join(seen, ",") != "fake.cpf:doc,fake.name:name" {
		t.Errorf("checked %v", seen)
	}
	if !UniqueColumn(s.Tables["people"], "id") || UniqueColumn(s.Tables["people"], "name") {
		t.Error("UniqueColumn is wrong")
	}
}
