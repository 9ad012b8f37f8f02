package service

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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
