package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseReadyz(t *testing.T) {
	for _, c := range []struct {
		status          int
		body            string
		starting, ready bool
		up, total       int
		down            []string
	}{
		{503, "starting: 12 of 300 tenants opened\n", true, false, 12, 300, nil},
		{200, "ready: 298 of 300 tenants up\ndown-silent-1: database does not answer\ndown-refused-2: connection refused\n",
			false, true, 298, 300, []string{"down-silent-1", "down-refused-2"}},
		{503, "ready: 0 of 3 tenants up\na: x\nb: y\nc: z\n", false, false, 0, 3, []string{"a", "b", "c"}},
		{200, "ready\n", false, true, -1, -1, nil}, // serve before fleet support
	} {
		r := parseReadyz(c.status, c.body)
		if r.starting != c.starting || r.ready != c.ready || r.up != c.up || r.total != c.total || strings.Join(r.down, ",") != strings.Join(c.down, ",") {
			t.Errorf("parseReadyz(%d, %q) = %+v", c.status, c.body, r)
		}
	}
	if r := parseReadyz(http.StatusOK, "ready: 5 of 5 tenants up"); r.line != "ready: 5 of 5 tenants up" {
		t.Errorf("the first line is kept for the report: %q", r.line)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a parenthesis: fields count from the last ')'.
	stat := "4242 (titular (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 12 0 100 0 0\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 4*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 4s (250+150 ticks)", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (titular) S 1")); err == nil {
		t.Error("a truncated stat line is accepted")
	}
}

func TestJain(t *testing.T) {
	if got := jain([]float64{2, 2, 2, 2}); got != 1 {
		t.Errorf("equal shares: %v, want 1", got)
	}
	if got := jain([]float64{1, 0, 0, 0}); math.Abs(got-0.25) > 1e-12 {
		t.Errorf("one takes all: %v, want 1/n", got)
	}
}

func TestSQLValue(t *testing.T) {
	for in, want := range map[string]string{"2": "2", "151": "151", "ON": "'ON'", "OFF": "'OFF'"} {
		if got := sqlValue(in); got != want {
			t.Errorf("sqlValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFiguresRender checks a report of figures survives --json and renders
// as a table (--render) with each figure, its goal and how it was taken.
func TestFiguresRender(t *testing.T) {
	rep := Report{Elapsed: "1s", Figures: []Figure{
		figure("idle: statements/s", 12.345, "/s", 1, "Questions over the window").withGoal("≤ 100/s", true),
		figure("claim: to PROCESSING p99", 73, "ms", 100, "events").withGoal("≤ 50 ms", false),
		figure("burst: Jain's fairness", 0.98, "", 3, "Jain's index"),
	}}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := back.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"12.3", "≤ 100/s met", "≤ 50 ms MISSED", "0.98", "fleet/claim: to PROCESSING p99: events"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCountEstablished(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C40 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 20 4 30 10 -1
   1: 0100007F:9C41 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C42 0100007F:0CEA 06 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:9C43 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:9C44 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 20 4 30 10 -1
   5: 0000000000000000FFFF00000100007F:9C45 0000000000000000FFFF00000100007F:0CEA 01 00000000:00000000 00:00000000 00000000 0 0 1005 1
`)
	server, ok := resolveServer("tcp", "127.0.0.1:3306")
	if !ok {
		t.Fatal("127.0.0.1:3306 does not resolve")
	}
	// 1001, 1002 and the IPv4-mapped 1005 are titular's, established, to
	// the server; 1003 is closing, 1004 goes elsewhere, 2001 is not titular's.
	mine := map[string]bool{"1001": true, "1002": true, "1003": true, "1004": true, "1005": true}
	if got := countEstablished(table, server, mine); got != 3 {
		t.Errorf("countEstablished = %d, want 3", got)
	}
	if _, ok := resolveServer("unix", "/run/mysqld/mysqld.sock"); ok {
		t.Error("a Unix socket DSN is taken for a TCP address")
	}
}
