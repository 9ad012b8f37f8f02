package config

import (
	"strings"
	"testing"
)

func TestNoticeParties(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`tenants:
  - id: a
    dsn: x
    datamap: m
    name: Incorporadora Exemplo Ltda
    controller: {name: Incorporadora Exemplo Ltda, contact: "Av. Exemplo, 100 — São Paulo/SP; privacidade@example.com"}
    dpo: {name: Encarregada Exemplo, contact: dpo@example.com}
`))
	if err != nil {
		t.Fatal(err)
	}
	tn := c.Tenants[0]
	if tn.Controller.Contact != "Av. Exemplo, 100 — São Paulo/SP; privacidade@example.com" || tn.DPO.Name != "Encarregada Exemplo" || tn.DPO.Contact != "dpo@example.com" {
		t.Errorf("controller %+v, dpo %+v", tn.Controller, tn.DPO)
	}
	if w := tn.NoticeWarnings(); len(w) != 0 {
		t.Errorf("a complete notice warns: %v", w)
	}
}

func TestNoticeWarningsNameWhatIsMissing(t *testing.T) {
	tn := Tenant{ID: "a", Name: "Incorporadora Exemplo Ltda", DPO: Contact{Name: "Encarregada Exemplo"}}
	w := tn.NoticeWarnings()
	if len(w) != 1 || !strings.Contains(w[0], "controller.contact, dpo.contact") || !strings.Contains(w[0], NotInformed) {
		t.Fatalf("warnings = %q, want one naming controller.contact and dpo.contact", w)
	}
	if strings.Contains(w[0], "controller.name") {
		t.Errorf("the tenant's name stands for the controller's: %q", w[0])
	}
	tn.Name = ""
	if w := tn.NoticeWarnings(); len(w) != 1 || !strings.Contains(w[0], "controller.name, controller.contact, dpo.contact") {
		t.Errorf("without any name: %q", w)
	}
}

func TestNoticeValidation(t *testing.T) {
	cases := map[string]struct{ entry, want string }{
		"two lines":   {`dpo: {name: "Encarregada\nExemplo", contact: dpo@example.com}`, "tenants[0].dpo.name: holds a line break"},
		"blank":       {`controller: {name: "  ", contact: x@example.com}`, "tenants[0].controller.name: is blank"},
		"too long":    {`dpo: {name: D, contact: "` + strings.Repeat("a", 301) + `"}`, "tenants[0].dpo.contact: is 301 characters long"},
		"unknown key": {`dpo: {nome: D}`, "field nome not found"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("tenants:\n  - {id: a, dsn: x, datamap: m, "+tc.entry+"}\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Encarregada") {
				t.Errorf("the error quotes the value: %v", err)
			}
		})
	}
}
