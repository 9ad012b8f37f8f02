package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
	"github.com/titular/titular/tenant"
)

// The fixture's bearer keys; the config holds only their hashes. keyOther
// is a DPO of another tenant.
const (
	keyDPO     = "svc-test-dpo-key"
	keyBackend = "svc-test-backend-key"
	keyAuditor = "svc-test-auditor-key"
	keyOther   = "svc-test-other-tenant-key"
)

// Consent evidence the tests send; neither may reach the logs.
const (
	evidenceIP = "203.0.113.77"
	evidenceUA = "SvcTestAgent/1.0 (evidencia)"
)

// fixture is the service over one freshly seeded and migrated demo
// database, the tenant "demo", with its servers built directly and called
// through the same interceptor chain serve installs (authentication, the
// per-RPC role rule, the tenant check, error mapping), without a listener.
// A second tenant, "other", is configured but never opened: it exists for
// the foreign-tenant checks; a third, "down", has no database that answers.
type fixture struct {
	t         *testing.T
	db        *sql.DB // the demo database, for the tests' own SQL
	cfg       *config.Config
	reg       *tenant.Registry
	log       *slog.Logger
	logs      *lockedBuffer
	scenarios map[string]seed.Scenario

	auth       *Authenticator
	reqs       *Requests
	consent    *Consent
	ledger     *Ledger
	worker     *Worker
	dispatcher *Dispatcher
	verifier   string // the ledger's public verifier key

	cfgYAML, mapPath, dir string // the config as written, for reloading it

	// Contexts of an incoming call carrying each role's key.
	dpo, backend, auditor, other context.Context

	mu    sync.Mutex
	woken []string
}

type fixtureOptions struct {
	approval   []string // kinds the demo tenant's policy holds for the DPO
	verify     []string // kinds whose titular's identity must be verified
	evidence   bool     // exports of the backend's requests carry consent evidence
	webhookURL string   // a webhook "crm" for every event, when set
	// webhooks, when set, writes the demo tenant's webhooks list (YAML)
	// given the path of the signing secret's file; it replaces webhookURL.
	webhooks   func(secretFile string) string
	workers    string // YAML of the workers section
	delivery   string // YAML of the webhook_delivery section
	noPurposes bool
	smallAgent bool                // the tenant is a small agent: deadlines double
	editMap    func(string) string // edits the demo data map's YAML
	// crm, when set, fills the tenant's database instead of the demo seed,
	// and crmMap is the tenant's data map (a test schema of crmtest).
	crm    func(context.Context, *sql.DB) error
	crmMap string
	// tenantKeys are more keys of the demo tenant's entry, in flow YAML
	// starting with ", " (controller and dpo, say).
	tenantKeys string
}

type fixtureOption func(*fixtureOptions)

func withApproval(kinds ...string) fixtureOption {
	return func(o *fixtureOptions) { o.approval = kinds }
}

func withBackendEvidence() fixtureOption { return func(o *fixtureOptions) { o.evidence = true } }

func withVerification(kinds ...string) fixtureOption {
	return func(o *fixtureOptions) { o.verify = kinds }
}

func withWebhook(url string) fixtureOption { return func(o *fixtureOptions) { o.webhookURL = url } }

// withWebhooks writes the demo tenant's webhooks list: list gets the
// secret file's path and returns the YAML sequence.
func withWebhooks(list func(secretFile string) string) fixtureOption {
	return func(o *fixtureOptions) { o.webhooks = list }
}

func withWorkers(yaml string) fixtureOption { return func(o *fixtureOptions) { o.workers = yaml } }

func withDelivery(yaml string) fixtureOption { return func(o *fixtureOptions) { o.delivery = yaml } }

// withDatamap gives the demo tenant the example data map as edit rewrites it.
func withDatamap(edit func(string) string) fixtureOption {
	return func(o *fixtureOptions) { o.editMap = edit }
}

