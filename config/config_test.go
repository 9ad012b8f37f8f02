package config

import (
	"strings"
	"testing"
	"time"
)

const hash = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"

func TestParseDefaultsAndPaths(t *testing.T) {
	c, err := Parse("/etc/titular/titular.yaml", []byte(`
tenants:
  - id: demo
    dsn_env: DEMO_DSN
    datamap: maps/demo.yaml
    policy: {small_agent: true}
auth:
  api_keys:
    - {name: dpo, role: dpo, tenants: [demo], key_sha256: `+hash+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != "127.0.0.1:9090" || c.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("default addresses: %s %s", c.GRPCAddr, c.HTTPAddr)
	}
	tn, ok := c.Tenant("demo")
	if !ok || tn.Datamap != "/etc/titular/maps/demo.yaml" || c.StateDir != "/etc/titular/.titular" {
		t.Errorf("relative paths must resolve from the config file: %+v %s", tn, c.StateDir)
	}
	if tn.Policy.DeadlineDays != 15 || tn.Policy.Deadline() != 30*24*time.Hour {
		t.Errorf("small agents get double the 15-day default: %d days, %s", tn.Policy.DeadlineDays, tn.Policy.Deadline())
	}
	if c.Workers.PerTenant != 2 || c.Workers.Lease != 5*time.Minute || c.Exports.TTL != 720*time.Hour {
		t.Errorf("worker/export defaults: %+v %+v", c.Workers, c.Exports)
	}
	t.Setenv("DEMO_DSN", " root@tcp(127.0.0.1:3306)/demo \n")
	if dsn, err := tn.ResolveDSN(); err != nil || dsn != "root@tcp(127.0.0.1:3306)/demo" {
		t.Errorf("ResolveDSN: %q %v", dsn, err)
	}
	t.Setenv("DEMO_DSN", "")
	if _, err := tn.ResolveDSN(); err == nil || !strings.Contains(err.Error(), "DEMO_DSN") {
		t.Errorf("empty env var must name it: %v", err)
	}
}

func TestApprovalPolicy(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`tenants: [{id: a, dsn: x, datamap: m, policy: {approval_required: [DELETE, ANONYMIZE]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Tenants[0].Policy
	if !p.NeedsApproval("DELETE") || !p.NeedsApproval("ANONYMIZE") || p.NeedsApproval("EXTRACT") {
		t.Errorf("policy %+v: DELETE and ANONYMIZE wait, EXTRACT does not", p)
	}
}

func TestParseErrorsSayHowToFix(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"no tenants":      {`auth: {}`, "at least one tenant"},
		"two dsn sources": {`tenants: [{id: a, dsn: x, dsn_env: Y, datamap: m}]`, "exactly one of dsn_env"},
		"bad id":          {`tenants: [{id: "A B", dsn: x, datamap: m}]`, "not a valid tenant id"},
		"dup id":          {`tenants: [{id: a, dsn: x, datamap: m}, {id: a, dsn: x, datamap: m}]`, "listed twice"},
		"no datamap":      {`tenants: [{id: a, dsn: x}]`, "data map"},
		"bad hash": {`tenants: [{id: a, dsn: x, datamap: m}]
auth: {api_keys: [{name: k, role: dpo, tenants: [a], key_sha256: abc}]}`, "sha256sum"},
		"bad role": {`tenants: [{id: a, dsn: x, datamap: m}]
auth: {api_keys: [{name: k, role: root, tenants: [a], key_sha256: ` + hash + `}]}`, "use dpo, backend"},
		"unknown tenant": {`tenants: [{id: a, dsn: x, datamap: m}]
auth: {api_keys: [{name: k, role: dpo, tenants: [b], key_sha256: ` + hash + `}]}`, "not a configured tenant"},
		"typo key": {`tenants: [{id: a, dsn: x, datamap: m, dns: y}]`, "dns"},
		"approval of consent": {`tenants: [{id: a, dsn: x, datamap: m, policy: {approval_required: [DELETE, CONSENT]}}]`,
			`"CONSENT" cannot wait for approval; list only EXTRACT, DELETE, ANONYMIZE`},
		"approval of unknown kind": {`tenants: [{id: a, dsn: x, datamap: m, policy: {approval_required: [delete]}}]`,
			`"delete" cannot wait for approval`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}
