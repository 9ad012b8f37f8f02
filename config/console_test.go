package config

import "testing"

// TestConsoleSessionKeyFile: console.session_key_file resolves from the
// config file's directory like every other path, and stays empty (serve
// then generates one under state_dir) when unset.
func TestConsoleSessionKeyFile(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"console: {session_key_file: keys/console.key}\n", "/etc/titular/keys/console.key"},
		{"console: {session_key_file: /run/secrets/console.key}\n", "/run/secrets/console.key"},
		{"", ""},
	} {
		c, err := Parse("/etc/titular/titular.yaml", []byte(tc.yaml+"tenants: [{id: demo, dsn_env: DEMO_DSN, datamap: demo.yaml}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Console.SessionKeyFile != tc.want {
			t.Errorf("%q: session_key_file %q, want %q", tc.yaml, c.Console.SessionKeyFile, tc.want)
		}
	}
}
