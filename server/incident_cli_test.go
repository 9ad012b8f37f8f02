package server

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
)

// TestIncidentCLI runs `titular incident create|notify|list|show` against a
// served tenant: the titulares come from a file (never the command line),
// resolve to the references the service gives them, and the register
// records the ANPD's protocol.
func TestIncidentCLI(t *testing.T) {
	env := newTestEnv(t, 20)
	buyer := env.scenario(t, "comprador_2023")
	pep := env.scenario(t, "pep")
	dir := t.TempDir()
	subjects := filepath.Join(dir, "afetados.txt")
	if err := os.WriteFile(subjects, []byte("# titulares do incidente\ncpf="+brdoc.FormatCPF(buyer.CPF)+"\nemail="+pep.Email+"; cpf="+pep.CPF+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(env.cfg.Dir, "titular.yaml")
	incident := func(args ...string) (string, error) {
		var out strings.Builder
		err := runCLI(t, &out, append(append([]string{"incident"}, args[0], "--config", cfg, "--tenant", "demo", "--log-format", "text"), args[1:]...)...)
		return out.String(), err
	}
	known := time.Now().Add(-30 * time.Minute).Format(time.RFC3339)
	out, err := incident("create", "--title", "Acesso indevido ao CRM", "--description", "Credencial de corretor usada por terceiro.",
		"--notice", "Um terceiro acessou seus dados de contato no CRM.", "--known-at", known, "--categories", "identificacao,contato",
		"--measures", "Credencial revogada.", "--risk-assessment", "Risco de phishing.", "--relevant-risk",
		"--dpo-contact", "dpo@incorporadora.example.com", "--subjects-file", subjects)
	t.Logf("incident create:\n%s", out)
	id := regexp.MustCompile(`incident ([0-9a-f-]{36}) registered: 2 titulares affected`).FindStringSubmatch(out)
	if err != nil || id == nil {
		t.Fatalf("incident create: %v\n%s", err, out)
	}
	db := env.demoDB(t)
	confirm := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": pep.Email}})
	if refs := incidentRefs(t, db, id[1]); len(refs) != 2 || !slices.Contains(refs, confirm.SubjectRef) {
		t.Errorf("the CLI's incident holds %v; want 2 references, the PEP's %s among them", refs, confirm.SubjectRef)
	}
	var by string
	if err := db.QueryRow("SELECT created_by FROM lgpd_incidents WHERE id = ?", id[1]).Scan(&by); err != nil || by != "titular incident (CLI)" {
		t.Errorf("created_by %q (%v)", by, err)
	}

	out, err = incident("notify", "--id", id[1], "--target", "anpd", "--protocol", "00261.000777/2026-01")
	if err != nil || !strings.Contains(out, "protocol 00261.000777/2026-01, on time: true") {
		t.Errorf("incident notify: %v\n%s", err, out)
	}
	if _, err := incident("notify", "--id", id[1], "--target", "anpd", "--protocol", "again"); err == nil || !strings.Contains(err.Error(), "already recorded") {
		t.Errorf("a second ANPD notification: %v", err)
	}
	out, err = incident("list")
	if err != nil || !strings.Contains(out, id[1]) || !strings.Contains(out, "anpd:yes titulares:no") {
		t.Errorf("incident list: %v\n%s", err, out)
	}
	out, err = incident("show", "--id", id[1])
	if err != nil || !strings.Contains(out, "titulares affected: 2") || !strings.Contains(out, "categories: identificacao, contato") {
		t.Errorf("incident show: %v\n%s", err, out)
	}
	if _, err := incident("create", "--title", "x"); err == nil || !strings.Contains(err.Error(), "--known-at is required") {
		t.Errorf("create without --known-at: %v", err)
	}

	// The CLI's leaves join the tenant's tree, which still verifies.
	waitFor(t, "the incident's leaves integrated", func() bool {
		var pending int
		if err := db.QueryRow("SELECT COUNT(*) FROM lgpd_ledger_pending").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0
	})
	if leaves := incidentLeaves(t, db, id[1]); len(leaves) != 2 {
		t.Errorf("the incident has %d ledger leaves, want registered and ANPD notified", len(leaves))
	}
	var buf strings.Builder
	if err := runCLI(t, &buf, "ledger", "verify", "--config", cfg, "--tenant", "demo"); err != nil {
		t.Errorf("ledger verify: %v\n%s", err, buf.String())
	}
}
