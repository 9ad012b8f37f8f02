package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

// exportDoc is the part of the JSON export the tests read.
type exportDoc struct {
	Request struct {
		ID         string `json:"id"`
		Tenant     string `json:"tenant"`
		Controller string `json:"controller"`
		Kind       string `json:"kind"`
		SubjectRef string `json:"subject_ref"`
	} `json:"request"`
	Entities []exportDocEntity `json:"entities"`
}

type exportDocEntity struct {
	Name   string `json:"name"`
	Label  string `json:"label"`
	Fields []struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	} `json:"fields"`
	Rows []map[string]any `json:"rows"`
}

func (d exportDoc) rows(entity string) []map[string]any {
	for _, e := range d.Entities {
		if e.Name == entity {
			return e.Rows
		}
	}
	return nil
}

// TestExtractExportAndDownload: an EXTRACT is queued and wakes the workers;
// the worker writes the JSON, XLSX and PDF exports (the titular's rows, the
// consent receipt) and completes it; the exports stream back byte for byte
// with their digest, each complete download is a ledger leaf, and the
// receipt verifies against a signed checkpoint.
func TestExtractExportAndDownload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	type processed struct {
		tenant, kind string
		failed       bool
	}
	var mu sync.Mutex
	var done []processed
	f.worker.OnProcessed = func(tenant, kind string, _ time.Duration, failed bool) {
		mu.Lock()
		done = append(done, processed{tenant, kind, failed})
		mu.Unlock()
	}
	buyer := f.scenario(seed.ScenarioBuyer2023)
	// A consent, so the export's receipt section has a row.
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF},
		Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP, UserAgent: evidenceUA}}})

	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: brdoc.FormatCPF(buyer.CPF)}})
	if x.GetStatus() != lgpdv1.RequestStatus_RECEIVED || len(x.GetExports()) != 0 || x.GetResult() != nil {
		t.Fatalf("created EXTRACT: %v", x)
	}
	if w := f.wakes(); !slices.Equal(w, []string{"demo"}) {
		t.Errorf("wakes %v, want the demo tenant once", w)
	}
	_, _, _, err := f.download(f.backend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	wantCode(t, err, codes.FailedPrecondition, "NOT_READY")

	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want 1", n)
	}
	if len(done) != 1 || done[0] != (processed{"demo", "EXTRACT", false}) {
		t.Errorf("OnProcessed saw %+v", done)
	}
	x = f.get(x.GetId())
	if x.GetStatus() != lgpdv1.RequestStatus_COMPLETED || len(x.GetExports()) != 3 {
		t.Fatalf("EXTRACT after the worker: %v", x)
	}
	if got := f.events(x.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>PROCESSING", "PROCESSING>COMPLETED"}) {
		t.Errorf("events %v", got)
	}
	formats := map[string]*lgpdv1.ExportInfo{}
	for _, e := range x.GetExports() {
		formats[e.GetFormat()] = e
		ttl := e.GetExpiresAt().AsTime().Sub(x.GetCompletedAt().AsTime())
		if e.GetSizeBytes() == 0 || len(e.GetSha256()) != 64 || !strings.Contains(e.GetFilename(), x.GetId()) || ttl < 29*24*time.Hour || ttl > 31*24*time.Hour {
			t.Errorf("export %v: want a size, a digest, a filename naming the request and the 30-day TTL", e)
		}
	}
	if formats["json"] == nil || formats["xlsx"] == nil || formats["pdf"] == nil {
		t.Fatalf("exports %v, want json, xlsx and pdf", x.GetExports())
	}

	files := map[string][]byte{}
	for format, info := range formats {
		body, types, header, err := f.download(f.backend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: format})
		if err != nil {
			t.Fatalf("download %s: %v", format, err)
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != info.GetSha256() || int64(len(body)) != info.GetSizeBytes() {
			t.Errorf("%s download: %d bytes whose digest is not the recorded %s", format, len(body), info.GetSha256())
		}
		for _, ct := range types {
			if ct != info.GetContentType() {
				t.Errorf("%s chunk content type %q, want %q", format, ct, info.GetContentType())
			}
		}
		if got := header.Get("x-content-sha256"); len(got) != 1 || got[0] != info.GetSha256() {
			t.Errorf("%s x-content-sha256 header %v", format, got)
		}
		if got := header.Get("content-disposition"); len(got) != 1 || !strings.Contains(got[0], `filename="`+info.GetFilename()+`"`) {
			t.Errorf("%s content-disposition header %v", format, got)
		}
		files[format] = body
	}

	var doc exportDoc
	if err := json.Unmarshal(files["json"], &doc); err != nil {
		t.Fatalf("JSON export: %v", err)
	}
	if doc.Request.ID != x.GetId() || doc.Request.Tenant != "demo" || doc.Request.Controller != "Incorporadora Teste Ltda" ||
		doc.Request.Kind != "EXTRACT" || doc.Request.SubjectRef != x.GetSubjectRef() {
		t.Errorf("export request metadata: %+v", doc.Request)
	}
	if rows := doc.rows("pessoa"); len(rows) != 1 {
		t.Errorf("export holds %d pessoa rows, want the buyer's one", len(rows))
	} else if cpf, err := brdoc.NormalizeCPF(rows[0]["cpf"].(string)); err != nil || cpf != buyer.CPF {
		t.Error("the exported pessoa is not the buyer")
	}
	if len(doc.rows("reserva")) == 0 {
		t.Error("the 2023 buyer's sale is missing from the export")
	}
	receipt := doc.rows(consentReceiptEntity)
	if len(receipt) != 1 || receipt[0]["purpose"] != "marketing_email" || receipt[0]["purpose_name"] == "" ||
		receipt[0]["action"] != "Consentimento concedido" || receipt[0]["ip"] != nil || receipt[0]["user_agent"] != nil {
		// The backend asked: the receipt has no consent evidence
		// (TestExportConsentEvidenceByRole).
		t.Errorf("consent receipt rows: %v", receipt)
	}
	var total int64
	for _, e := range doc.Entities {
		total += int64(len(e.Rows))
	}
	if x.GetResult().GetExtract().GetTotalRows() != total {
		t.Errorf("result total_rows %d, the export holds %d rows", x.GetResult().GetExtract().GetTotalRows(), total)
	}
	// The XLSX: the summary sheet, then "Seus dados" with a titled block
	// per entity with rows, labelled.
	book, err := excelize.OpenReader(bytes.NewReader(files["xlsx"]))
	if err != nil {
		t.Fatalf("XLSX export: %v", err)
	}
	defer book.Close()
	withRows := slices.DeleteFunc(slices.Clone(doc.Entities), func(e exportDocEntity) bool { return len(e.Rows) == 0 })
	labels := make([]string, len(withRows))
	for i, e := range withRows {
		labels[i] = e.Label
	}
	if sheets := book.GetSheetList(); len(sheets) < 2 || sheets[0] != "Resumo" || sheets[1] != "Seus dados" {
		t.Errorf("sheets %q: want Resumo then Seus dados", sheets)
	} else {
		for i, x := range exporttest.XLSXEntitiesFor(t, book, labels) {
			e, rows := withRows[i], x.Lines
			switch {
			case x.Transposed:
				// Too wide for a page: the records are columns beside the labels.
				if len(rows) != len(e.Fields)+1 || len(rows[0]) != len(e.Rows)+1 || !strings.HasPrefix(rows[1][0], e.Fields[0].Label) {
					t.Errorf("%s %q: %d lines, heading %v; want a label per field and %d records", x.Sheet, x.Label, len(rows), rows[0], len(e.Rows))
				}
			case len(rows) != len(e.Rows)+1 || !strings.HasPrefix(rows[0][0], e.Fields[0].Label):
				t.Errorf("%s %q: %d lines, header %v; want a labelled header and %d rows", x.Sheet, x.Label, len(rows), rows, len(e.Rows))
			}
		}
	}

	// Three state changes and three complete deliveries, each a leaf.
	if n := f.count("SELECT (SELECT COUNT(*) FROM lgpd_ledger_entries WHERE request_id = ?) + (SELECT COUNT(*) FROM lgpd_ledger_pending WHERE request_id = ?)",
		x.GetId(), x.GetId()); n != 6 {
		t.Errorf("%d ledger leaves for the request, want 3 state changes and 3 deliveries", n)
	}
	rc := must[*lgpdv1.Receipt](f.auditor, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	leaf := f.verifyReceipt(t, rc)
	if leaf.RequestID != x.GetId() || leaf.SubjectRef != x.GetSubjectRef() {
		t.Errorf("receipt leaf %+v is not the request's", leaf)
	}

	// What a download refuses, before the first byte.
	c := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	for _, tc := range []struct {
		name   string
		ctx    string
		req    *lgpdv1.DownloadExportRequest
		code   codes.Code
		reason string
	}{
		{"bad format", keyBackend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "docx"}, codes.InvalidArgument, "BAD_FORMAT"},
		{"auditor", keyAuditor, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"another tenant's key", keyOther, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"}, codes.PermissionDenied, "TENANT_NOT_ALLOWED"},
		{"no credentials", "", &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"}, codes.Unauthenticated, "MISSING_CREDENTIALS"},
		{"malformed id", keyDPO, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: "nope", Format: "json"}, codes.InvalidArgument, "BAD_REQUEST_ID"},
		{"unknown request", keyDPO, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000", Format: "json"}, codes.NotFound, "NOT_FOUND"},
		{"a CONFIRM has no export", keyDPO, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: c.GetId(), Format: "xlsx"}, codes.NotFound, "NO_EXPORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := caller(tc.ctx)
			if tc.ctx == "" {
				ctx = f.t.Context()
			}
			body, _, _, err := f.download(ctx, tc.req)
			wantCode(t, err, tc.code, tc.reason)
			if len(body) != 0 {
				t.Errorf("%d bytes sent before the error", len(body))
			}
		})
	}
	// An expired export is gone for good: the titular asks again.
	if _, err := f.db.Exec("UPDATE lgpd_exports SET expires_at = ? WHERE request_id = ?", time.Now().UTC().Add(-time.Hour), x.GetId()); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = f.download(f.dpo, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	wantCode(t, err, codes.FailedPrecondition, "EXPORT_EXPIRED")
	if n := f.count("SELECT COUNT(*) FROM lgpd_ledger_pending WHERE request_id = ?", x.GetId()) +
		f.count("SELECT COUNT(*) FROM lgpd_ledger_entries WHERE request_id = ?", x.GetId()); n != 6 {
		t.Errorf("refused downloads changed the ledger: %d leaves", n)
	}
}

// verifyReceipt checks a receipt as a titular would, offline: the
// checkpoint's signature and origin, and the leaf's inclusion proof
// against the checkpoint's root. It returns the decoded leaf.
func (f *fixture) verifyReceipt(t *testing.T, rc *lgpdv1.Receipt) ledger.Leaf {
	t.Helper()
	v, err := note.NewVerifier(f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.OpenCheckpoint([]byte(rc.GetCheckpoint()), ledger.Origin("titular.test", "demo"), v)
	if err != nil {
		t.Fatalf("receipt checkpoint: %v", err)
	}
	if rc.GetLeafIndex() >= cp.Size {
		t.Fatalf("leaf %d outside the checkpoint's %d entries", rc.GetLeafIndex(), cp.Size)
	}
	if err := ledger.VerifyInclusion(rc.GetLeafIndex(), cp.Size, ledger.HashLeaf(rc.GetLeaf()), rc.GetInclusionProof(), cp.Hash); err != nil {
		t.Fatalf("receipt inclusion proof: %v", err)
	}
	leaf, err := ledger.Unmarshal(rc.GetLeaf())
	if err != nil {
		t.Fatalf("receipt leaf: %v", err)
	}
	return leaf
}
