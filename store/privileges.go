package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// runtimeNeeds are the privileges serve (and the other commands but
// migrate) uses on each of titular's tables: what the store's statements
// do to them (TestRuntimePrivilegesCoverTheStore keeps it in step). UPDATE
// and DELETE on the append-only tables are left out: their triggers refuse
// them whatever the grants.
var runtimeNeeds = map[string][]string{
	"lgpd_access_log":          {"SELECT", "INSERT"},
	"lgpd_blocks":              {"SELECT", "INSERT", "UPDATE"},
	"lgpd_consents":            {"SELECT", "INSERT", "UPDATE"}, // UPDATE: clearing evidence, which the trigger allows
	"lgpd_consent_current":     {"SELECT", "INSERT", "UPDATE"},
	"lgpd_decision_reviews":    {"SELECT", "INSERT", "UPDATE"},
	"lgpd_export_chunks":       {"SELECT", "INSERT", "DELETE"},
	"lgpd_exports":             {"SELECT", "INSERT", "DELETE"},
	"lgpd_incident_subjects":   {"SELECT", "INSERT"},
	"lgpd_incidents":           {"SELECT", "INSERT", "UPDATE"},
	"lgpd_leases":              {"SELECT", "UPDATE"},
	"lgpd_ledger_checkpoints":  {"SELECT", "INSERT"},
	"lgpd_ledger_cosignatures": {"SELECT", "INSERT"},
	"lgpd_ledger_entries":      {"SELECT", "INSERT"},
	"lgpd_ledger_head":         {"SELECT", "UPDATE"},
	"lgpd_ledger_nodes":        {"SELECT", "INSERT"},
	"lgpd_ledger_pending":      {"SELECT", "INSERT", "DELETE"},
	"lgpd_outbox":              {"SELECT", "INSERT", "UPDATE"}, // UPDATE: clearing a delivered event's encrypted identifiers
	"lgpd_outbox_deliveries":   {"SELECT", "INSERT", "UPDATE"},
	"lgpd_purposes":            {"SELECT", "INSERT", "UPDATE"},
	"lgpd_request_events":      {"SELECT", "INSERT"},
	"lgpd_requests":            {"SELECT", "INSERT", "UPDATE"},
	"lgpd_schema_migrations":   {"SELECT"},
	"lgpd_subject_block_rows":  {"SELECT", "INSERT"},
	"lgpd_subject_blocks":      {"SELECT", "INSERT", "UPDATE"},
	"lgpd_subject_index":       {"SELECT", "INSERT", "UPDATE", "DELETE"}, // UPDATE: merging two references of one person
	"lgpd_subject_locks":       {"SELECT", "INSERT", "UPDATE"},
	"lgpd_subject_merges":      {"SELECT", "INSERT", "UPDATE"},
	"lgpd_terms":               {"SELECT", "INSERT", "UPDATE"},
}

// CRMPrivileges are what titular does to the tables a data map names:
// reads them (access, export), updates them (correct, anonymize) and
// deletes from them (erase). It never inserts into them.
var CRMPrivileges = []string{"SELECT", "UPDATE", "DELETE"}

// RuntimePrivileges returns, per titular table, the privileges serve needs
// on it.
func RuntimePrivileges() map[string][]string {
	out := make(map[string][]string, len(runtimeNeeds))
	for t, p := range runtimeNeeds {
		out[t] = slices.Clone(p)
	}
	return out
}

// UnsafePrivileges are the privileges on titular's tables that the account
// serve runs as should not have: TRIGGER drops the append-only triggers,
// DROP drops tables and allows TRUNCATE (which deletes without firing
// them), ALTER rewrites tables. `titular migrate` needs ALTER and TRIGGER,
// which is why it runs as another account.
var UnsafePrivileges = []string{"ALTER", "DROP", "TRIGGER"}

// PrivilegeGap is privileges the account lacks on some tables.
type PrivilegeGap struct {
	Privileges []string
	Tables     []string
}

