package export

import (
	"testing"
	"time"

	"github.com/titular/titular/export/exporttest"
)

func TestSchemaDescribesOutput(t *testing.T) {
	c := exporttest.Load(t)
	if c.Root()["$id"] != SchemaID {
		t.Fatalf("schema $id = %v, writer uses %s", c.Root()["$id"], SchemaID)
	}
	if c.Root()["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", c.Root()["$schema"])
	}
	fx := newFixture()
	noDue := newFixture()
	noDue.meta.DueAt = time.Time{}
	for name, f := range map[string]fixture{"fixture": fx, "no due date": noDue} {
		doc := decodeJSON(t, writeJSON(t, f))
		for _, e := range c.Check(doc) {
			t.Errorf("%s: %s", name, e)
		}
	}
}

// The checker must reject what the schema forbids, or the test above proves nothing.
func TestSchemaCheckerRejects(t *testing.T) {
	c := exporttest.Load(t)
	breakages := map[string]func(doc map[string]any){
		"missing summary":   func(doc map[string]any) { delete(doc, "summary") },
		"extra top key":     func(doc map[string]any) { doc["extra"] = true },
		"wrong version":     func(doc map[string]any) { doc["schema_version"] = "2" },
		"bad received_at":   func(doc map[string]any) { doc["request"].(map[string]any)["received_at"] = "02/03/2026" },
		"row_count as text": func(doc map[string]any) { entity(doc, 0)["row_count"] = "2" },
		"no legal basis":    func(doc map[string]any) { delete(entity(doc, 0), "legal_basis") },
		"retention string":  func(doc map[string]any) { entity(doc, 0)["retention"] = "5 anos" },
		"object in a row": func(doc map[string]any) {
			entity(doc, 0)["rows"].([]any)[0].(map[string]any)["nome"] = map[string]any{}
		},
		"sensitive as text": func(doc map[string]any) {
			entity(doc, 0)["fields"].([]any)[0].(map[string]any)["sensitive"] = "não"
		},
	}
	raw := writeJSON(t, newFixture())
	for name, breakDoc := range breakages {
		doc := decodeJSON(t, raw)
		breakDoc(doc)
		if errs := c.Check(doc); len(errs) == 0 {
			t.Errorf("%s: checker accepted the broken document", name)
		}
	}
}

func entity(doc map[string]any, i int) map[string]any {
	return doc["entities"].([]any)[i].(map[string]any)
}
