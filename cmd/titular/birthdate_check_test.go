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
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store/storetest"
)

// TestDatamapCheckBirthDate runs the built binary's `datamap check` on the
// seeded demo database: the demo map, whose pessoas.data_nascimento is the
// titular's birth_date, passes; the same map marking a text column as the
// date of birth, or a child entity's date, fails with the path, line and fix.
func TestDatamapCheckBirthDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "titular")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db, dsn := storetest.NewDatabase(t)
	if _, err := seed.Seed(ctx, db, seed.Options{Subjects: 20, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile(filepath.Join(crmtest.Root(), "examples", "realestate", "datamap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const marked = "data_nascimento:  {category: identificacao, anonymizer: generalize.year, correctable: true, validate: date, birth_date: true, label: Data de nascimento}"
	if !strings.Contains(string(demo), marked) {
		t.Fatal("the demo map no longer marks pessoas.data_nascimento as birth_date")
	}
	run := func(name, doc string) (stdout, stderr string, code int) {
		t.Helper()
		mapPath := filepath.Join(dir, name)
		writeFile(t, mapPath, doc)
		cfg := filepath.Join(dir, "titular-"+name)
		writeFile(t, cfg, fmt.Sprintf("state_dir: %q\ntenants:\n  - {id: demo, dsn: %q, datamap: %q}\n", filepath.Join(dir, "state"), dsn, mapPath))
		cmd := exec.CommandContext(ctx, bin, "datamap", "check", "--config", cfg)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			code = exit.ExitCode()
		default:
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}

	if stdout, stderr, code := run("demo.yaml", string(demo)); code != 0 || !strings.Contains(stdout, "matches the live schema") {
		t.Fatalf("the demo map: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// The date of birth moved to the name (VARCHAR).
	onName := strings.Replace(string(demo), marked, strings.Replace(marked, ", birth_date: true", "", 1), 1)
	onName = strings.Replace(onName, "nome:             {category: identificacao, anonymizer: fake.name, correctable: true, label: Nome completo}",
		"nome:             {category: identificacao, anonymizer: fake.name, correctable: true, birth_date: true, label: Nome completo}", 1)
	_, stderr, code := run("on-name.yaml", onName)
	if code == 0 || !strings.Contains(stderr, `entities.pessoa.fields.nome.birth_date: column "nome" is varchar(`) ||
		!strings.Contains(stderr, "not a date") || !strings.Contains(stderr, "fix: mark a DATE, DATETIME or TIMESTAMP column as birth_date") {
		t.Errorf("birth_date on a text column: exit %d\nstderr:\n%s", code, stderr)
	}

	// A second column of the same entity.
	twice := strings.Replace(string(demo), "nome:             {category: identificacao, anonymizer: fake.name, correctable: true, label: Nome completo}",
		"nome:             {category: identificacao, anonymizer: fake.name, correctable: true, birth_date: true, label: Nome completo}", 1)
	if _, stderr, code := run("twice.yaml", twice); code == 0 || !strings.Contains(stderr, `entities.pessoa.fields.data_nascimento.birth_date: entity "pessoa" already names "nome"`) {
		t.Errorf("two birth dates in pessoa: exit %d\nstderr:\n%s", code, stderr)
	}
}
