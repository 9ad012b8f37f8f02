package store

import (
	"slices"
	"testing"
)

// Lines as MariaDB 10.11 and MySQL 8.0 print them.
func TestParseGrants(t *testing.T) {
	t.Parallel()
	type check struct {
		priv, db, table string
		want            bool
	}
	for _, tc := range []struct {
		name      string
		lines     []string
		super     bool
		uncertain bool
		checks    []check
	}{{
		name: "MariaDB root",
		lines: []string{
			"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket WITH GRANT OPTION",
			"GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
		},
		super:  true,
		checks: []check{{"DROP", "acme", "lgpd_ledger_entries", true}, {"TRIGGER", "x", "y", true}},
	}, {
		name: "MySQL 8 root lists its global privileges",
		lines: []string{
			"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, PROCESS, FILE, REFERENCES, INDEX, ALTER, SHOW DATABASES, SUPER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE TABLESPACE, CREATE ROLE, DROP ROLE ON *.* TO `root`@`localhost` WITH GRANT OPTION",
			"GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ABORT_EXEMPT,BACKUP_ADMIN,BINLOG_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `root`@`localhost` WITH GRANT OPTION",
			"GRANT PROXY ON ``@`` TO `root`@`localhost` WITH GRANT OPTION",
		},
		super:  true,
		checks: []check{{"ALTER", "acme", "t", true}, {"CREATE VIEW", "acme", "t", true}, {"SYSTEM_VARIABLES_ADMIN", "", "", true}, {"BINLOG_ADMIN", "acme", "t", true}, {"FLUSH_TABLES", "acme", "t", false}},
	}, {
		name: "database pattern, escaped underscore",
		lines: []string{
			"GRANT USAGE ON *.* TO `titular`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'",
			"GRANT SELECT, INSERT, UPDATE, DELETE ON `crm\\_%`.* TO `titular`@`%`",
		},
		checks: []check{
			{"SELECT", "crm_acme", "customers", true}, {"DELETE", "CRM_Acme", "x", true},
			{"SELECT", "crmXacme", "customers", false}, {"SELECT", "other", "customers", false},
			{"DROP", "crm_acme", "customers", false}, {"USAGE", "crm_acme", "customers", true},
		},
	}, {
		name:  "unescaped underscore is a wildcard",
		lines: []string{"GRANT ALL PRIVILEGES ON `crm_acme`.* TO `m`@`10.0.%`"},
		checks: []check{
			{"TRIGGER", "crm_acme", "t", true}, {"TRIGGER", "crmXacme", "t", true}, {"TRIGGER", "crm_acmeX", "t", false},
		},
	}, {
		name: "table and column grants",
		lines: []string{
			"GRANT USAGE ON *.* TO `titular`@`%`",
			"GRANT SELECT, INSERT ON `acme`.`lgpd_ledger_entries` TO `titular`@`%`",
			"GRANT SELECT (`id`, `email`), UPDATE (`email`) ON `acme`.`customers` TO `titular`@`%`",
			"GRANT EXECUTE ON PROCEDURE `acme`.`p` TO `titular`@`%`",
		},
		checks: []check{
			{"INSERT", "acme", "lgpd_ledger_entries", true}, {"INSERT", "acme", "LGPD_LEDGER_ENTRIES", true},
			{"UPDATE", "acme", "lgpd_ledger_entries", false}, {"SELECT", "acme", "lgpd_requests", false},
			{"UPDATE", "acme", "customers", true}, {"EXECUTE", "acme", "p", false}, {"INSERT", "other", "lgpd_ledger_entries", false},
		},
	}, {
		name: "MySQL 8 partial revoke",
		lines: []string{
			"GRANT SELECT, DROP ON *.* TO `u`@`%`",
			"REVOKE DROP ON `acme`.* FROM `u`@`%`",
		},
		checks: []check{{"DROP", "acme", "t", false}, {"DROP", "other", "t", true}, {"SELECT", "acme", "t", true}},
	}, {
		name: "MySQL 8 role, not expanded",
		lines: []string{
			"GRANT USAGE ON *.* TO `u`@`%`",
			"GRANT `app_rw`@`%`,`app_ro`@`%` TO `u`@`%`",
		},
		uncertain: true,
		checks:    []check{{"SELECT", "acme", "t", false}},
	}, {
		name: "MariaDB current role, expanded",
		lines: []string{
			"GRANT `app` TO `u`@`%`",
			"GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'",
			"GRANT USAGE ON *.* TO `app`",
			"GRANT SELECT, DROP ON `acme`.* TO `app`",
			"SET DEFAULT ROLE `app` FOR `u`@`%`",
		},
		checks: []check{{"DROP", "acme", "t", true}, {"ALTER", "acme", "t", false}},
	}, {
		name:   "quoted names with quotes, old quoting",
		lines:  []string{"GRANT SELECT ON `we``ird`.* TO 'u'@'%'", "GRANT TRIGGER ON `a.b`.`c d` TO 'u'@'%'"},
		checks: []check{{"SELECT", "we`ird", "t", true}, {"TRIGGER", "a.b", "c d", true}, {"TRIGGER", "a", "b", false}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := ParseGrants(tc.lines)
			if got := g.Global("SUPER"); got != tc.super {
				t.Errorf("Global(SUPER) = %v, want %v", got, tc.super)
			}
			if got := g.Uncertain(); got != tc.uncertain {
				t.Errorf("Uncertain() = %v, want %v", got, tc.uncertain)
			}
			for _, c := range tc.checks {
				if got := g.On(c.priv, c.db, c.table); got != c.want {
					t.Errorf("On(%s, %s, %s) = %v, want %v", c.priv, c.db, c.table, got, c.want)
				}
			}
		})
	}
}

