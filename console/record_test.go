package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/inventory"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/service"
)

// TestRecordVerifyRun drives the console's verification runs with a
// verification that waits for the test: a running run shows its progress
// and refreshes the page; a second start while it runs starts nothing and
// shows the running one; then OK, FALHOU naming the entry, and a run that
// could not complete. The real verification, over MariaDB, is
// server.TestConsoleRecordInChromium's; this one holds a run open, which a
// ledger small enough for a test never does.
func TestRecordVerifyRun(t *testing.T) {
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan error)
	started := make(chan struct{}, 1)
	var calls atomic.Int32
	c, err := New(Options{
		Auth:    service.NewAuthenticator(nil, func(id string) bool { return id == "demo" }),
		Tenants: func() []config.Tenant { return []config.Tenant{{ID: "demo", Name: "Demo"}} },
		Ledger:  lgpdv1.UnimplementedLedgerServiceServer{},
		Record: func(_ context.Context, _ string) (*inventory.Record, error) {
			return inventory.Build(m, config.Tenant{ID: "demo", Name: "Demo"}, time.Now()), nil
		},
		VerifyLedger: func(ctx context.Context, _ string, progress func(done, total uint64)) (VerifyOutcome, error) {
			calls.Add(1)
			progress(0, 4096)
			progress(1024, 4096)
			started <- struct{}{}
			select {
			case err := <-release:
				return VerifyOutcome{Size: 4096, Nodes: 4095, Checkpoints: 2, Largest: 4000, Root: []byte{0xab, 0xcd}}, err
			case <-ctx.Done():
				return VerifyOutcome{}, ctx.Err()
			}
		},
		StateDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sess := &session{Name: "auditoria", Role: config.RoleAuditor, Tenants: []string{"demo"}, CSRF: newToken(), Expires: time.Now().Add(time.Hour).Unix()}
	rec := httptest.NewRecorder()
	if err := c.seal.write(rec, sess); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	do := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		r := httptest.NewRequest(method, path, body)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Location"), w.Body.String()
	}
	const page = "/console/t/demo/registro"
	start := url.Values{"csrf": {sess.CSRF}}

	if code, loc, _ := do("POST", page+"/verificar", start); code != http.StatusSeeOther || loc != page+"#verificacao" {
		t.Fatalf("start: %d %s", code, loc)
	}
	<-started
	code, _, body := do("GET", page, nil)
	for _, want := range []string{`<meta http-equiv="refresh" content="2; url=/console/t/demo/registro">`, `<progress id="verify-progress" max="4096" value="1024">`,
		`<label for="verify-progress" id="verify-progress-label">Entradas verificadas: 1024 de 4096</label>`, `id="verify-running" role="status"`} {
		if !strings.Contains(body, want) {
			t.Errorf("running page lacks %q:\n%.600s", want, body)
		}
	}
	if code != http.StatusOK || strings.Contains(body, `id="verify-start"`) || strings.Contains(body, `id="verify-outcome"`) {
		t.Fatalf("running page: %d, offers a start or shows an outcome", code)
	}

	// A second start while it runs shows the running one.
	if code, loc, _ := do("POST", page+"/verificar", start); code != http.StatusSeeOther || loc != page+"?ja=1#verificacao" {
		t.Fatalf("second start: %d %s", code, loc)
	}
	if _, _, body := do("GET", page+"?ja=1", nil); !strings.Contains(body, "Já havia uma verificação em andamento") || !strings.Contains(body, `id="verify-running"`) {
		t.Error("the second start does not show the running run")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d verifications started, want 1", n)
	}

	release <- nil
	body = recordWaitDone(t, do, page)
	if !strings.Contains(body, `<strong id="verify-result">OK</strong>`) || strings.Contains(body, `http-equiv="refresh"`) ||
		!strings.Contains(body, "4096 entradas e 4095 nós") || !strings.Contains(body, "abcd") {
		t.Fatalf("OK outcome not shown: %s", body[strings.Index(body, `id="verificacao"`):])
	}

	// A tampered ledger: FALHOU with the entry; the start is offered again.
	do("POST", page+"/verificar", start)
	<-started
	release <- &ledger.Problem{Entry: 7, Msg: "stored leaf hash does not match the leaf: the entry was altered"}
	body = recordWaitDone(t, do, page)
	if !strings.Contains(body, "✖ FALHOU") || !strings.Contains(body, "a partir da entrada 7:") || !strings.Contains(body, `role="alert"`) ||
		!strings.Contains(body, "entry 7: stored leaf hash does not match") || !strings.Contains(body, `id="verify-start"`) {
		t.Fatalf("FALHOU outcome not shown: %s", body[strings.Index(body, `id="verificacao"`):])
	}

	// A database error proves nothing either way: not concluded, no detail.
	do("POST", page+"/verificar", start)
	<-started
	release <- errors.New("dial tcp 10.0.0.9:3306: connection refused")
	body = recordWaitDone(t, do, page)
	if !strings.Contains(body, "NÃO CONCLUÍDA") || strings.Contains(body, "10.0.0.9") || strings.Contains(body, "FALHOU") {
		t.Fatalf("error outcome: %s", body[strings.Index(body, `id="verificacao"`):])
	}

	// Without the token the start is refused before it reaches the run.
	if code, _, _ := do("POST", page+"/verificar", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("start without CSRF: %d", code)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d verifications started, want 3", n)
	}
}

// recordWaitDone polls the page until the run is over.
func recordWaitDone(t *testing.T, do func(string, string, url.Values) (int, string, string), page string) string {
	t.Helper()
	for range 500 {
		if _, _, body := do("GET", page, nil); strings.Contains(body, `id="verify-outcome"`) {
			return body
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the run did not finish")
	return ""
}

func TestNoteKeys(t *testing.T) {
	n := "titular.local/ledger/demo\n9\nMkAEn/bap20zPFhLkvb20MEw4RFKw0CXjyqkVWKGOgo=\n\n— titular.local Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n— witness.example abc=\n"
	if got := noteKeys(n); len(got) != 2 || got[0] != "titular.local" || got[1] != "witness.example" {
		t.Fatalf("noteKeys = %v", got)
	}
	if got := noteKeys("no signatures"); got != nil {
		t.Fatalf("noteKeys of a text without signatures = %v", got)
	}
}
