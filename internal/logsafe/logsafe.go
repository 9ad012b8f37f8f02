// Package logsafe describes errors for logs without the data they may
// quote: a MySQL message can echo row values (a CPF in a duplicate key),
// a file or URL error names a path or an address.
package logsafe

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	"github.com/go-sql-driver/mysql"
)

// Error describes err for a log line: a MySQL error by its number only, a
// file or URL error by its operation and cause without the path or
// address, anything else by its text.
func Error(err error) string {
	var me *mysql.MySQLError
	var pe *fs.PathError
	var ue *url.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &me):
		return fmt.Sprintf("database error %d", me.Number)
	case errors.As(err, &pe):
		return pe.Op + ": " + pe.Err.Error()
	case errors.As(err, &ue):
		if ue.Timeout() {
			return ue.Op + ": timeout"
		}
		return ue.Op + ": " + Error(ue.Err)
	}
	return err.Error()
}
