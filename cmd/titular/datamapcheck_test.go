package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/store/storetest"
)

// shopOverDisclosing is the map the issue found drafted on a shop schema:
// customers hung under their store, under the employee who manages it. An
// EXTRACT for that employee returns every customer of the store.
const shopOverDisclosing = `version: 1
subject: {identifiers: [cpf, email]}
entities:
  staff:
    table: staff
    key: [staff_id]
    match: {email: email}
    fields:
      first_name: {category: identificacao, anonymizer: fake.name}
  store:
    table: store
    key: [store_id]
    parent: {entity: staff, on: {manager_staff_id: staff_id}}
    fields:
      address_id: {category: contexto}
  customer:
    table: customer
    key: [customer_id]
    match: {cpf: cpf, email: email}
    parent: {entity: store, on: {store_id: store_id}}
    fields:
      first_name: {category: identificacao, anonymizer: fake.name}
      email:      {category: contato, anonymizer: fake.email}
  rental:
    table: rental
    key: [rental_id]
    parent: {entity: customer, on: {customer_id: customer_id}}
    fields:
      rental_date: {category: comportamental, anonymizer: generalize.month}
`

// TestDatamapCheckRefusesFanOut runs the built binary's `datamap check` on
// the shop schema: the over-disclosing map fails (exit status 1) with the
// number of other people the worst employee's EXTRACT reaches, as
// hand-written SQL counts them, and the fix; the hand-written map of the
// same schema passes, with only warnings.
func TestDatamapCheckRefusesFanOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "titular")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db, dsn := storetest.NewDatabase(t)
	if err := crmtest.Shop().Create(ctx, db); err != nil {
		t.Fatal(err)
	}
	// Every customer is a different person (their own CPF and e-mail), so
	// the people a store's manager reaches are its customers holding an
	// identifier; every store has a manager among the 12 employees, all
	// sampled.
	worst := crmtest.Column[int](t, db, `SELECT COUNT(*) n FROM store st JOIN customer c ON c.store_id = st.store_id
	  WHERE st.manager_staff_id IS NOT NULL AND (c.cpf IS NOT NULL OR c.email IS NOT NULL) GROUP BY st.store_id ORDER BY n DESC LIMIT 1`)
	if len(worst) != 1 || worst[0] < 10 {
		t.Fatalf("shop fixture changed: %v", worst)
	}

	run := func(mapPath string) (stdout, stderr string, code int) {
		t.Helper()
		cfg := filepath.Join(dir, "titular-"+filepath.Base(mapPath)+".yaml")
		writeFile(t, cfg, fmt.Sprintf("state_dir: %q\ntenants:\n  - {id: shop, dsn: %q, datamap: %q}\n", filepath.Join(dir, "state"), dsn, mapPath))
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

	bad := filepath.Join(dir, "over.yaml")
	writeFile(t, bad, shopOverDisclosing)
	stdout, stderr, code := run(bad)
	want := fmt.Sprintf("over.yaml:20: entities.customer.parent: an EXTRACT for one titular reaches the rows of up to %d other people "+
		"(median 0, over 12 sampled titulares of staff) through store, which many people share "+
		"(fix: store is shared context (a branch, a store, a CRM user): remove the parent and give customer its own match, or hang it off the person's own table)",
		worst[0])
	if code == 0 || !strings.Contains(stderr, want) || strings.Contains(stdout, "matches the live schema") {
		t.Errorf("over-disclosing map: exit %d\nstdout:\n%s\nstderr:\n%s\nwant a line:\n%s", code, stdout, stderr, want)
	}
	// rental is reached through customer: one finding, not two.
	if strings.Contains(stderr, "entities.rental") {
		t.Errorf("rental reported besides customer:\n%s", stderr)
	}
	if !strings.Contains(stderr, "warning: fill in purpose and legal_basis for 4 entities: staff, store, customer, rental") {
		t.Errorf("no warning about purposes and bases:\n%s", stderr)
	}
	if strings.Contains(stderr, "@") {
		t.Errorf("the output holds an e-mail address:\n%s", stderr)
	}

	// A map ANONYMIZE would refuse (an e-mail kept as it is) is a warning.
	kept := filepath.Join(dir, "kept.yaml")
	writeFile(t, kept, strings.Replace(shopOverDisclosing, "email:      {category: contato, anonymizer: fake.email}", "email:      {category: contato, anonymizer: keep}", 1))
	if _, stderr, _ = run(kept); !strings.Contains(stderr, "tenant shop: warning: ANONYMIZE requests would be refused: the data map cannot anonymize: customer.email (keep is keyed or partial)") ||
		!strings.Contains(stderr, "fix: give each personal field an irreversible anonymizer") {
		t.Errorf("no warning that ANONYMIZE would be refused:\n%s", stderr)
	}

	stdout, stderr, code = run(filepath.Join(crmtest.Root(), "crm", "crmtest", "testdata", "shop.yaml"))
	if code != 0 || !strings.Contains(stdout, "tenant shop: data map") || !strings.Contains(stdout, "matches the live schema") {
		t.Errorf("hand-written shop map: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Staff are people the customer map does not cover.
	if !strings.Contains(stderr, "table staff: not in the data map") {
		t.Errorf("no table-level coverage warning for staff:\n%s", stderr)
	}
}