// withCRM gives the demo tenant another CRM than the seeded demo: create
// fills its database and mapPath is its data map.
func withCRM(create func(context.Context, *sql.DB) error, mapPath string) fixtureOption {
	return func(o *fixtureOptions) { o.crm, o.crmMap = create, mapPath }
}

func withoutPurposes() fixtureOption { return func(o *fixtureOptions) { o.noPurposes = true } }

func withSmallAgent() fixtureOption { return func(o *fixtureOptions) { o.smallAgent = true } }

// webhookSecret signs the fixture's webhook deliveries (synthetic).
const webhookSecret = "svc-test-webhook-secret-0123456789"

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// newFixture seeds a fresh demo database with 20 titulares (the fixed
// scenarios and a few more), migrates titular's tables, loads the example
// purposes unless told not to, and builds the servers.
func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	o := fixtureOptions{
		workers:  "{per_tenant: 2, poll_interval: 1s, lease: 1m, max_attempts: 3}",
		delivery: "{timeout: 5s, min_backoff: 20ms, max_backoff: 100ms, max_attempts: 3}"}
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	db, dsn := storetest.NewDatabase(t)
	// 20 titulares: the fixed scenarios and a few others, seeded in well
	// under a second.
	sum, mapPath := &seed.Summary{}, o.crmMap
	var err error
	if o.crm != nil {
		err = o.crm(ctx, db)
	} else {
		sum, err = seed.Seed(ctx, db, seed.Options{Subjects: 20, Seed: 42})
	}
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if mapPath == "" {
		if mapPath, err = filepath.Abs("../examples/realestate/datamap.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if o.editMap != nil {
		doc, err := os.ReadFile(mapPath)
		if err != nil {
			t.Fatal(err)
		}
		mapPath = filepath.Join(dir, "datamap.yaml")
		if err := os.WriteFile(mapPath, []byte(o.editMap(string(doc))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secretFile := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secretFile, []byte(webhookSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	var rules []string
	if len(o.approval) > 0 {
		rules = append(rules, fmt.Sprintf("approval_required: [%s]", strings.Join(o.approval, ", ")))
	}
	if len(o.verify) > 0 {
		rules = append(rules, fmt.Sprintf("verification_required: [%s]", strings.Join(o.verify, ", ")))
	}
	if o.smallAgent {
		rules = append(rules, "small_agent: true")
	}
	if o.evidence {
		rules = append(rules, "backend_consent_evidence: true")
	}
	policy := ""
	if len(rules) > 0 {
		policy = ", policy: {" + strings.Join(rules, ", ") + "}"
	}
	webhooks := ""
	if o.webhookURL != "" {
		webhooks = fmt.Sprintf(", webhooks: [{name: crm, url: %q, secret_file: %q}]", o.webhookURL, secretFile)
	}
	if o.webhooks != nil {
		webhooks = ", webhooks: " + o.webhooks(secretFile)
	}
	cfgYAML := fmt.Sprintf(`state_dir: %q
workers: %s
webhook_delivery: %s
ledger: {host: titular.test}
tenants:
  - {id: demo, name: "Incorporadora Teste Ltda", dsn: %q, datamap: %q, max_open_conns: 8%s%s%s}
  - {id: other, dsn: %q, datamap: %q}
  - {id: down, dsn: "titular:pw@tcp(127.0.0.1:1)/nowhere", datamap: %q}
auth:
  api_keys:
    - {name: dpo, role: dpo, tenants: [demo], key_sha256: %s}
    - {name: backend, role: backend, tenants: [demo], key_sha256: %s}
    - {name: auditor, role: auditor, tenants: [demo], key_sha256: %s}
    - {name: other-dpo, role: dpo, tenants: [other, down], key_sha256: %s}
`, filepath.Join(dir, "state"), o.workers, o.delivery, dsn, mapPath, policy, webhooks, o.tenantKeys, dsn, mapPath, mapPath,
		sha(keyDPO), sha(keyBackend), sha(keyAuditor), sha(keyOther))
	cfg, err := config.Parse(filepath.Join(dir, "titular.yaml"), []byte(cfgYAML))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedBuffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	t.Cleanup(func() { reg.Close() })

	skey, vkey, err := ledger.GenerateKey("titular.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, cfg: cfg, reg: reg, log: log, logs: logs, scenarios: map[string]seed.Scenario{}, verifier: vkey,
		cfgYAML: cfgYAML, mapPath: mapPath, dir: dir}
	for _, s := range sum.Scenarios {
		f.scenarios[s.Name] = s
	}
	f.auth = NewAuthenticator(cfg.Auth.APIKeys, reg.Known)
	f.ledger = NewLedger(reg, signer, verifier, nil, cfg.Ledger.Host, log)
	f.reqs = NewRequests(reg, log, func(id string) {
		f.mu.Lock()
		f.woken = append(f.woken, id)
		f.mu.Unlock()
	}).WithLedger(f.ledger)
	f.consent = NewConsent(reg)
	f.worker = NewWorker(cfg.Workers, cfg.Exports.TTL, log)
	f.dispatcher = NewDispatcher(cfg.WebhookDelivery, log)
	f.dpo, f.backend, f.auditor, f.other = caller(keyDPO), caller(keyBackend), caller(keyAuditor), caller(keyOther)

	if !o.noPurposes {
		f.loadPurposes()
	}
	t.Cleanup(func() { f.assertNoPersonalData(sum.Scenarios) })
	return f
}

// reloaded opens the demo tenant again, as a configuration reload with its
// data map edited by edit would: another registry over the same database
// and state directory (so the same keys), whose tenant holds the new map.
func (f *fixture) reloaded(edit func(string) string) *tenant.Tenant {
	f.t.Helper()
	doc, err := os.ReadFile(f.mapPath)
	if err != nil {
		f.t.Fatal(err)
	}
	path := filepath.Join(f.dir, "datamap-reloaded.yaml")
	if err := os.WriteFile(path, []byte(edit(string(doc))), 0o600); err != nil {
		f.t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(f.dir, "titular.yaml"), []byte(strings.ReplaceAll(f.cfgYAML, fmt.Sprintf("%q", f.mapPath), fmt.Sprintf("%q", path))))
	if err != nil {
		f.t.Fatalf("config: %v", err)
	}
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, f.log), f.log)
	f.t.Cleanup(func() { reg.Close() })
	t, err := reg.Get(context.Background(), "demo")
	if err != nil {
		f.t.Fatalf("reopen demo tenant: %v", err)
	}
	return t
}

// caller is the context of an incoming call presenting key.
func caller(key string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+key))
}

