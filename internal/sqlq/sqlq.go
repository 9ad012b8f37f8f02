// Package sqlq holds the small SQL-building and MySQL-error helpers that
// titular's records (store) and the CRM executor (crm) both use. Every value
// still reaches SQL as a bound parameter; names come only from a validated
// data map and are backtick-quoted here.
package sqlq

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// QuoteIdent backtick-quotes a table or column name. Names reach here only
// after data-map validation (letters, digits and '_'); doubling backticks
// keeps it safe even if that ever changed.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// Placeholders returns "?, ?, ?" for n values.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// RowsOf returns n row constructors of cols placeholders each:
// "(?, ?), (?, ?)".
func RowsOf(n, cols int) string {
	if n <= 0 {
		return ""
	}
	row := "(" + Placeholders(cols) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

// JoinQuoted returns "`a`, `b`" for cols.
func JoinQuoted(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = QuoteIdent(c)
	}
	return strings.Join(q, ", ")
}

// KeyIn renders "`k` IN (?, ?)" or, for a composite key, the row constructor
// "(`k1`, `k2`) IN ((?, ?), (?, ?))" matching the given key tuples, and
// returns their values flattened in placeholder order.
func KeyIn(cols []string, keys [][]any) (string, []any) {
	args := make([]any, 0, len(keys)*len(cols))
	for _, k := range keys {
		args = append(args, k...)
	}
	if len(cols) == 1 {
		return QuoteIdent(cols[0]) + " IN (" + Placeholders(len(keys)) + ")", args
	}
	return "(" + JoinQuoted(cols) + ") IN (" + RowsOf(len(keys), len(cols)) + ")", args
}

// Truncate cuts s to at most n bytes.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// MySQL error numbers titular branches on.
const (
	ErrDupEntry     = 1062
	ErrNoSuchTable  = 1146
	ErrLockDeadlock = 1213
	ErrLockWait     = 1205
)

// Number is err's MySQL error number, or 0 when it is not a MySQL error.
func Number(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// IsDuplicate reports a UNIQUE key violation.
func IsDuplicate(err error) bool { return Number(err) == ErrDupEntry }

// IsMissingTable reports a table that does not exist.
func IsMissingTable(err error) bool { return Number(err) == ErrNoSuchTable }

// IsRetryable reports a deadlock or lock-wait timeout: the transaction may be
// run again from the start.
func IsRetryable(err error) bool {
	n := Number(err)
	return n == ErrLockDeadlock || n == ErrLockWait
}
