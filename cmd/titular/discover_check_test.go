package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/store/storetest"
)

// TestDiscoverDraftPassesCheck runs the built binary as a DPO would on each
// of the three test schemas (shop, polycrm, split): `datamap discover`
// writes a draft, and `datamap check` on that draft, unedited, passes (exit
// status 0) with the purposes and legal bases left to fill in as its only
// warning about the map itself.
func TestDiscoverDraftPassesCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "titular")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			db, dsn := storetest.NewDatabase(t)
			ctx := context.Background()
			if err := f.Create(ctx, db); err != nil {
				t.Fatal(err)
			}
			draft, err := exec.CommandContext(ctx, bin, "datamap", "discover", "--dsn", dsn).Output()
			if err != nil {
				t.Fatalf("discover: %v", err)
			}
			mapPath := filepath.Join(dir, f.Name+"-draft.yaml")
			if err := os.WriteFile(mapPath, draft, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, f.Name+"-titular.yaml")
			writeFile(t, cfg, fmt.Sprintf("state_dir: %q\ntenants:\n  - {id: t1, dsn: %q, datamap: %q}\n", filepath.Join(dir, "state-"+f.Name), dsn, mapPath))
			cmd := exec.CommandContext(ctx, bin, "datamap", "check", "--config", cfg)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			code := 0
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatal(err)
				}
				code = exit.ExitCode()
			}
			t.Logf("datamap check on the %s draft:\n%s%s", f.Name, out.String(), errOut.String())
			if code != 0 || !strings.Contains(out.String(), "matches the live schema") {
				t.Fatalf("the unedited draft fails datamap check: exit %d\n%s\n%s", code, out.String(), errOut.String())
			}
			if !strings.Contains(errOut.String(), "warning: fill in purpose and legal_basis for") {
				t.Errorf("no warning to fill in purposes and bases:\n%s", errOut.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
				if strings.Contains(line, "warning:") && !strings.Contains(line, "warning: fill in purpose and legal_basis for") {
					t.Errorf("the draft draws another warning: %s", line)
				}
			}
			if strings.Contains(errOut.String(), "@") {
				t.Errorf("the check's output holds an e-mail address:\n%s", errOut.String())
			}
		})
	}
}
