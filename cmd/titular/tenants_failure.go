package main

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/store"
)

// failure is why a tenant failed, in one line without secrets: where (the
// step), what went wrong and, when known, how to fix it.
type failure struct{ where, what, fix string }

func (f failure) String() string {
	s := f.what
	if f.where != "" {
		s = f.where + ": " + s
	}
	if f.fix != "" {
		s += "; " + f.fix
	}
	return s
}

// classify describes err for an operator. Driver and network errors are
// named by their number or kind only: their text may carry the DSN's user
// (MySQL's "Access denied for user 'x'@'host'") or the DSN itself.
func classify(err error) failure {
	var me *mysql.MySQLError
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &me):
		return mysqlFailure(me)
	case errors.Is(err, store.ErrMigrationLocked):
		return failure{what: "another titular is migrating this database", fix: "run titular migrate again once it is done"}
	case errors.Is(err, context.Canceled):
		return failure{what: "interrupted before it finished"}
	case errors.Is(err, context.DeadlineExceeded):
		return failure{what: "no answer in time", fix: "check that the server is up and reachable from here"}
	case errors.As(err, &dnsErr):
		return failure{what: "host name not found", fix: "check the host in the DSN"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure{what: "connection refused", fix: "check the DSN's host:port and that the server runs"}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return failure{what: "network unreachable", fix: "check the route to the server"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, driver.ErrBadConn):
		return failure{what: "connection lost", fix: "run the command again; if it persists, check the server's log"}
	case errors.As(err, &netErr) && netErr.Timeout():
		return failure{what: "network timeout", fix: "check that the server is up and reachable from here"}
	case errors.As(err, &netErr):
		return failure{what: "network error", fix: "check the DSN's host:port"}
	}
	// titular's own messages, which name no secret; redacted all the same in
	// case one quotes a DSN.
	return failure{what: redactDSN(oneLine(err.Error()))}
}

// mysqlFailure names a server error by number and SQLSTATE, with what to do
// for the ones an operator meets; never the server's message.
func mysqlFailure(me *mysql.MySQLError) failure {
	what := fmt.Sprintf("MySQL error %d", me.Number)
	if me.SQLState != [5]byte{} {
		what += fmt.Sprintf(" (SQLSTATE %s)", me.SQLState[:])
	}
	if h, ok := mysqlHints[me.Number]; ok {
		return failure{what: what + ": " + h.what, fix: h.fix}
	}
	return failure{what: what}
}

var mysqlHints = map[uint16]struct{ what, fix string }{
	1044: {"access denied to the database", "grant the DSN's account access to it"},
	1045: {"access denied", "check the user and password of the DSN"},
	1698: {"access denied", "check the user and password of the DSN"},
	1049: {"unknown database", "create it or fix the database name in the DSN"},
	1040: {"too many connections", "lower --concurrency or raise the server's max_connections"},
	1203: {"too many connections for the account", "lower --concurrency or raise the account's limit"},
	1129: {"host blocked by the server", "run FLUSH HOSTS on the server"},
	1130: {"this host may not connect", "grant the account access from this host"},
	1142: {"a privilege is missing", "migrating needs SELECT, INSERT, CREATE, ALTER, INDEX and TRIGGER on the tenant database, serving SELECT, INSERT, UPDATE and DELETE (README: The database user)"},
	1227: {"a privilege is missing", "creating triggers with binary logging on needs SUPER or log_bin_trust_function_creators = 1"},
	1419: {"a privilege is missing", "creating triggers with binary logging on needs SUPER or log_bin_trust_function_creators = 1"},
	1146: {"a table is missing", "run titular migrate"},
	1205: {"lock wait timeout", "run the command again"},
	1213: {"deadlock", "run the command again"},
}

// dsnPattern matches a DSN (user:password@tcp(host:port)/db) or any
// user:password@ in a message.
var dsnPattern = regexp.MustCompile(`\S*@(tcp|tcp6|unix)?\([^)]*\)\S*|\S+:\S*@\S+`)

func redactDSN(s string) string { return dsnPattern.ReplaceAllString(s, "<DSN>") }

// oneLine folds a multi-line message (errors.Join, YAML errors) into one.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// withoutTenant drops the "tenant ID: " the tenant package prefixes, since
// every line of the fleet commands already names its tenant.
func withoutTenant(id, s string) string { return strings.TrimPrefix(s, "tenant "+id+": ") }