// tenant returns the opened demo tenant.
func (f *fixture) tenant() *tenant.Tenant {
	f.t.Helper()
	t, err := f.reg.Get(context.Background(), "demo")
	if err != nil {
		f.t.Fatalf("open demo tenant: %v", err)
	}
	return t
}

func (f *fixture) scenario(name string) seed.Scenario {
	f.t.Helper()
	s, ok := f.scenarios[name]
	if !ok {
		f.t.Fatalf("seed has no scenario %q", name)
	}
	return s
}

// loadPurposes loads examples/realestate/purposes.yaml into the demo tenant.
func (f *fixture) loadPurposes() []LoadedPurpose {
	f.t.Helper()
	raw, err := os.ReadFile("../examples/realestate/purposes.yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	var catalog PurposeCatalog
	if err := yaml.Unmarshal(raw, &catalog); err != nil {
		f.t.Fatal(err)
	}
	loaded, err := LoadPurposes(context.Background(), f.tenant(), catalog, "svc-test")
	if err != nil {
		f.t.Fatalf("load purposes: %v", err)
	}
	return loaded
}

// wakes returns the tenants the request service woke so far.
func (f *fixture) wakes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.woken...)
}

// server is where the fixture routes a full method name.
func (f *fixture) server(method string) (*grpc.ServiceDesc, any) {
	switch {
	case strings.HasPrefix(method, "/lgpd.v1.RequestService/"):
		return &lgpdv1.RequestService_ServiceDesc, f.reqs
	case strings.HasPrefix(method, "/lgpd.v1.ConsentService/"):
		return &lgpdv1.ConsentService_ServiceDesc, f.consent
	case strings.HasPrefix(method, "/lgpd.v1.LedgerService/"):
		return &lgpdv1.LedgerService_ServiceDesc, f.ledger
	case strings.HasPrefix(method, "/lgpd.v1.IncidentService/"):
		return &lgpdv1.IncidentService_ServiceDesc, NewIncidents(f.reg)
	}
	f.t.Fatalf("no server for %s", method)
	return nil, nil
}