func TestGrantsInDatabase(t *testing.T) {
	t.Parallel()
	g := ParseGrants([]string{"GRANT CREATE, INSERT ON `acme`.`lgpd_new` TO `m`@`%`", "GRANT SELECT ON `acme`.* TO `m`@`%`"})
	for priv, want := range map[string]bool{"CREATE": true, "INSERT": true, "SELECT": true, "TRIGGER": false} {
		if got := g.InDatabase(priv, "acme"); got != want {
			t.Errorf("InDatabase(%s, acme) = %v, want %v", priv, got, want)
		}
	}
	if g.InDatabase("CREATE", "other") {
		t.Error("InDatabase(CREATE, other): a table grant of acme counted for another database")
	}
}

func TestLikeMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"acme", "acme", true}, {"acme", "ACME", true}, {"acme", "acm", false}, {"acme", "acmee", false},
		{"%", "", true}, {"%", "anything", true}, {"crm\\_%", "crm_x", true}, {"crm\\_%", "crmxx", false},
		{"crm_%", "crmxx", true}, {"a%b%c", "aXXbYYc", true}, {"a%b%c", "aXXbYY", false}, {"_", "é", true},
		{"t\\%", "t%", true}, {"t\\%", "tx", false}, {"%\\_log", "app_log", true}, {"%\\_log", "applog", false},
	} {
		if got := likeMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestMigrationNeeds(t *testing.T) {
	t.Parallel()
	migs := mustMigrations(t)
	privs, triggers := migrationNeeds(migs, true)
	if want := []string{"SELECT", "INSERT", "CREATE", "ALTER", "INDEX", "DROP", "TRIGGER", "CREATE VIEW"}; !slices.Equal(privs, want) || !triggers {
		t.Errorf("every migration needs %v, triggers %v; want %v, true", privs, triggers, want)
	}
	var leases []Migration
	for _, m := range migs {
		if m.Name == "0006_leases" {
			leases = append(leases, m)
		}
	}
	if len(leases) != 1 {
		t.Fatal("no migration 0006_leases")
	}
	privs, triggers = migrationNeeds(leases, false)
	if want := []string{"SELECT", "INSERT", "CREATE"}; !slices.Equal(privs, want) || triggers {
		t.Errorf("0006_leases needs %v, triggers %v; want %v, false", privs, triggers, want)
	}
}