// PrivilegeReport is what CheckRuntimePrivileges found.
type PrivilegeReport struct {
	Database string
	// Missing are the privileges serve needs and the account lacks,
	// grouped by privilege list; nil when it has them all.
	Missing []PrivilegeGap
	// Unsafe are the UnsafePrivileges the account has on at least one of
	// titular's tables.
	Unsafe []string
	// Uncertain: the account holds roles whose privileges the server did
	// not list, so a privilege reported missing may come through them.
	Uncertain bool
}

// CheckRuntimePrivileges reads the privileges of db's account on its
// database and compares them with what serve needs on titular's tables and
// on crmTables (the data map's tables), and with UnsafePrivileges.
func CheckRuntimePrivileges(ctx context.Context, db *sql.DB, crmTables []string) (*PrivilegeReport, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("check privileges: %w", err)
	}
	defer conn.Close()
	name, err := sessionDatabase(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("check privileges: %w", err)
	}
	g, err := ReadGrants(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("check privileges: %w", err)
	}
	return runtimeReport(g, name, crmTables), nil
}

func runtimeReport(g *Grants, db string, crmTables []string) *PrivilegeReport {
	r := &PrivilegeReport{Database: db, Uncertain: g.Uncertain()}
	needs := RuntimePrivileges()
	for _, t := range crmTables {
		if _, own := needs[t]; !own {
			needs[t] = CRMPrivileges
		}
	}
	byPrivs := map[string]*PrivilegeGap{}
	var order []string
	for _, t := range slices.Sorted(maps.Keys(needs)) {
		var lack []string
		for _, p := range needs[t] {
			if !g.On(p, db, t) {
				lack = append(lack, p)
			}
		}
		if len(lack) == 0 {
			continue
		}
		k := strings.Join(lack, ", ")
		if byPrivs[k] == nil {
			byPrivs[k] = &PrivilegeGap{Privileges: lack}
			order = append(order, k)
		}
		byPrivs[k].Tables = append(byPrivs[k].Tables, t)
	}
	for _, k := range order {
		r.Missing = append(r.Missing, *byPrivs[k])
	}
	for _, p := range UnsafePrivileges {
		for t := range runtimeNeeds {
			if g.On(p, db, t) {
				r.Unsafe = append(r.Unsafe, p)
				break
			}
		}
	}
	return r
}

// Errors of the check Migrate makes before it changes anything.
var (
	// ErrBinlogTriggers: the server logs binary, log_bin_trust_function_creators
	// is off and the account has no SUPER, so it would refuse CREATE
	// TRIGGER (error 1419) halfway through a migration.
	ErrBinlogTriggers = errors.New("the server would refuse the migration's triggers (binary logging without log_bin_trust_function_creators or SUPER)")
	// ErrMigratePrivileges: the account lacks privileges the pending
	// migrations need.
	ErrMigratePrivileges = errors.New("the account lacks privileges the migrations need")
)

// PreflightError is why Migrate refused to start: the account lacks
// privileges (Missing) or may not create triggers (BinlogTriggers). It
// matches ErrMigratePrivileges and ErrBinlogTriggers with errors.Is.
// Nothing was changed.
type PreflightError struct {
	Database       string
	Missing        []string
	BinlogTriggers bool
}

func (e *PreflightError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("the account lacks %s on database %s, which the pending migrations need: grant them to the account titular migrate runs as (README, \"The database user\")",
			strings.Join(e.Missing, ", "), e.Database))
	}
	if e.BinlogTriggers {
		parts = append(parts, "the server has binary logging on and log_bin_trust_function_creators = 0, and the account has no SUPER privilege: "+
			"it would refuse the ledger's append-only triggers with error 1419; "+
			"run SET GLOBAL log_bin_trust_function_creators = 1 and set it in the server's configuration "+
			"(or the managed database's parameter group) so it outlives a restart, "+
			"or run titular migrate as an account with SUPER")
	}
	return "migrate: nothing was changed: " + strings.Join(parts, "; and ")
}

// Is makes errors.Is match ErrMigratePrivileges and ErrBinlogTriggers.
func (e *PreflightError) Is(target error) bool {
	return (target == ErrMigratePrivileges && len(e.Missing) > 0) || (target == ErrBinlogTriggers && e.BinlogTriggers)
}

