package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// exampleMap is the slice of examples/realestate/datamap.yaml this test
// checks; the datamap package owns the full format and its validation.
type exampleMap struct {
	Entities map[string]struct {
		Table  string            `yaml:"table"`
		Key    []string          `yaml:"key"`
		Match  map[string]string `yaml:"match"`
		Parent *struct {
			Entity string            `yaml:"entity"`
			On     map[string]string `yaml:"on"`
		} `yaml:"parent"`
		Fields map[string]struct {
			Category string `yaml:"category"`
			Label    string `yaml:"label"`
		} `yaml:"fields"`
		// Retention is one hold or a list of them; fromColumns reads the
		// date columns their `from` names.
		Retention yaml.Node `yaml:"retention"`
	} `yaml:"entities"`
}

// TestExampleDataMapFitsSchema keeps the example data map in step with
// schema.sql: every table and column it names exists.
func TestExampleDataMapFitsSchema(t *testing.T) {
	data, err := os.ReadFile("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m exampleMap
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("datamap.yaml: %v", err)
	}
	db := newDB(t)
	if err := CreateSchema(t.Context(), db, false); err != nil {
		t.Fatal(err)
	}
	cols := map[string]map[string]bool{}
	for _, r := range query(t, db, "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()") {
		if cols[r[0]] == nil {
			cols[r[0]] = map[string]bool{}
		}
		cols[r[0]][r[1]] = true
	}
	has := func(entity, table, col, where string) {
		t.Helper()
		if !cols[table][col] {
			t.Errorf("entity %s: %s names %s.%s, which does not exist", entity, where, table, col)
		}
	}
	tablesMapped := map[string]bool{}
	for name, e := range m.Entities {
		if cols[e.Table] == nil {
			t.Errorf("entity %s: table %s does not exist", name, e.Table)
			continue
		}
		tablesMapped[e.Table] = true
		for _, k := range e.Key {
			has(name, e.Table, k, "key")
		}
		for _, c := range e.Match {
			has(name, e.Table, c, "match")
		}
		if e.Parent != nil {
			parent, ok := m.Entities[e.Parent.Entity]
			if !ok {
				t.Errorf("entity %s: parent %s is not an entity", name, e.Parent.Entity)
			}
			for child, pc := range e.Parent.On {
				has(name, e.Table, child, "parent.on")
				has(name, parent.Table, pc, "parent.on")
				if child == "idconjuge" {
					t.Errorf("entity %s follows the spouse link: the spouse's data is not the titular's", name)
				}
			}
		}
		for c, f := range e.Fields {
			has(name, e.Table, c, "fields")
			if f.Label == "" || f.Category == "" {
				t.Errorf("entity %s: field %s needs a category and a pt-BR label", name, c)
			}
		}
		for _, c := range fromColumns(&e.Retention, false) {
			has(name, e.Table, c, "retention.from")
		}
	}
	for _, table := range []string{"pessoas", "leads", "lead_interacoes", "reservas", "reserva_associados", "repasses",
		"documentos", "consentimentos", "corretores", "usuarios"} {
		if !tablesMapped[table] {
			t.Errorf("person-centred table %s is not mapped", table)
		}
	}
}

// TestExampleConfigKeys checks that the demo config stores the hashes of the
// documented demo keys.
func TestExampleConfigKeys(t *testing.T) {
	data, err := os.ReadFile("../examples/realestate/titular.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auth struct {
			APIKeys []struct {
				Name      string `yaml:"name"`
				KeySHA256 string `yaml:"key_sha256"`
			} `yaml:"api_keys"`
		} `yaml:"auth"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"dpo-demo": "demo-dpo-key", "crm-backend": "demo-backend-key", "auditor": "demo-auditor-key"}
	if len(cfg.Auth.APIKeys) != len(want) {
		t.Fatalf("%d api keys, want %d", len(cfg.Auth.APIKeys), len(want))
	}
	for _, k := range cfg.Auth.APIKeys {
		sum := sha256.Sum256([]byte(want[k.Name]))
		if k.KeySHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: key_sha256 is not the hash of its demo key", k.Name)
		}
	}
}

// fromColumns lists the column names under the `from` keys of n (a hold,
// a list of holds, or part of one): a column, or the columns of
// {column, latest_of, when_set, else}.
func fromColumns(n *yaml.Node, inFrom bool) []string {
	var out []string
	switch n.Kind {
	case yaml.ScalarNode:
		if inFrom {
			out = append(out, n.Value)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, fromColumns(c, inFrom)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; {
			case k == "from" && !inFrom:
				out = append(out, fromColumns(n.Content[i+1], true)...)
			case inFrom && k != "rule":
				out = append(out, fromColumns(n.Content[i+1], true)...)
			}
		}
	}
	return out
}
