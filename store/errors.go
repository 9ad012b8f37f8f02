package store

import (
	"errors"

	"github.com/go-sql-driver/mysql"
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

// MySQL error numbers we branch on.
const (
	errDupEntry     = 1062
	errNoSuchTable  = 1146
	errLockDeadlock = 1213
	errLockWait     = 1205
)

func mysqlNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func isDuplicate(err error) bool    { return mysqlNumber(err) == errDupEntry }
func isMissingTable(err error) bool { return mysqlNumber(err) == errNoSuchTable }

// IsRetryable reports a deadlock or lock-wait timeout: the transaction may be
// run again from the start.
func IsRetryable(err error) bool {
	n := mysqlNumber(err)
	return n == errLockDeadlock || n == errLockWait
}
