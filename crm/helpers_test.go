package crm_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/seed"
)

// seeded returns an executor whose clock is crmtest.Clock, over a fresh
// database holding the seeded demo CRM, with the demo map and scenarios.
func seeded(t *testing.T) (*crm.Executor, *sql.DB, *datamap.Map, map[string]seed.Scenario) {
	t.Helper()
	db, m, sc := crmtest.Seeded(t, seed.Options{Subjects: 120, Seed: 9})
	return crm.New(func() time.Time { return crmtest.Clock }), db, m, sc
}

// inTx runs fn in a transaction on db, committing when it returns nil.
func inTx(db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// discardSink drops a walk's rows: its counts are all the test wants.
type discardSink struct{}

func (discardSink) BeginEntity(*datamap.Entity) error      { return nil }
func (discardSink) Row([]any) error                        { return nil }
func (discardSink) EndEntity(*datamap.Entity, int64) error { return nil }