// statementNeeds maps a migration statement's opening to the privileges
// MySQL and MariaDB check for it on the database. Statements it does not
// know need nothing here: the server still says.
var statementNeeds = []struct {
	re    *regexp.Regexp
	privs []string
}{
	{triggerDDL, []string{"TRIGGER"}},
	{regexp.MustCompile(`(?i)^\s*create\s+(temporary\s+)?table\b`), []string{"CREATE"}},
	{regexp.MustCompile(`(?i)^\s*(create\s+(unique\s+|fulltext\s+|spatial\s+)?|drop\s+)index\b`), []string{"INDEX"}},
	// ALTER TABLE checks INSERT and CREATE too (it copies into a new table).
	{regexp.MustCompile(`(?i)^\s*alter\s+table\b`), []string{"ALTER", "CREATE", "INSERT"}},
	{regexp.MustCompile(`(?i)^\s*rename\s+table\b`), []string{"ALTER", "DROP", "CREATE", "INSERT"}},
	{regexp.MustCompile(`(?i)^\s*drop\s+table\b`), []string{"DROP"}},
	{regexp.MustCompile(`(?i)^\s*drop\s+view\b`), []string{"DROP"}},
	{regexp.MustCompile(`(?i)^\s*insert\b`), []string{"INSERT"}},
	{regexp.MustCompile(`(?i)^\s*replace\b`), []string{"INSERT", "DELETE"}},
	{regexp.MustCompile(`(?i)^\s*update\b`), []string{"SELECT", "UPDATE"}},
	{regexp.MustCompile(`(?i)^\s*delete\b`), []string{"SELECT", "DELETE"}},
	{regexp.MustCompile(`(?i)^\s*create\s+(or\s+replace\s+)?view\b`), []string{"CREATE VIEW"}},
}

// migrationNeeds lists the privileges pending needs, in a fixed order, and
// whether it creates or drops triggers. Recording each version needs SELECT
// and INSERT on lgpd_schema_migrations, and creating that table CREATE.
func migrationNeeds(pending []Migration, createVersionTable bool) (privs []string, triggers bool) {
	set := map[string]bool{"SELECT": true, "INSERT": true, "CREATE": createVersionTable}
	for _, m := range pending {
		for _, s := range m.Statements {
			for _, n := range statementNeeds {
				if n.re.MatchString(s) {
					for _, p := range n.privs {
						set[p] = true
					}
					break
				}
			}
			triggers = triggers || triggerDDL.MatchString(s)
		}
	}
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "DROP", "TRIGGER", "CREATE VIEW"} {
		if set[p] {
			privs = append(privs, p)
		}
	}
	return privs, triggers
}

// preflight checks, before Migrate changes anything, that conn's account
// may apply pending: the privileges they need on the database, and, when
// they create triggers on a server with binary logging, SUPER or
// log_bin_trust_function_creators (MySQL 8 logs binary by default, and
// managed MySQL does for backups). A server that cannot answer (an engine
// without SHOW GRANTS) or an account with roles the server does not expand
// is let through: the statements run and the server refuses what it must.
func preflight(ctx context.Context, conn *sql.Conn, pending []Migration, createVersionTable bool) error {
	need, triggers := migrationNeeds(pending, createVersionTable)
	db, err := sessionDatabase(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	g, gerr := ReadGrants(ctx, conn)
	if ctx.Err() != nil {
		return fmt.Errorf("migrate: %w", ctx.Err())
	}
	if gerr != nil || g.Uncertain() {
		return nil //nolint:nilerr // the server cannot tell: the migration runs and the server has the last word
	}
	e := &PreflightError{Database: db}
	for _, p := range need {
		if !g.InDatabase(p, db) {
			e.Missing = append(e.Missing, p)
		}
	}
	if triggers && !g.Global("SUPER") {
		var logBin, trust sql.NullInt64
		err := conn.QueryRowContext(ctx, "SELECT @@log_bin, @@log_bin_trust_function_creators").Scan(&logBin, &trust)
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("migrate: %w", ctx.Err())
		case err == nil && logBin.Int64 == 1 && trust.Int64 == 0:
			e.BinlogTriggers = true
		}
	}
	if len(e.Missing) > 0 || e.BinlogTriggers {
		return e
	}
	return nil
}
