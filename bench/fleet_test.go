package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/store/storetest"
)

// fleetFigures are the figures every fleet report has (with at least one
// unreachable tenant).
var fleetFigures = []string{
	"provisioning", "before titular: statements/s", "before titular: connections", "after titular: statements/s", "after titular: connections",
	"start: listening", "start: ready", "start: unreachable reported",
	"settle: titular CPU",
	"idle: statements/s", "idle: SELECT/s", "idle: INSERT/s", "idle: UPDATE/s", "idle: DELETE/s", "idle: COMMIT/s",
	"idle: connections (mean)", "idle: connections (max)", "idle: titular's connections (max)", "idle: titular CPU", "idle: titular RSS",
	"claim: to PROCESSING p50", "claim: to PROCESSING p99",
	"noisy neighbour: to PROCESSING p50", "noisy neighbour: to PROCESSING p99", "noisy neighbour: A's queue",
	"burst: completed/s", "burst: Jain's fairness", "burst: slowest/fastest tenant", "burst: last tenant done",
	"burst: statements/request", "burst: connects/request", "burst: titular's connections (max)",
	"peak RSS", "stop", "requests not COMPLETED",
}

// TestFleetScenario runs the fleet scenario end to end at a toy size (5
// tenants and 1 unreachable, windows of seconds) against a titular binary
// built for the test, and checks the report has every figure. It asserts
// nothing about the values: benchmarks are not timed assertions.
func TestFleetScenario(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "titular")
	build := exec.Command("go", "build", "-o", bin, "../cmd/titular")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/titular: %v\n%s", err, out)
	}
	before := serverVariables(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Options{
		DSN: storetest.ServerDSN(), Scenarios: []string{FleetScenario}, ServeCommand: []string{bin, "serve"}, Clients: 4, Progress: &progress,
		Fleet: FleetOptions{Tenants: 5, Unreachable: 1, Settle: 2 * time.Second, Idle: 3 * time.Second, Samples: 5,
			BurstTenants: 3, BurstRequests: 3, Noisy: 20, Rounds: 1, Provisioners: 4, StartTimeout: 30 * time.Second,
			Datamap: "../examples/fleet/datamap.yaml"},
	})
	if err != nil {
		t.Fatalf("fleet: %v\n%s", err, progress.String())
	}
	byName := map[string]Figure{}
	for _, x := range rep.Figures {
		byName[x.Name] = x
		if x.Scenario != FleetScenario || x.How == "" || x.Samples < 1 || (x.Goal != "" && x.GoalMet == nil) {
			t.Errorf("figure %q is incomplete: %+v", x.Name, x)
		}
	}
	for _, name := range fleetFigures {
		if _, ok := byName[name]; !ok {
			t.Errorf("the report has no figure %q", name)
		}
	}
	if !strings.Contains(progress.String(), "created 5/5 tenant databases") {
		t.Errorf("no provisioning progress:\n%s", progress.String())
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Figures) != len(rep.Figures) {
		t.Fatalf("the --json report does not read back: %v", err)
	}
	var table bytes.Buffer
	if err := back.WriteTable(&table); err != nil || !strings.Contains(table.String(), "idle: statements/s") {
		t.Errorf("--render of the report: %v\n%s", err, table.String())
	}
	assertFleetDropped(t, rep.Database)
	if after := serverVariables(t); after != before {
		t.Errorf("server variables (max_connections, flush, file per table) were %s before the run and %s after", before, after)
	}
}

// assertFleetDropped checks that a run without Keep left no database.
func assertFleetDropped(t *testing.T, pattern string) {
	t.Helper()
	if !strings.HasPrefix(pattern, "titular_fleet_") {
		t.Fatalf("fleet databases %q are not named by the bench", pattern)
	}
	db, err := sql.Open("mysql", storetest.ServerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", pattern).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d fleet databases %s were left behind", n, pattern)
	}
}

// serverVariables reads the global variables the fleet scenario changes
// for its run and must put back.
func serverVariables(t *testing.T) string {
	t.Helper()
	db, err := sql.Open("mysql", storetest.ServerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT CONCAT_WS(' ', @@max_connections, @@innodb_flush_log_at_trx_commit, @@innodb_file_per_table)").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
