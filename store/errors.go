package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/internal/sqlq"
)

// Domain errors the store returns; the service maps them to gRPC codes once.
var (
	// ErrNotFound: the row does not exist in this tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change is not allowed in the row's current state.
	ErrConflict = errors.New("conflict")
	// ErrIdempotencyKeyReused: the caller's idempotency key already names a
	// request of another kind, titular or body.
	ErrIdempotencyKeyReused = errors.New("idempotency key already used")
	// ErrSubjectBusy: another destructive request of the titular is being
	// processed; retry once it completes.
	ErrSubjectBusy = errors.New("another destructive request of the titular is being processed")
	// ErrDuplicate: a UNIQUE key already holds the value.
	ErrDuplicate = errors.New("already exists")
)

// IsRetryable reports a deadlock or lock-wait timeout: the transaction may be
// run again from the start.
func IsRetryable(err error) bool { return sqlq.IsRetryable(err) }

// transientMySQL are the server errors a retry may cure besides the
// retryable ones (a deadlock, a lock wait timeout): too many connections,
// the server shutting down, a connection killed.
var transientMySQL = map[uint16]bool{1040: true, 1053: true, 1927: true}

// IsTransient reports an error from a database that could not be reached
// or was momentarily busy: the caller should retry in a few seconds, and
// nothing is wrong with the request itself.
func IsTransient(err error) bool {
	var ne *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.As(err, &ne) || IsRetryable(err) || transientMySQL[sqlq.Number(err)]
}