// call runs a unary RPC as the gRPC server would: the generated handler,
// the authenticator's interceptor, then the error mapping. It returns the
// response as Resp, and the error as the client would see its status.
func call[Resp proto.Message](ctx context.Context, f *fixture, method string, req proto.Message) (Resp, error) {
	f.t.Helper()
	var zero Resp
	desc, srv := f.server(method)
	name := method[strings.LastIndex(method, "/")+1:]
	for _, m := range desc.Methods {
		if m.MethodName != name {
			continue
		}
		dec := func(in any) error {
			proto.Merge(in.(proto.Message), req)
			return nil
		}
		errs := ErrorUnary(f.log)
		chain := func(ctx context.Context, in any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return f.auth.Unary()(ctx, in, info, func(ctx context.Context, in any) (any, error) {
				return errs(ctx, in, info, h)
			})
		}
		out, err := m.Handler(srv, ctx, dec, chain)
		if err != nil {
			return zero, status.Convert(err).Err()
		}
		return out.(Resp), nil
	}
	f.t.Fatalf("%s has no method %s", desc.ServiceName, name)
	return zero, nil
}

// must is call that fails the test on an error.
func must[Resp proto.Message](ctx context.Context, f *fixture, method string, req proto.Message) Resp {
	f.t.Helper()
	out, err := call[Resp](ctx, f, method, req)
	if err != nil {
		f.t.Fatalf("%s: %v", method, err)
	}
	return out
}

// download runs DownloadExport through the stream interceptors and returns
// the bytes, the content types of the chunks and the header sent.
func (f *fixture) download(ctx context.Context, req *lgpdv1.DownloadExportRequest) ([]byte, []string, metadata.MD, error) {
	f.t.Helper()
	ss := &fakeStream{ctx: ctx, in: req}
	info := &grpc.StreamServerInfo{FullMethod: lgpdv1.RequestService_DownloadExport_FullMethodName, IsServerStream: true}
	h := lgpdv1.RequestService_ServiceDesc.Streams[0].Handler
	errs := ErrorStream(f.log)                                                          //nolint:contextcheck // the call's context travels in the stream, as in a server
	err := f.auth.Stream()(f.reqs, ss, info, func(srv any, s grpc.ServerStream) error { //nolint:contextcheck // the call's context travels in the stream, as in a server
		return errs(srv, s, info, h)
	})
	if err != nil {
		return nil, nil, nil, status.Convert(err).Err()
	}
	var types []string
	for _, c := range ss.out {
		types = append(types, c.GetContentType())
	}
	return ss.body.Bytes(), types, ss.header, nil
}

// fakeStream is the server side of a server-streaming call: it hands the
// handler one request and keeps what it sends.
type fakeStream struct {
	ctx    context.Context
	in     proto.Message
	read   bool
	header metadata.MD
	out    []*httpbody.HttpBody
	body   bytes.Buffer
}

