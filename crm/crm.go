// Package crm is titular's executor for the CRM's own tables: it finds a
// titular's rows through the data map (walk), reads them for CONFIRM and
// EXTRACT, and deletes, anonymizes and corrects them, and it surveys a
// schema for a draft data map (discover). It runs in its caller's
// transaction and returns what it did; it writes none of titular's own
// records (requests, blocks, ledger, outbox, exports, subject index): the
// service records them from the result, in the same transaction, through
// package store.
//
// Every value reaches SQL as a bound parameter; table and column names come
// only from a validated data map and are backtick-quoted.
package crm

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Querier is what both *sql.DB and *sql.Tx offer: the executor runs on the
// caller's transaction (store.Tx.CRM) or, for reads, a snapshot.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ErrDuplicate is a new value that would duplicate a UNIQUE key of the CRM.
var ErrDuplicate = errors.New("already exists")

// Executor runs the changes that depend on the time (retention holds are
// running or not) with one clock.
type Executor struct {
	now func() time.Time
	// failpoint, when set by a test, runs between the statements of a
	// multi-statement change and may fail it, to prove all-or-nothing.
	failpoint func(step string) error
}

// New returns an executor reading the time from now (the records store's
// clock, so holds and the records of them agree).
func New(now func() time.Time) *Executor { return &Executor{now: now} }

// WithFailpoint returns a copy of x that runs f between the statements of
// a multi-statement change ("anonymized:<entity>", "delete:<entity>"); an
// error from f fails the change there. Tests use it to prove that a crash
// midway leaves nothing half done.
func (x *Executor) WithFailpoint(f func(step string) error) *Executor {
	c := *x
	c.failpoint = f
	return &c
}

func (x *Executor) fail(step string) error {
	if x.failpoint == nil {
		return nil
	}
	return x.failpoint(step)
}

// Identifiers are a titular's normalized identifiers (personal data).
type Identifiers struct {
	CPF   string `json:"cpf,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Empty reports whether no identifier is set.
func (i Identifiers) Empty() bool { return i.CPF == "" && i.Email == "" && i.Phone == "" }

// Get returns the identifier of the given kind ("cpf", "email", "phone").
func (i Identifiers) Get(kind string) string {
	switch kind {
	case "cpf":
		return i.CPF
	case "email":
		return i.Email
	case "phone":
		return i.Phone
	}
	return ""
}

// EntityCount is how many rows of one entity a request touched.
type EntityCount struct {
	Entity string `json:"entity"`
	Rows   int64  `json:"rows"`
}

// Reason explains a denial, partial fulfilment or failure.
type Reason struct {
	Code           string     `json:"code"`
	Message        string     `json:"message"`
	LegalReference string     `json:"legal_reference,omitempty"`
	Entity         string     `json:"entity,omitempty"`
	Until          *time.Time `json:"until,omitempty"`
}
