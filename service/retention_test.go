package service

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// holdsDoc is the part of the JSON export that states the holds.
type holdsDoc struct {
	Entities []struct {
		Name      string `json:"name"`
		Label     string `json:"label"`
		Retention *struct {
			Basis string `json:"basis"`
		} `json:"retention"`
		Holds []struct {
			Basis     string   `json:"basis"`
			Reference string   `json:"reference"`
			KeepYears int      `json:"keep_years"`
			From      string   `json:"from"`
			Keep      []string `json:"keep"`
			Until     *string  `json:"until"`
		} `json:"holds"`
	} `json:"entities"`
}

// TestExtractExportNamesEveryHoldAndRelease: the 2023 buyer's export, JSON
// and XLSX, states every hold on her sale with its basis, rule and the date
// it releases her rows.
func TestExtractExportNamesEveryHoldAndRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buyer := f.scenario(seed.ScenarioBuyer2023)
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want 1", n)
	}
	body, _, _, err := f.download(f.backend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	var doc holdsDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	sold := time.Date(2023, time.May, 3, 0, 0, 0, 0, time.UTC) // seed/scenarios.go
	want := map[string]string{
		"9.613":                 sold.AddDate(5, 0, 0).Format(time.RFC3339),
		"CTN art. 173":          "2029-01-01T00:00:00Z",
		"Código Civil art. 205": sold.AddDate(10, 0, 0).Format(time.RFC3339),
		"CDC art. 27":           sold.AddDate(5, 0, 0).Format(time.RFC3339),
	}
	var label string
	for _, e := range doc.Entities {
		if e.Name != "reserva" {
			// A lead has no dated hold: it stays only while held sales
			// reference it, and keeps nothing of the person.
			if e.Name == "lead" && (len(e.Holds) != 1 || e.Holds[0].KeepYears != 0 || e.Holds[0].Until != nil || len(e.Holds[0].Keep) != 0) {
				t.Errorf("leads have one hold while referenced, keeping nothing; the export lists %+v", e.Holds)
			}
			continue
		}
		label = e.Label
		if len(e.Holds) != len(want) || e.Retention == nil || e.Retention.Basis != e.Holds[0].Basis {
			t.Fatalf("reserva holds %+v (retention %+v), want %d and retention naming the first", e.Holds, e.Retention, len(want))
		}
		for ref, until := range want {
			found := false
			for _, h := range e.Holds {
				if !strings.Contains(h.Reference, ref) {
					continue
				}
				found = true
				if h.Until == nil || *h.Until != until || h.Basis == "" || h.KeepYears == 0 || h.From == "" || len(h.Keep) == 0 {
					t.Errorf("hold %q: %+v, want released %s", ref, h, until)
				}
			}
			if !found {
				t.Errorf("no hold citing %q: %+v", ref, e.Holds)
			}
		}
		if h := e.Holds[1]; h.From != "data_venda next_year_start" {
			t.Errorf("the tax hold's rule reads %q", h.From)
		}
	}
	if label == "" {
		t.Fatal("no reserva entity in the export")
	}
	// The XLSX Resumo says the same, in pt-BR, on the sale's line; the
	// buyer's record, kept while her held rows reference it, says so.
	xl, _, _, err := f.download(f.backend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	var line, person string
	for _, r := range rows {
		if len(r) > 5 && r[0] == label {
			line = r[5]
		}
		if len(r) > 5 && r[0] == "Cadastro de cliente" {
			person = r[5]
		}
	}
	if !strings.Contains(person, "Enquanto houver registros retidos") || !strings.Contains(person, "9.613") {
		t.Errorf("the Resumo's retention for the buyer's record: %q", person)
	}
	for _, s := range []string{"Código Civil art. 205", "liberação em 03/05/2033", "CTN art. 173", "liberação em 01/01/2029", "CDC art. 27",
		"1º de janeiro do ano seguinte a Data da venda", "Data do distrato, ou Data da venda quando não houver",
		"a mais recente entre Data da venda e Data do distrato"} {
		if !strings.Contains(line, s) {
			t.Errorf("the Resumo's retention for %s lacks %q: %q", label, s, line)
		}
	}
}

// TestDeleteResultNamesEveryHold: a DELETE's result and reasons name every
// hold on the buyer's sale with its own release date, and her own record
// (kept because the sale references it) with the latest of them.
func TestDeleteResultNamesEveryHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buyer := f.scenario(seed.ScenarioBuyer2023)
	d := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	f.work()
	d = f.get(d.GetId())
	if d.GetStatus() != lgpdv1.RequestStatus_COMPLETED || d.GetResult().GetDelete().GetComplete() {
		t.Fatalf("the buyer's DELETE must complete partially: %v", d)
	}
	sold := time.Date(2023, time.May, 3, 0, 0, 0, 0, time.UTC)
	want := map[string]time.Time{
		"9.613": sold.AddDate(5, 0, 0), "CTN art. 173": time.Date(2029, time.January, 1, 0, 0, 0, 0, time.UTC),
		"Código Civil art. 205": sold.AddDate(10, 0, 0), "CDC art. 27": sold.AddDate(5, 0, 0),
	}
	got := map[string]time.Time{}
	var person *lgpdv1.RetentionHold
	for _, h := range d.GetResult().GetDelete().GetHolds() {
		switch h.GetEntity() {
		case "reserva":
			for ref := range want {
				// Each of the sale's holds says what it keeps (its keep list).
				if strings.Contains(h.GetLegalReference(), ref) && h.GetUntil() != nil && h.GetBasis() != "" &&
					slices.Contains(h.GetKeep(), "cliente_cpf") {
					got[ref] = h.GetUntil().AsTime()
				}
			}
		case "pessoa":
			person = h
		}
	}
	for ref, until := range want {
		if !got[ref].Equal(until) {
			t.Errorf("hold %q released %s in the result, want %s", ref, got[ref], until)
		}
	}
	if person == nil || person.GetUntil() == nil || !person.GetUntil().AsTime().Equal(sold.AddDate(10, 0, 0)) || person.GetBasis() != "obrigacao_legal" {
		t.Errorf("the buyer's record hold: %v, want released with her last held row (%s)", person, sold.AddDate(10, 0, 0))
	}
	reasons := 0
	for _, r := range d.GetReasons() {
		if r.GetCode() == "RETENTION_HOLD" && r.GetEntity() == "reserva" && r.GetUntil() != nil {
			reasons++
		}
	}
	if reasons != len(want) {
		t.Errorf("%d RETENTION_HOLD reasons on the sale, want one per hold (%d): %v", reasons, len(want), d.GetReasons())
	}
}
