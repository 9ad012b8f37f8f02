package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cli is the titular binary, built from ../cmd/titular once per test run
// for the tests that run a command against a served tenant (ledger verify,
// purposes load, sweep) or a replica in a process of its own.
var cli struct {
	once      sync.Once
	dir, path string
	err       error
}

func titularBinary(t testing.TB) string {
	t.Helper()
	cli.once.Do(func() {
		if cli.dir, cli.err = os.MkdirTemp("", "titular-server-test-"); cli.err != nil {
			return
		}
		cli.path = filepath.Join(cli.dir, "titular")
		if out, err := exec.Command("go", "build", "-o", cli.path, "../cmd/titular").CombinedOutput(); err != nil {
			cli.err = fmt.Errorf("go build ../cmd/titular: %w\n%s", err, out)
		}
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.path
}

// runCLI runs `titular args…` with its standard output to stdout; the
// error says how it exited and what it wrote to stderr.
func runCLI(t testing.TB, stdout io.Writer, args ...string) error {
	t.Helper()
	cmd := exec.Command(titularBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("titular %s: %w\n%s", strings.Join(args[:min(2, len(args))], " "), err, stderr.String())
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cli.dir != "" {
		if err := os.RemoveAll(cli.dir); err != nil {
			fmt.Fprintln(os.Stderr, "remove the test binary's directory:", err)
		}
	}
	os.Exit(code)
}
