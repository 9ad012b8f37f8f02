package server

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/titular/titular/fleet/fleettest"
)

// TestFleetDegradedStart: a fleet of 50 tenants with a database that
// refuses connections, one that hangs, a data map that does not match its
// database and an invalid tenant file: serve starts, /readyz names each
// problem without a DSN or password, and the other tenants work.
func TestFleetDegradedStart(t *testing.T) {
	f := newFleetEnv(t, 50, "")
	const password = "fleet-s3cret"
	f.writeTenant(t, "refused", fmt.Sprintf("dsn: \"root:%s@tcp(%s)/x\"\ndatamap: %q\n", password, fleettest.FreeAddr(t), fleettest.Datamap(t)))
	f.writeTenant(t, "hung", fmt.Sprintf("dsn: \"root:%s@tcp(%s)/x\"\ndatamap: %q\n", password, fleettest.StalledServer(t), fleettest.Datamap(t)))
	badMap := filepath.Join(f.dir, "bad-map.yaml")
	m, err := os.ReadFile(fleettest.Datamap(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badMap, []byte(strings.Replace(string(m), "table: atendimentos", "table: atendimento_log", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := fleettest.NewTenants(t, 1, 900, true)[0]
	f.writeTenant(t, "badmap", fmt.Sprintf("dsn: %q\ndatamap: %q\n", extra.DSN, badMap))
	f.writeTenant(t, "broken", "dsn: [unclosed\n")

	started := time.Now()
	_, env := f.start(t, nil)
	var text string
	took := waitFor(t, "readiness", func() bool {
		code, body := readyz(t, env)
		text = body
		return code == http.StatusOK
	})
	t.Logf("ready %s after start (50 tenants, 2 unreachable)", took.Round(time.Millisecond))
	_ = started
	if !strings.HasPrefix(text, "ready: 50 of 53 tenants up\n") {
		t.Errorf("/readyz:\n%s\nwant 50 of 53 tenants up", text)
	}
	for _, want := range []string{"refused: down: the database does not answer", "hung: down: the database did not answer in time",
		"badmap: down: the data map does not match the database", "atendimento_log", "tenant file skipped: ", "broken.yaml"} {
		if !strings.Contains(text, want) {
			t.Errorf("/readyz lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, password) || strings.Contains(text, "@tcp(") {
		t.Errorf("/readyz quotes a DSN:\n%s", text)
	}
	// The others work: an EXTRACT on a few of them completes.
	for _, i := range rand.Perm(50)[:5] {
		r := env.extract(t, fleetID(i), f.tenants[i], 3)
		got := env.waitFleet(t, fleetID(i), r.ID)
		if got.Status != "COMPLETED" || got.Result == nil || got.Result.Extract == nil || got.Result.Extract.TotalRows == "0" {
			t.Errorf("%s: EXTRACT ended %s with %+v", fleetID(i), got.Status, got.Result)
		}
	}
	code, h, b := env.rest(t, "POST", "/v1/tenants/refused/requests", keyFleet,
		map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": f.tenants[0].Titulares()[0].CPF}})
	if code != http.StatusServiceUnavailable || decode[restError](t, b).reason() != "TENANT_UNAVAILABLE" || strings.Contains(string(b), password) ||
		h.Get("Retry-After") == "" {
		t.Errorf("a call to a tenant that is down: HTTP %d %s (Retry-After %q); want 503 TENANT_UNAVAILABLE with Retry-After", code, b, h.Get("Retry-After"))
	}
	_, _, metricsText := env.rest(t, "GET", "/metrics", "", nil)
	for _, want := range []string{`titular_tenant_up{tenant="refused"} 0`, `titular_tenant_up{tenant="t007"} 1`,
		`titular_tenants{state="down"} 3`, `titular_tenants{state="up"} 50`} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(metricsText), password) {
		t.Error("/metrics quotes a DSN")
	}
	if strings.Contains(env.logs.String(), password) {
		t.Error("the logs quote a DSN's password")
	}
}

// waitFleet polls a fleet tenant's request until it leaves the queue.
func (e *testEnv) waitFleet(t *testing.T, tenantID, id string) restRequest {
	t.Helper()
	var r restRequest
	waitFor(t, "request "+id+" to finish", func() bool {
		code, _, b := e.rest(t, "GET", "/v1/tenants/"+tenantID+"/requests/"+id, keyFleet, nil)
		if code != http.StatusOK {
			t.Fatalf("get: HTTP %d: %s", code, b)
		}
		r = decode[restRequest](t, b)
		switch r.Status {
		case "COMPLETED", "FAILED", "DENIED", "CANCELED":
			return true
		}
		return false
	})
	return r
}

// TestFleetTenantAddedAndRemoved: a tenant file added while serving is
// served without a restart (here right away, on a reload signal), and a
// removed one stops being served.
func TestFleetTenantAddedAndRemoved(t *testing.T) {
	f := newFleetEnv(t, 2, "")
	reload := make(chan os.Signal, 1)
	_, env := f.start(t, reload)
	waitReady(t, env.baseURL, 2)

	extra := fleettest.NewTenants(t, 1, 700, true)[0]
	added := time.Now()
	f.writeTenant(t, "newco", fmt.Sprintf("name: Nova Incorporadora\ndsn: %q\ndatamap: %q\n", extra.DSN, fleettest.Datamap(t)))
	reload <- syscall.SIGHUP
	waitReady(t, env.baseURL, 3)
	t.Logf("a new tenant file was served %s after it was written", time.Since(added).Round(time.Millisecond))
	r := env.extract(t, "newco", extra, 0)
	if got := env.waitFleet(t, "newco", r.ID); got.Status != "COMPLETED" {
		t.Fatalf("EXTRACT on the new tenant: %s", got.Status)
	}
	// Without a signal, the watch finds the change within seconds.
	if err := os.Remove(filepath.Join(f.tenantsDir, "newco.yaml")); err != nil {
		t.Fatal(err)
	}
	waitReady(t, env.baseURL, 2)
	code, _, b := env.rest(t, "GET", "/v1/tenants/newco/requests/"+r.ID, keyFleet, nil)
	if code != http.StatusNotFound || decode[restError](t, b).reason() != "TENANT_NOT_FOUND" {
		t.Errorf("a removed tenant: HTTP %d %s, want 404 TENANT_NOT_FOUND", code, b)
	}
	r = env.extract(t, fleetID(1), f.tenants[1], 0)
	if got := env.waitFleet(t, fleetID(1), r.ID); got.Status != "COMPLETED" {
		t.Errorf("a remaining tenant after the removal: %s", got.Status)
	}
}

// TestFleetBurstDoesNotDelayOthers: while one tenant's queue holds a burst
// of requests, another tenant's request is taken at once, not after the
// burst drains.
func TestFleetBurstDoesNotDelayOthers(t *testing.T) {
	f := newFleetEnv(t, 4, "")
	_, env := f.start(t, nil)
	waitReady(t, env.baseURL, 4)
	busy, quiet := f.tenants[0], f.tenants[1]
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			r := env.extract(t, fleetID(0), busy, i%fleettest.Titulares)
			mu.Lock()
			ids = append(ids, r.ID)
			mu.Unlock()
		})
	}
	wg.Wait()
	other := env.extract(t, fleetID(1), quiet, 0)
	env.waitFleet(t, fleetID(1), other.ID)
	for _, id := range ids {
		env.waitFleet(t, fleetID(0), id)
	}
	var received, claimed time.Time
	if err := quiet.DB.QueryRow(`SELECT MIN(at), MAX(CASE WHEN to_status = 'PROCESSING' THEN at END) FROM lgpd_request_events
 WHERE request_id = ?`, other.ID).Scan(&received, &claimed); err != nil {
		t.Fatal(err)
	}
	var lastBusy time.Time
	if err := busy.DB.QueryRow(`SELECT MAX(at) FROM lgpd_request_events WHERE to_status = 'PROCESSING'`).Scan(&lastBusy); err != nil {
		t.Fatal(err)
	}
	t.Logf("the quiet tenant's request was claimed %s after it was created; the busy tenant's last claim came %s after that",
		claimed.Sub(received).Round(time.Microsecond), lastBusy.Sub(claimed).Round(time.Millisecond))
	if !claimed.Before(lastBusy) {
		t.Errorf("the quiet tenant's request was claimed at %s, after the busy tenant's burst drained (%s)", claimed, lastBusy)
	}
}

// TestFleetReplicas: two replicas split a fleet, each tenant's background
// work held by exactly one; requests created elsewhere are found by the
// holder; when one replica is killed (SIGKILL) the other takes its tenants
// over once their leases end, and every request is processed exactly once.
func TestFleetReplicas(t *testing.T) {
	const n = 16
	f := newFleetEnv(t, n, "")
	// Replica A runs in a process of its own, so it can be killed.
	httpA := fleettest.FreeAddr(t)
	child := exec.Command(titularBinary(t), "serve", "--config", f.cfgPath,
		"--grpc-addr", fleettest.FreeAddr(t), "--http-addr", httpA, "--log-level", "debug")
	var childLogs lockedBuffer
	child.Stdout, child.Stderr = &childLogs, &childLogs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = child.Process.Kill()
		}
		_ = child.Wait()
		f.assertNoPersonalData(t, childLogs.String())
	})
	envA := &testEnv{baseURL: "http://" + httpA}
	waitFor(t, "replica A to listen", func() bool {
		resp, err := http.Get(envA.baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	waitReady(t, envA.baseURL, n)
	b, envB := f.start(t, nil)
	waitReady(t, envB.baseURL, n)
	ownerB := b.worker.Owner()

	// Both hold some tenants, each tenant exactly one of them.
	var holders map[string]string
	took := waitFor(t, "the replicas to split the fleet", func() bool {
		holders = map[string]string{}
		count := map[string]int{}
		for i, tn := range f.tenants {
			h := leaseHolder(t, tn.DB)
			if h == "" || (h == ownerB) != b.sched.Holds(fleetID(i)) {
				return false
			}
			holders[fleetID(i)] = h
			count[h]++
		}
		return len(count) == 2
	})
	t.Logf("split after %s: %v", took.Round(time.Millisecond), holders)

	// Requests no replica was told about are found by the holder's poll.
	var all []struct {
		tenant int
		id     string
	}
	add := func(i int, id string) {
		all = append(all, struct {
			tenant int
			id     string
		}{i, id})
	}
	for i, tn := range f.tenants {
		add(i, insertElsewhere(t, tn, 1))
	}
	// Requests created through A, A's tenants' and B's, then A dies.
	for i, tn := range f.tenants {
		add(i, envA.extract(t, fleetID(i), tn, 2).ID)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	deadAt := time.Now()
	took = waitFor(t, "B to take over A's tenants", func() bool {
		for i, tn := range f.tenants {
			if leaseHolder(t, tn.DB) != ownerB || !b.sched.Holds(fleetID(i)) {
				return false
			}
		}
		return true
	})
	t.Logf("B held every tenant %s after A was killed (ownership lease 3s)", took.Round(time.Millisecond))
	_ = deadAt
	// Work created elsewhere after the takeover is found too.
	for i, tn := range f.tenants {
		add(i, insertElsewhere(t, tn, 4))
	}
	for _, r := range all {
		got := envB.waitFleet(t, fleetID(r.tenant), r.id)
		counts := statusCounts(t, f.tenants[r.tenant].DB, r.id)
		if got.Status != "COMPLETED" || counts["COMPLETED"] != 1 {
			t.Errorf("%s request %s: %s with events %v; want completed exactly once", fleetID(r.tenant), r.id, got.Status, counts)
		}
		var exports int
		if err := f.tenants[r.tenant].DB.QueryRow("SELECT COUNT(*) FROM lgpd_exports WHERE request_id = ?", r.id).Scan(&exports); err != nil || exports != 3 {
			t.Errorf("%s request %s has %d exports (%v); want JSON, XLSX and PDF once", fleetID(r.tenant), r.id, exports, err)
		}
	}
}
