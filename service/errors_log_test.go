package service

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/titular/titular/tenant"
)

// TestErrorsLogNoRowValues: an internal error, or a tenant's database
// failing, is logged by its MySQL error number: the server's message can
// quote a row's values (here a CPF in a duplicate key), which must never
// reach the log. The caller's status says nothing of it either.
func TestErrorsLogNoRowValues(t *testing.T) {
	const cpf = "529.982.247-25" // synthetic
	dup := &mysql.MySQLError{Number: 1062, Message: "Duplicate entry '" + cpf + "' for key 'uq_cpf'"}
	for name, err := range map[string]error{
		"internal":    fmt.Errorf("correct: %w", dup),
		"unavailable": fmt.Errorf("%w: %w", tenant.ErrUnavailable, dup),
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		st := toStatus(context.Background(), log, "/lgpd.v1.RequestService/CreateRequest", err)
		if strings.Contains(logs.String(), cpf) || strings.Contains(st.Error(), cpf) {
			t.Errorf("%s: the CPF reached the log or the status:\n%s\n%v", name, logs.String(), st)
		}
		if !strings.Contains(logs.String(), "database error 1062") {
			t.Errorf("%s: the log must name the error by number:\n%s", name, logs.String())
		}
		if c := status.Code(st); c != codes.Internal && c != codes.Unavailable {
			t.Errorf("%s: code %s", name, c)
		}
	}
}

// TestUnreachableDatabaseIsUnavailable: a database that does not answer,
// or answers "too many connections", is UNAVAILABLE (retry), not INTERNAL.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	db, err := sql.Open("mysql", "root@tcp("+addr+")/titular?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	refused := db.PingContext(context.Background())
	if refused == nil {
		t.Fatal("a closed port answered")
	}
	for name, err := range map[string]error{
		"connection refused":   fmt.Errorf("list requests: %w", refused),
		"too many connections": fmt.Errorf("claim: %w", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}),
		"deadlock":             &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"},
	} {
		var logs bytes.Buffer
		st := toStatus(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), "/lgpd.v1.RequestService/ListRequests", err)
		if status.Code(st) != codes.Unavailable {
			t.Errorf("%s: %v, want Unavailable", name, st)
		}
		if !strings.Contains(logs.String(), "database unavailable") {
			t.Errorf("%s: not logged as such:\n%s", name, logs.String())
		}
	}
}
