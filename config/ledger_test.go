package config

import (
	"strings"
	"testing"
	"time"
)

func TestLedgerConfig(t *testing.T) {
	base := `
tenants:
  - id: demo
    dsn_env: DEMO_DSN
    datamap: demo.yaml
    subject_key: {file: keys/subject.hex}
    ledger_key: {env: DEMO_LEDGER_KEY}
`
	c, err := Parse("/etc/titular/titular.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := c.Tenant("demo")
	if c.Ledger.Host != "titular.local" || c.Ledger.CheckpointInterval != time.Minute ||
		tn.SubjectKey.File != "/etc/titular/keys/subject.hex" || tn.LedgerKey.Env != "DEMO_LEDGER_KEY" {
		t.Errorf("ledger defaults and key paths: %+v %+v %+v", c.Ledger, tn.SubjectKey, tn.LedgerKey)
	}
	c, err = Parse("/etc/titular/titular.yaml", []byte(base+"ledger: {host: lgpd.example.com, signing_key_file: ledger.key, checkpoint_interval: 5m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("/etc/titular/titular.yaml", []byte(base+
		"ledger: {previous_verifier_keys: [titular.local+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd]}\n")); err != nil {
		t.Errorf("a verifier key in previous_verifier_keys: %v", err)
	}
	w, err := Parse("/etc/titular/titular.yaml", []byte(base+
		"ledger: {witnesses: [{name: armored-witness, url: 'https://witness.example/w', key: w+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd}, "+
		"{name: local, url: 'http://127.0.0.1:8099', key: l+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd}]}\n"))
	if err != nil || len(w.Ledger.Witnesses) != 2 || w.Ledger.Witnesses[0].URL != "https://witness.example/w" {
		t.Errorf("witnesses: %v %+v", err, w)
	}
	// The cosigned checkpoints kept outside the database: under state_dir
	// by default, or where configured, relative to the config file.
	if got := w.WitnessedFile("demo", "armored-witness"); got != "/etc/titular/.titular/witnessed/demo/armored-witness.cosigned" {
		t.Errorf("default witnessed file: %s", got)
	}
	if d, err := Parse("/etc/titular/titular.yaml", []byte(base+"ledger: {witnessed_dir: /backup/witnessed}\n")); err != nil ||
		d.WitnessedFile("demo", "w") != "/backup/witnessed/demo/w.cosigned" {
		t.Errorf("ledger.witnessed_dir: %v %+v", err, d)
	}
	if d, err := Parse("/etc/titular/titular.yaml", []byte(base+"ledger: {witnessed_dir: evidence}\n")); err != nil ||
		d.Ledger.WitnessedDir != "/etc/titular/evidence" {
		t.Errorf("a relative ledger.witnessed_dir resolves from the config file: %v %+v", err, d)
	}
	if c.Ledger.SigningKeyFile != "/etc/titular/ledger.key" || c.Ledger.CheckpointInterval != 5*time.Minute {
		t.Errorf("ledger settings: %+v", c.Ledger)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"host with a space":  {"ledger: {host: 'a b'}", "ledger.host"},
		"host with a slash":  {"ledger: {host: a/b}", "ledger.host"},
		"two key sources":    {"ledger: {signing_key_file: k, signing_key_env: K}", "not both"},
		"interval too short": {"ledger: {checkpoint_interval: 10ms}", "checkpoint_interval"},
		"previous key that is a secret key": {"ledger: {previous_verifier_keys: ['PRIVATE+KEY+titular.local+1a2b3c4d+AQIDBA==']}",
			"previous_verifier_keys[0]: not a verifier key"},
		"witness over plain http": {"ledger: {witnesses: [{name: w, url: 'http://witness.example', key: w+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd}]}",
			"witnesses[0].url: use https"},
		"witness without a key": {"ledger: {witnesses: [{name: w, url: 'https://witness.example'}]}", "witnesses[0].key"},
		"witness named twice": {"ledger: {witnesses: [{name: w, url: 'https://a.example', key: w+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd}, " +
			"{name: w, url: 'https://b.example', key: w+1a2b3c4d+AZtX8RNwqQkKHb0nUjVkrHRUr2f7rT7iJWjz2YQn0eNd}]}", "witnesses[1].name"},
	} {
		_, err := Parse("/etc/titular/titular.yaml", []byte(base+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", name, err, tc.want)
		}
	}
}
