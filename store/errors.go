package store

import (
	"errors"

	"github.com/titular/titular/internal/sqlq"
)

// Domain errors the store returns; the service maps them to gRPC codes once.
var (
	// ErrNotFound: the row does not exist in this tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change is not allowed in the row's current state.
	ErrConflict = errors.New("conflict")
	// ErrDuplicate: a UNIQUE key already holds the value.
	ErrDuplicate = errors.New("already exists")
)

// IsRetryable reports a deadlock or lock-wait timeout: the transaction may be
// run again from the start.
func IsRetryable(err error) bool { return sqlq.IsRetryable(err) }
