package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/brdoc"
)

// TestDemo starts `titular demo` as a user would (a built binary, no
// database, no config; free ports), runs the three calls it prints in bash
// (create an EXTRACT, poll it to COMPLETED, download the XLSX), opens the
// XLSX, then stops the demo with SIGINT and expects a clean exit.
func TestDemo(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the demo test runs the printed calls with %s; install it", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "titular")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	tour, err := readTour(stdout, 45*time.Second)
	if err != nil {
		t.Fatalf("reading the demo's output: %v\nstderr:\n%s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	// The ledger's public key, for titular receipt verify --key.
	if !regexp.MustCompile(`(?m)^ledger public key .*: titular\.local\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$`).MatchString(tour) {
		t.Errorf("the demo does not print the ledger's public key:\n%s", tour)
	}
	calls := tourCalls(t, tour)
	cpf := regexp.MustCompile(`CPF (\d{11})`).FindStringSubmatch(tour)
	if cpf == nil {
		t.Fatalf("the tour names no titular's CPF:\n%s", tour)
	}

	id := strings.TrimSpace(bash(t, dir, calls[0]))
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("call 1 printed %q, want a request id", id)
	}
	withID := "ID=" + id + "\n"
	completed := regexp.MustCompile(`"status": *"COMPLETED"`)
	for start := time.Now(); ; {
		out := bash(t, dir, withID+calls[1])
		if completed.MatchString(out) {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("request not COMPLETED after 30s; last answer: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	bash(t, dir, withID+calls[2])
	f, err := excelize.OpenFile(filepath.Join(dir, "extrato.xlsx"))
	if err != nil {
		t.Fatalf("the downloaded XLSX does not open: %v", err)
	}
	if n := len(f.GetSheetList()); n < 2 {
		t.Errorf("the XLSX has %d sheets, want a summary and the data", n)
	}
	f.Close()

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("demo did not exit cleanly on SIGINT: %v\nstderr:\n%s", err, stderr.String())
	}
	logs := stderr.String()
	if !strings.Contains(logs, "titular demo stopped") {
		t.Errorf("no shutdown line in the logs:\n%s", logs)
	}
	for _, shape := range brdoc.CPFShapes(cpf[1]) {
		if strings.Contains(logs, shape) {
			t.Errorf("the logs contain the titular's CPF")
		}
	}
}

// readTour reads the demo's stdout up to its last line.
func readTour(r io.Reader, timeout time.Duration) (string, error) {
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Ctrl-C stops the demo") {
				done <- result{text: b.String()}
				return
			}
		}
		done <- result{text: b.String(), err: errors.New("output ended before the tour was complete:\n" + b.String())}
	}()
	select {
	case res := <-done:
		return res.text, res.err
	case <-time.After(timeout):
		return "", errors.New("the demo printed no tour within the timeout")
	}
}

// tourCalls returns the commands that follow the "# 1.", "# 2." and "# 3."
// comment lines.
func tourCalls(t *testing.T, tour string) []string {
	t.Helper()
	lines := strings.Split(tour, "\n")
	var calls []string
	for i, l := range lines {
		for _, n := range []string{"# 1.", "# 2.", "# 3."} {
			if strings.HasPrefix(strings.TrimSpace(l), n) && i+1 < len(lines) {
				calls = append(calls, strings.TrimSpace(lines[i+1]))
			}
		}
	}
	if len(calls) != 3 {
		t.Fatalf("found %d numbered calls in the tour, want 3:\n%s", len(calls), tour)
	}
	return calls
}

// bash runs script in dir and returns its stdout.
func bash(t *testing.T, dir, script string) string {
	t.Helper()
	c := exec.Command("bash", "-e", "-c", script)
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s\nfailed: %v\n%s", script, err, ee.Stderr)
		}
		t.Fatalf("%s\nfailed: %v", script, err)
	}
	return string(out)
}
