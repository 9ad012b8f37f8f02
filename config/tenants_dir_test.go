package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTenantsDir: tenant files give tenants beside the inline list; a
// file's id is its name; relative paths resolve from the file; bad files
// are reported, not fatal; a tenant in both places is reported once.
func TestTenantsDir(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "tenants.d")
	if err := os.MkdirAll(td, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"acme.yaml":      "name: Acme\ndsn_env: ACME_DSN\ndatamap: ../maps/crm.yaml\nmax_open_conns: 4\n",
		"bravo.yml":      "id: bravo\ndsn_file: bravo.dsn\ndatamap: /maps/crm.yaml\npolicy: {small_agent: true}\n",
		"wrong-id.yaml":  "id: other\ndsn: x\ndatamap: m\n",
		"typo.yaml":      "dsn: x\ndatamap: m\ndns: y\n",
		"inline.yaml":    "dsn: x\ndatamap: m\n",
		"bad-id_Ç.yaml":  "dsn: x\ndatamap: m\n",
		".hidden.yaml":   "not: read",
		"notes.txt":      "not read",
		"noserver.yaml":  "dsn: x\ndatamap: m\nserver: nowhere\n",
		"nodatamap.yaml": "dsn: x\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(td, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Parse(filepath.Join(dir, "titular.yaml"), []byte(`tenants_dir: tenants.d
tenants: [{id: inline, dsn: x, datamap: m}]
auth: {api_keys: [{name: k, role: dpo, tenants: [acme, later], key_sha256: `+hash+`}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tn := range c.Tenants {
		ids = append(ids, tn.ID)
	}
	if strings.Join(ids, ",") != "inline,acme,bravo" {
		t.Errorf("tenants %v, want inline, acme, bravo", ids)
	}
	acme, _ := c.Tenant("acme")
	if acme.Name != "Acme" || acme.Datamap != filepath.Join(dir, "maps", "crm.yaml") || acme.MaxOpenConns != 4 ||
		acme.Source != filepath.Join(td, "acme.yaml") || acme.Policy.DeadlineDays != 15 {
		t.Errorf("acme: %+v", acme)
	}
	bravo, _ := c.Tenant("bravo")
	if bravo.DSNFile != filepath.Join(td, "bravo.dsn") || bravo.Policy.Deadline() != 30*24*time.Hour {
		t.Errorf("bravo: %+v", bravo)
	}
	problems := map[string]string{
		"wrong-id.yaml":  "differs from the file name",
		"typo.yaml":      "dns",
		"inline.yaml":    "also listed in the config file",
		"bad-id_Ç.yaml":  "not a valid tenant id",
		"noserver.yaml":  "not in databases.servers",
		"nodatamap.yaml": "data map",
	}
	if len(c.TenantFileProblems) != len(problems) {
		t.Errorf("%d problems, want %d: %v", len(c.TenantFileProblems), len(problems), c.TenantFileProblems)
	}
	for file, want := range problems {
		found := false
		for _, p := range c.TenantFileProblems {
			found = found || (strings.Contains(p.Error(), file) && strings.Contains(p.Error(), want))
		}
		if !found {
			t.Errorf("no problem for %s saying %q in %v", file, want, c.TenantFileProblems)
		}
	}
}

// TestFleetSettings: the fleet's defaults, and settings that cannot work
// refused with how to fix them.
func TestFleetSettings(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`tenants: [{id: a, dsn: x, datamap: m, server: db1}]
databases: {servers: [{name: db1, addr: "10.0.0.5:3306", max_connections: 48}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Workers
	if w.Concurrency != 8 || w.MinPollInterval != 2*time.Second || w.PollInterval != time.Minute || w.OwnershipLease != 3*time.Minute {
		t.Errorf("worker defaults: %+v", w)
	}
	if key, maxConns := c.Databases.Budget("db1", "other:3306"); key != "server:db1" || maxConns != 48 {
		t.Errorf("named server: %s %d", key, maxConns)
	}
	if key, maxConns := c.Databases.Budget("", "10.0.0.5:3306"); key != "server:db1" || maxConns != 48 {
		t.Errorf("server by address: %s %d", key, maxConns)
	}
	if key, maxConns := c.Databases.Budget("", "10.0.0.6:3306"); key != "addr:10.0.0.6:3306" || maxConns != 32 {
		t.Errorf("other server: %s %d", key, maxConns)
	}
	for yaml, want := range map[string]string{
		`tenants: [{id: a, dsn: x, datamap: m}]
databases: {max_connections: 10}`: "below 2 × workers.concurrency + 2 (18)",
		`tenants: [{id: a, dsn: x, datamap: m}]
workers: {min_poll_interval: 2m, poll_interval: 1m}`: "min_poll_interval (2m0s) must be positive and at most poll_interval",
		`tenants: [{id: a, dsn: x, datamap: m}]
workers: {ownership_lease: 1s}`: "ownership_lease: 1s is too short",
		`tenants: [{id: a, dsn: x, datamap: m, server: db9}]`:       `"db9" is not in databases.servers`,
		`tenants: [{id: a, dsn: x, datamap: m, max_open_conns: 1}]`: "a request may hold two connections",
		`tenants: [{id: a, dsn: x, datamap: m, max_open_conns: 4}]
workers: {per_tenant: 3}`: "tenants[0].max_open_conns: 4 is below 2 × workers.per_tenant (6)",
		`auth: {}`: "list them here or in a tenants_dir",
	} {
		_, err := Parse("t.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n: %v, want %q", yaml, err, want)
		}
	}
}
