package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/store/storetest"
)

// With binary logging on (MySQL 8's default, managed MySQL's with backups),
// the server refuses CREATE TRIGGER from an account without SUPER unless
// log_bin_trust_function_creators is on (error 1419). Migrate finds out
// before it changes anything and says what to do; with the variable on, the
// same account migrates. The shared test server logs no binary, so the test
// starts its own.
func TestMigrate_BinlogTriggersNeedTrustOrSuper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := storetest.StartServer(t, "--log-bin")
	root := srv.Open(t, "")
	for _, db := range []string{"scratch", "tenant", "by_root"} {
		if _, err := root.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
	}
	var logBin, trust int
	if err := root.QueryRowContext(ctx, "SELECT @@log_bin, @@log_bin_trust_function_creators").Scan(&logBin, &trust); err != nil {
		t.Fatal(err)
	}
	if logBin != 1 || trust != 0 {
		t.Fatalf("log_bin = %d, log_bin_trust_function_creators = %d; the private server should log binary and not trust", logBin, trust)
	}
	// Everything on its database, nothing global: no SUPER.
	u := storetest.NewUser(t, srv.DSN("root", "", ""),
		"GRANT ALL PRIVILEGES ON `tenant`.* TO {user}", "GRANT ALL PRIVILEGES ON `scratch`.* TO {user}")

	// The premise: this server refuses the account a trigger.
	scratch := u.Open(t, "scratch")
	if _, err := scratch.ExecContext(ctx, "CREATE TABLE t (a INT)"); err != nil {
		t.Fatal(err)
	}
	_, err := scratch.ExecContext(ctx, "CREATE TRIGGER t_no_delete BEFORE DELETE ON t FOR EACH ROW SIGNAL SQLSTATE '45000'")
	if sqlq.Number(err) != 1419 {
		t.Fatalf("CREATE TRIGGER without SUPER on a binary-logging server = %v; want error 1419", err)
	}

	tenant := u.Open(t, "tenant")
	_, err = Migrate(ctx, tenant)
	var pe *PreflightError
	if !errors.As(err, &pe) || !errors.Is(err, ErrBinlogTriggers) || errors.Is(err, ErrMigratePrivileges) {
		t.Fatalf("Migrate = %v; want a *PreflightError matching ErrBinlogTriggers only", err)
	}
	for _, s := range []string{"nothing was changed", "SET GLOBAL log_bin_trust_function_creators = 1", "parameter group", "SUPER", "1419"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q: %v", s, err)
		}
	}
	if n := countRows(t, root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'tenant'"); n != 0 {
		t.Errorf("the refused migration left %d tables in the tenant database", n)
	}

	// root has SUPER: no refusal, no false alarm.
	if _, err := Migrate(ctx, srv.Open(t, "by_root")); err != nil {
		t.Errorf("Migrate as root (SUPER) on the same server: %v", err)
	}

	if _, err := root.ExecContext(ctx, "SET GLOBAL log_bin_trust_function_creators = 1"); err != nil {
		t.Fatal(err)
	}
	res, err := Migrate(ctx, tenant)
	if err != nil {
		t.Fatalf("Migrate after SET GLOBAL log_bin_trust_function_creators = 1: %v", err)
	}
	if len(res.Applied) != len(mustMigrations(t)) {
		t.Errorf("applied %v; want every migration", res.Applied)
	}
	if n := countRows(t, root, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'tenant'"); n == 0 {
		t.Error("the tenant database has no triggers after the migration")
	}
}
