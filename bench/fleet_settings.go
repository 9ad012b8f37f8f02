package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// serverSettings changes MariaDB's global variables for the length of a
// fleet run and puts every one back afterwards, even when the run fails:
// they are the server's, shared with whatever else uses it.
type serverSettings struct {
	admin *sql.DB
	old   []setting // in the order they were first changed
}

type setting struct{ name, value string }

// get returns a global variable's current value.
func (s *serverSettings) get(ctx context.Context, name string) (string, error) {
	var n, v string
	if err := s.admin.QueryRowContext(ctx, "SHOW GLOBAL VARIABLES LIKE '"+name+"'").Scan(&n, &v); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return v, nil
}

// set changes a global variable, remembering its first value for restore.
// name and value come from this package, never from input.
func (s *serverSettings) set(ctx context.Context, name, value string) error {
	old, err := s.get(ctx, name)
	if err != nil {
		return err
	}
	if old == value {
		return nil
	}
	if _, err := s.admin.ExecContext(ctx, "SET GLOBAL "+name+" = "+sqlValue(value)); err != nil {
		return fmt.Errorf("SET GLOBAL %s = %s: %w (the bench's DSN needs SUPER or SYSTEM_VARIABLES_ADMIN)", name, value, err)
	}
	for _, o := range s.old {
		if o.name == name {
			return nil
		}
	}
	s.old = append(s.old, setting{name, old})
	return nil
}

// restore puts back, in reverse order, every variable set changed.
func (s *serverSettings) restore(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var first error
	for i := len(s.old) - 1; i >= 0; i-- {
		o := s.old[i]
		if _, err := s.admin.ExecContext(ctx, "SET GLOBAL "+o.name+" = "+sqlValue(o.value)); err != nil && first == nil {
			first = fmt.Errorf("restore %s to %s: %w; set it back by hand", o.name, o.value, err)
		}
	}
	s.old = nil
	return first
}

// sqlValue writes a variable's value as SET GLOBAL takes it: numbers bare,
// words (ON, OFF) quoted.
func sqlValue(v string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v + "'"
}
