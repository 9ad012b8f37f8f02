package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// TestStopBoundedWhileWorkerStuck: a DELETE whose worker waits on a row
// lock the test holds does not keep Stop past its bound; the request is cut
// off, not lost, and once the lock is gone a fresh start completes it,
// exactly once.
func TestStopBoundedWhileWorkerStuck(t *testing.T) {
	env := newTestEnv(t, 40, func(y string) string {
		// Short leases, so the fresh start takes the tenant and the request
		// over in seconds; the request's outlasts the bound below, so the
		// worker does not give up on its own before Stop cuts it off.
		return strings.Replace(y, "lease: 1m,", "lease: 8s, ownership_lease: 3s,", 1)
	})
	env.app.Stop() // the env's replica has the default bound; this test starts its own
	ctx := context.Background()
	var out io.Writer = env.logs
	if testing.Verbose() {
		out = io.MultiWriter(env.logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const bound = 3 * time.Second
	a, err := Start(ctx, env.cfg, log, Options{ShutdownTimeout: bound})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(a.Stop)
	stuck := env.on(a)
	waitReady(t, stuck.baseURL, 2)

	// The test holds the titular's row in pessoas, which the DELETE erases.
	prospect := env.scenario(t, seed.ScenarioProspect)
	db := env.demoDB(t)
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck // released below; this covers a failed test
	cpfs, args := in(brdoc.CPFShapes(prospect.CPF))
	var id int64
	if err := lock.QueryRow("SELECT idpessoa FROM pessoas WHERE cpf IN "+cpfs+" FOR UPDATE", args...).Scan(&id); err != nil {
		t.Fatalf("locking the titular's pessoa row: %v", err)
	}
	d := stuck.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": prospect.CPF}})
	waitFor(t, "the DELETE's worker to wait on the test's lock", func() bool { return waitingOn(t, db, "pessoas") > 0 })

	began := time.Now()
	a.Stop()
	took := time.Since(began)
	t.Logf("Stop returned after %s with a worker stuck on a lock (bound %s)", took.Round(time.Millisecond), bound)
	// The slack is for closing the pools after the bound.
	if took > bound+time.Second {
		t.Errorf("Stop took %s with a worker stuck on a lock; its bound is %s", took, bound)
	}
	if n := statusCounts(t, db, d.ID)["COMPLETED"]; n != 0 {
		t.Fatalf("the DELETE completed while its row was locked (%d COMPLETED events)", n)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}

	// A fresh start takes the request over once its lease ends.
	b, err := Start(ctx, env.cfg, log, Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(b.Stop)
	fresh := env.on(b)
	waitReady(t, fresh.baseURL, 2)
	if got := fresh.waitREST(t, d.ID); got.Status != "COMPLETED" {
		t.Fatalf("the DELETE cut off by Stop ended %s after the restart, want COMPLETED", got.Status)
	}
	counts := statusCounts(t, db, d.ID)
	if counts["COMPLETED"] != 1 || counts["PROCESSING"] < 2 {
		t.Errorf("events by status %v; want claimed twice (before and after Stop) and completed once", counts)
	}
	var result string
	if err := db.QueryRow("SELECT result_json FROM lgpd_requests WHERE id = ?", d.ID).Scan(&result); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Delete struct {
			Complete bool `json:"complete"`
			Entities []struct {
				Entity  string `json:"entity"`
				Deleted int    `json:"deleted"`
			} `json:"entities"`
		} `json:"delete"`
	}
	if err := json.Unmarshal([]byte(result), &res); err != nil {
		t.Fatalf("result %s: %v", result, err)
	}
	erased := 0
	for _, e := range res.Delete.Entities {
		if e.Entity == "pessoa" {
			erased = e.Deleted
		}
	}
	// The run cut off changed nothing: the one that completed found the row.
	if !res.Delete.Complete || erased != 1 {
		t.Errorf("the completed DELETE erased %d pessoa rows (complete %v); want the one row, erased by the run that completed: %s",
			erased, res.Delete.Complete, result)
	}
	if n := scalar(t, db, "SELECT COUNT(*) FROM pessoas WHERE cpf IN "+cpfs, args...); n != 0 {
		t.Errorf("%d pessoa rows of the titular remain", n)
	}
}

// on is the env's clients pointed at another replica over the same tenants.
func (e *testEnv) on(a *App) *testEnv {
	return &testEnv{app: a, baseURL: "http://" + a.HTTPAddr(), scenarios: e.scenarios, demoDSN: e.demoDSN, cfg: e.cfg, logs: e.logs}
}

// waitingOn counts the statements of other sessions on db's database that
// have been reading table for over a second: on the test's few rows only a
// lock makes one wait that long. (MariaDB's INNODB_TRX does not always
// report such a wait: one met while sorting shows as RUNNING.)
func waitingOn(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	return scalar(t, db, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
 WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND TIME_MS > 1000 AND INFO LIKE ?`, "%`"+table+"`%")
}