func (s *fakeStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *fakeStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (s *fakeStream) SetTrailer(metadata.MD)          {}
func (s *fakeStream) Context() context.Context        { return s.ctx }

func (s *fakeStream) SendMsg(m any) error {
	b := m.(*httpbody.HttpBody)
	s.out = append(s.out, b)
	s.body.Write(b.GetData())
	return nil
}

func (s *fakeStream) RecvMsg(m any) error {
	if s.read {
		return io.EOF
	}
	s.read = true
	proto.Merge(m.(proto.Message), s.in)
	return nil
}

// wantCode checks err is a status with code and ErrorInfo reason (when
// reason is not empty) and a message that says something; the message must
// not contain any of leak (personal data the call carried).
func wantCode(t *testing.T, err error, code codes.Code, reason string, leak ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s %s", code, reason)
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v is not a status", err)
	}
	if st.Code() != code {
		t.Fatalf("code %s (%q), want %s %s", st.Code(), st.Message(), code, reason)
	}
	if st.Message() == "" {
		t.Errorf("%s: empty message; messages say how to fix the call", code)
	}
	if reason != "" {
		var got string
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				got = info.GetReason()
				if info.GetDomain() != errorDomain {
					t.Errorf("ErrorInfo domain %q", info.GetDomain())
				}
			}
		}
		if got != reason {
			t.Errorf("reason %q (%q), want %s", got, st.Message(), reason)
		}
	}
	for _, l := range leak {
		if l != "" && strings.Contains(st.Message(), l) {
			t.Errorf("message %q echoes personal data", st.Message())
		}
	}
}

// work runs the worker until the queue has nothing claimable now, and
// returns how many requests it took.
func (f *fixture) work() int {
	f.t.Helper()
	n := 0
	for {
		found, _, err := f.worker.RunOnce(context.Background(), f.tenant())
		if err != nil {
			f.t.Fatalf("worker: %v", err)
		}
		if !found {
			return n
		}
		n++
		if n > 100 {
			f.t.Fatal("worker keeps finding work")
		}
	}
}

// create records a request as the backend and fails the test on an error.
func (f *fixture) create(ctx context.Context, in *lgpdv1.CreateRequestRequest) *lgpdv1.Request {
	f.t.Helper()
	if in.Tenant == "" {
		in.Tenant = "demo"
	}
	return must[*lgpdv1.Request](ctx, f, lgpdv1.RequestService_CreateRequest_FullMethodName, in)
}

func (f *fixture) get(id string) *lgpdv1.Request {
	f.t.Helper()
	return must[*lgpdv1.Request](f.dpo, f, lgpdv1.RequestService_GetRequest_FullMethodName, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: id})
}

// count runs a COUNT(*) query on the demo database.
func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// events lists a request's state changes as "FROM>TO" in order.
func (f *fixture) events(id string) []string {
	f.t.Helper()
	rows, err := f.db.Query("SELECT COALESCE(from_status, ''), to_status FROM lgpd_request_events WHERE request_id = ? ORDER BY id", id)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, from+">"+to)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// inShapes is "(?,?,…)" with the arguments, for the stored shapes of an identifier.
func inShapes(shapes []string) (string, []any) {
	args := make([]any, len(shapes))
	for i, s := range shapes {
		args[i] = s
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", len(shapes)), ",") + ")", args
}

// assertNoPersonalData fails when a seeded titular's identifier, in any
// stored shape, or the consent evidence the tests send reached the logs.
func (f *fixture) assertNoPersonalData(scenarios []seed.Scenario) {
	logs := strings.ToLower(f.logs.String())
	for _, s := range scenarios {
		needles := append(brdoc.CPFShapes(s.CPF), s.Email, s.FullName)
		if s.Phone != "" {
			needles = append(needles, brdoc.PhoneShapes(s.Phone)...)
		}
		for _, n := range needles {
			if n != "" && strings.Contains(logs, strings.ToLower(n)) {
				f.t.Errorf("logs contain an identifier of scenario %s", s.Name)
			}
		}
	}
	for _, n := range []string{evidenceIP, evidenceUA} {
		if strings.Contains(logs, strings.ToLower(n)) {
			f.t.Errorf("logs contain consent evidence %q", n)
		}
	}
}

// lockedBuffer collects the service's logs across goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
