package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/tenant"
)

func demoMap(t *testing.T) *datamap.Map {
	t.Helper()
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatalf("example data map: %v", err)
	}
	return m
}

func (e *testEnv) demoDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := tenant.OpenDSN(context.Background(), e.demoDSN, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func in(shapes []string) (string, []any) {
	args := make([]any, len(shapes))
	for i, s := range shapes {
		args[i] = s
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", len(shapes)), ",") + ")", args
}

// TestRESTExtractEndToEnd is the README's tour: a buyer's EXTRACT through
// REST, the JSON checked field by field against rows fetched with the test's
// own SQL, and the XLSX checked sheet by sheet.
func TestRESTExtractEndToEnd(t *testing.T) {
	env := newTestEnv(t, 300)
	buyer := env.scenario(t, "comprador_2023")
	created := env.createREST(t, keyBackend, map[string]any{
		"kind": "EXTRACT", "subject": map[string]any{"cpf": brdoc.FormatCPF(buyer.CPF)},
	})
	if created.Status != "RECEIVED" || created.ID == "" || created.Kind != "EXTRACT" {
		t.Fatalf("created request: %+v", created)
	}
	recv, _ := time.Parse(time.RFC3339Nano, created.ReceivedAt)
	due, _ := time.Parse(time.RFC3339Nano, created.DueAt)
	if got := due.Sub(recv); got != 15*24*time.Hour {
		t.Errorf("due_at - received_at = %s, want the 15-day default (LGPD art. 19 II)", got)
	}
	done := env.waitREST(t, created.ID)
	if done.Status != "COMPLETED" {
		t.Fatalf("request ended %s: %+v", done.Status, done.Reasons)
	}
	if len(done.Exports) != 3 {
		t.Fatalf("want json, xlsx and pdf exports, got %+v", done.Exports)
	}
	jsonBytes, h := env.download(t, done, "json")
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("json Content-Type %q", ct)
	}
	xlsxBytes, h := env.download(t, done, "xlsx")
	if ct := h.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("xlsx Content-Type %q", ct)
	}

	doc := decodeExport(t, jsonBytes)
	if doc.Request.ID != created.ID || doc.Request.Tenant != "demo" || doc.Request.Controller != "Incorporadora Teste Ltda" {
		t.Errorf("export request metadata: %+v", doc.Request)
	}
	m := demoMap(t)
	db := env.demoDB(t)
	checkBuyerRows(t, db, m, doc, buyer)

	// The total in the result matches what the export holds.
	var total int
	for _, e := range doc.Entities {
		total += len(e.Rows)
		t.Logf("export entity %-24s %3d rows", e.Name, len(e.Rows))
	}
	if done.Result == nil || done.Result.Extract == nil || done.Result.Extract.TotalRows != itoa(total) {
		t.Errorf("result total_rows does not match the export's %d rows: %+v", total, done.Result)
	}
	checkXLSX(t, xlsxBytes, doc)

	// Each complete download is a ledger leaf carrying the digest of the
	// bytes delivered (pending or integrated by now).
	var leaves int
	err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM lgpd_ledger_entries WHERE request_id = ?)
 + (SELECT COUNT(*) FROM lgpd_ledger_pending WHERE request_id = ?)`, created.ID, created.ID).Scan(&leaves)
	if err != nil || leaves != 5 {
		t.Errorf("want 3 state-change leaves and 2 delivery leaves for the request, got %d (%v)", leaves, err)
	}
}

// checkBuyerRows compares the buyer's pessoa, leads and sales with SQL the
// test writes by hand from the demo schema.
func checkBuyerRows(t *testing.T, db *sql.DB, m *datamap.Map, doc exportDoc, buyer seed.Scenario) {
	t.Helper()
	cpfs, cpfArgs := in(brdoc.CPFShapes(buyer.CPF))
	var idpessoa int64
	if err := db.QueryRow("SELECT idpessoa FROM pessoas WHERE cpf IN "+cpfs, cpfArgs...).Scan(&idpessoa); err != nil {
		t.Fatalf("buyer's pessoa row: %v", err)
	}
	if n := expectRows(t, db, m, doc, entityFor(t, m, "pessoas"), "idpessoa = ?", idpessoa); n != 1 {
		t.Errorf("want exactly the buyer's pessoa row, got %d", n)
	}
	if n := expectRows(t, db, m, doc, entityFor(t, m, "reservas"), "idpessoa = ? OR cliente_cpf IN "+cpfs,
		append([]any{idpessoa}, cpfArgs...)...); n == 0 {
		t.Error("the 2023 buyer must have a sale in the export")
	}
	phones, phoneArgs := in(brdoc.PhoneShapes(buyer.Phone))
	args := append(append([]any{idpessoa}, cpfArgs...), buyer.Email)
	args = append(args, phoneArgs...)
	expectRows(t, db, m, doc, entityFor(t, m, "leads"), "idpessoa = ? OR cpf IN "+cpfs+" OR email = ? OR telefone IN "+phones, args...)
}

// entityFor finds the data-map entity over table (the root, when several).
func entityFor(t *testing.T, m *datamap.Map, table string) string {
	t.Helper()
	var found string
	for _, e := range m.Entities {
		if e.Table == table && (found == "" || e.IsRoot()) {
			found = e.Name
		}
	}
	if found == "" {
		t.Fatalf("data map has no entity over table %s", table)
	}
	return found
}

// checkXLSX reopens the workbook: "Resumo" first, then one sheet per entity
// with a labelled header and the same row count as the JSON export.
func checkXLSX(t *testing.T, b []byte, doc exportDoc) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer f.Close()
	// Each entity with rows (the Resumo says "sem registros" for the
	// others) is a titled block of "Seus dados" (or, with many rows, a
	// sheet of its own), labelled: a header row, or, for an entity too
	// wide for a page with few records, a label column beside the records.
	var withRows []int
	var labels []string
	for i, e := range doc.Entities {
		if len(e.Rows) > 0 {
			withRows = append(withRows, i)
			labels = append(labels, e.Label)
		}
	}
	if sheets := f.GetSheetList(); len(sheets) < 2 || sheets[0] != "Resumo" || sheets[1] != "Seus dados" {
		t.Fatalf("sheets %q: want Resumo then Seus dados", sheets)
	}
	for k, x := range exporttest.XLSXEntitiesFor(t, f, labels) {
		e := doc.Entities[withRows[k]]
		rows := x.Lines
		if x.Count != len(e.Rows) || x.Transposed && len(rows) != len(e.Fields)+1 || !x.Transposed && len(rows) != len(e.Rows)+1 {
			t.Errorf("%s %q has %d lines (%d announced) for %d records of %d fields", x.Sheet, x.Label, len(rows), x.Count, len(e.Rows), len(e.Fields))
			continue
		}
		for j, fld := range e.Fields {
			// A column holding an internal key says so after its label.
			got := ""
			if x.Transposed && len(rows[j+1]) > 0 {
				got = rows[j+1][0]
			} else if !x.Transposed && j < len(rows[0]) {
				got = rows[0][j]
			}
			if got != fld.Label && got != fld.Label+" (código interno)" {
				t.Errorf("%s %q label %d = %q, want %q", x.Sheet, x.Label, j, got, fld.Label)
				break
			}
		}
	}
}

// TestGRPCExtractConfirm runs the same flow over gRPC, checks the streamed
// download is byte-identical to the REST one, and answers CONFIRM in the call.
func TestGRPCExtractConfirm(t *testing.T) {
	env := newTestEnv(t, 200)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	client := lgpdv1.NewRequestServiceClient(env.grpc)
	lead := env.scenario(t, "mesmo_cpf_varias_tabelas")

	r, err := client.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT,
		Subject: &lgpdv1.Subject{Email: strings.ToUpper(lead.Email)}})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(deadline)
	for r.GetStatus() != lgpdv1.RequestStatus_COMPLETED && time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond)
		if r, err = client.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: r.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED || r.GetResult().GetExtract().GetTotalRows() == 0 {
		t.Fatalf("EXTRACT by e-mail: %v", r)
	}
	for _, x := range r.GetExports() {
		stream, err := client.DownloadExport(ctx, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: r.GetId(), Format: x.GetFormat()})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("download %s: %v", x.GetFormat(), err)
			}
			if chunk.GetContentType() != x.GetContentType() {
				t.Errorf("chunk content type %q, want %q", chunk.GetContentType(), x.GetContentType())
			}
			buf.Write(chunk.GetData())
		}
		sum := sha256.Sum256(buf.Bytes())
		if hex.EncodeToString(sum[:]) != x.GetSha256() || int64(buf.Len()) != x.GetSizeBytes() {
			t.Errorf("gRPC %s download: %d bytes, sha256 mismatch with %s", x.GetFormat(), buf.Len(), x.GetSha256())
		}
		restBytes, _ := env.download(t, restRequest{ID: r.GetId(), Exports: []struct {
			Format      string `json:"format"`
			ContentType string `json:"content_type"`
			Filename    string `json:"filename"`
			SizeBytes   string `json:"size_bytes"`
			SHA256      string `json:"sha256"`
		}{{Format: x.GetFormat(), SizeBytes: itoa(int(x.GetSizeBytes())), SHA256: x.GetSha256()}}}, x.GetFormat())
		if !bytes.Equal(restBytes, buf.Bytes()) {
			t.Errorf("%s: REST and gRPC downloads differ", x.GetFormat())
		}
	}
	// The same CPF in leads, pessoas and the sale snapshot is one titular.
	doc := decodeExport(t, mustDownloadJSON(t, env, r.GetId()))
	for _, table := range []string{"pessoas", "leads"} {
		if len(doc.rowsOf(t, entityFor(t, demoMap(t), table))) == 0 {
			t.Errorf("EXTRACT by e-mail found nothing in %s", table)
		}
	}

	// CONFIRM answers in the call.
	c, err := client.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
		Subject: &lgpdv1.Subject{Cpf: lead.CPF}})
	if err != nil {
		t.Fatal(err)
	}
	if c.GetStatus() != lgpdv1.RequestStatus_COMPLETED || !c.GetResult().GetConfirm().GetHasPersonalData() ||
		!slices.Contains(c.GetResult().GetConfirm().GetCategories(), "identificacao") || len(c.GetExports()) != 0 {
		t.Errorf("CONFIRM of a known titular: %v", c)
	}
	unknown, err := client.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
		Subject: &lgpdv1.Subject{Cpf: "529.982.247-25"}})
	if err != nil {
		t.Fatal(err)
	}
	if unknown.GetStatus() != lgpdv1.RequestStatus_COMPLETED || unknown.GetResult().GetConfirm().GetHasPersonalData() ||
		len(unknown.GetResult().GetConfirm().GetCategories()) != 0 {
		t.Errorf("CONFIRM of an unknown titular: %v", unknown)
	}
}

func mustDownloadJSON(t *testing.T, env *testEnv, id string) []byte {
	t.Helper()
	code, _, b := env.rest(t, "GET", "/v1/tenants/demo/requests/"+id+"/export?format=json", keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("download: HTTP %d", code)
	}
	return b
}

// TestRESTErrors covers validation, authorization and not-landed kinds: the
// right status, a reason, a message that says how to fix it and never echoes
// personal data.
func TestRESTErrors(t *testing.T) {
	env := newTestEnv(t, 50)
	badCPF := "123.456.789-00"
	cases := []struct {
		name, method, path, key string
		body                    any
		code                    int
		reason                  string
	}{
		{"no key", "GET", "/v1/tenants/demo/requests", "", nil, 401, "MISSING_CREDENTIALS"},
		{"wrong key", "GET", "/v1/tenants/demo/requests", "nope", nil, 401, "INVALID_CREDENTIALS"},
		{"auditor may not create", "POST", "/v1/tenants/demo/requests", keyAuditor,
			map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": "52998224725"}}, 403, "ROLE_NOT_ALLOWED"},
		{"foreign tenant", "GET", "/v1/tenants/demo/requests", keyOther, nil, 403, "TENANT_NOT_ALLOWED"},
		{"unknown tenant", "GET", "/v1/tenants/nowhere/requests", keyDPO, nil, 404, "TENANT_NOT_FOUND"},
		{"invalid cpf", "POST", "/v1/tenants/demo/requests", keyDPO,
			map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": badCPF}}, 400, "INVALID_IDENTIFIER"},
		{"no subject", "POST", "/v1/tenants/demo/requests", keyDPO, map[string]any{"kind": "EXTRACT"}, 400, "SUBJECT_REQUIRED"},
		{"no kind", "POST", "/v1/tenants/demo/requests", keyDPO,
			map[string]any{"subject": map[string]any{"cpf": "52998224725"}}, 400, "KIND_REQUIRED"},
		{"approve an unknown request", "POST", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000:approve", keyDPO,
			map[string]any{}, 404, "NOT_FOUND"},
		{"consent for an unknown purpose", "POST", "/v1/tenants/demo/requests", keyBackend,
			map[string]any{"kind": "CONSENT", "subject": map[string]any{"cpf": "52998224725"},
				"consent": map[string]any{"purpose": "nao_existe", "action": "REVOKE", "evidence": map[string]any{"channel": "crm"}}}, 404, "PURPOSE_NOT_FOUND"},
		{"proof of an entry beyond the ledger", "GET", "/v1/tenants/demo/ledger/entries/999999/proof", keyDPO, nil, 400, "BEYOND_LEDGER"},
		{"receipt of an unknown request", "GET", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000/receipt", keyDPO, nil, 404, "NOT_FOUND"},
		{"unknown request", "GET", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000", keyDPO, nil, 404, "NOT_FOUND"},
		{"malformed id", "GET", "/v1/tenants/demo/requests/x", keyDPO, nil, 400, "BAD_REQUEST_ID"},
		{"bad page size", "GET", "/v1/tenants/demo/requests?page_size=100000", keyDPO, nil, 400, "BAD_PAGE_SIZE"},
		{"bad page token", "GET", "/v1/tenants/demo/requests?page_token=zzz", keyDPO, nil, 400, "BAD_PAGE_TOKEN"},
		{"bad format", "GET", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000/export?format=docx", keyDPO, nil, 400, "BAD_FORMAT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, b := env.rest(t, c.method, c.path, c.key, c.body)
			if code != c.code {
				t.Fatalf("HTTP %d, want %d: %s", code, c.code, b)
			}
			e := decode[restError](t, b)
			if e.Error != nil {
				e = *e.Error
			}
			if e.reason() != c.reason || e.Message == "" {
				t.Errorf("reason %q message %q, want reason %s", e.reason(), e.Message, c.reason)
			}
			if strings.Contains(string(b), "123456789") || strings.Contains(string(b), badCPF) {
				t.Errorf("error echoes personal data: %s", b)
			}
		})
	}
}

// TestRESTListIdempotencyCancel covers listing with filters and pages,
// idempotent creation, and cancelling.
func TestRESTListIdempotencyCancel(t *testing.T) {
	env := newTestEnv(t, 50)
	s := env.scenario(t, "pep")
	body := map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": s.CPF}, "idempotency_key": "k-1"}
	a := env.createREST(t, keyBackend, body)
	b := env.createREST(t, keyBackend, body)
	if a.ID != b.ID {
		t.Errorf("same idempotency key created two requests: %s %s", a.ID, b.ID)
	}
	if other := env.createREST(t, keyDPO, body); other.ID == a.ID {
		t.Error("another caller's key must not collide")
	}
	for range 4 {
		env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": s.Email}})
	}
	seen := map[string]bool{}
	token := ""
	pages := 0
	for {
		code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests?kind=CONFIRM&status=COMPLETED&page_size=2&page_token="+token, keyAuditor, nil)
		if code != http.StatusOK {
			t.Fatalf("list: HTTP %d: %s", code, raw)
		}
		page := decode[struct {
			Requests      []restRequest `json:"requests"`
			NextPageToken string        `json:"next_page_token"`
		}](t, raw)
		pages++
		for _, r := range page.Requests {
			if seen[r.ID] || r.Kind != "CONFIRM" || r.Status != "COMPLETED" {
				t.Errorf("listed %s (%s %s) twice or outside the filter", r.ID, r.Kind, r.Status)
			}
			seen[r.ID] = true
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(seen) != 6 || pages != 3 {
		t.Errorf("listed %d requests in %d pages, want 6 in 3", len(seen), pages)
	}

	// An EXTRACT may be cancelled while it waits; a completed one may not.
	// Stop the workers' claims by cancelling at once; if a worker was faster,
	// the conflict is the right answer too.
	x := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": s.CPF}})
	code, _, raw := env.rest(t, "POST", "/v1/tenants/demo/requests/"+x.ID+":cancel", keyBackend, map[string]any{"note": "titular desistiu"})
	switch code {
	case http.StatusOK:
		if r := decode[restRequest](t, raw); r.Status != "CANCELED" {
			t.Errorf("cancel: status %s", r.Status)
		}
	case http.StatusBadRequest:
		if decode[restError](t, raw).reason() != "CONFLICT" {
			t.Errorf("cancel of a started request: %s", raw)
		}
	default:
		t.Errorf("cancel: HTTP %d: %s", code, raw)
	}
	code, _, raw = env.rest(t, "POST", "/v1/tenants/demo/requests/"+a.ID+":cancel", keyBackend, map[string]any{})
	if code != http.StatusBadRequest || decode[restError](t, raw).reason() != "CONFLICT" {
		t.Errorf("cancel of a completed request: HTTP %d %s", code, raw)
	}
}

// TestOperationalEndpoints covers health, readiness, OpenAPI and reflection.
func TestOperationalEndpoints(t *testing.T) {
	env := newTestEnv(t, 20)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, b := env.rest(t, "GET", p, "", nil); code != http.StatusOK {
			t.Errorf("%s: HTTP %d %s", p, code, b)
		}
	}
	code, _, b := env.rest(t, "GET", "/openapi.json", "", nil)
	var doc struct {
		Swagger string         `json:"swagger"`
		Paths   map[string]any `json:"paths"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &doc) != nil || doc.Paths["/v1/tenants/{tenant}/requests"] == nil {
		t.Errorf("/openapi.json: HTTP %d, %d paths", code, len(doc.Paths))
	}
	for path := range doc.Paths {
		if strings.Contains(path, "cpf") || strings.Contains(path, "email") {
			t.Errorf("personal identifier in a URL path: %s", path)
		}
	}
	checkReflection(t, env)
}
