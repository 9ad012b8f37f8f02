package crm_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/seed"
)

// TestAnonymizeCountsRowsChangedNotPlanned: rows that went between the
// walk's snapshot and the writes (an erasure that committed in between)
// are not counted as anonymized. The result counts what the UPDATEs
// changed, not what the snapshot planned.
func TestAnonymizeCountsRowsChangedNotPlanned(t *testing.T) {
	x, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc[seed.ScenarioProspect])
	reach := crmtest.Reach(t, db, m, ids)
	gone := reach["lead_interacao"]
	if gone == 0 || reach["lead"] == 0 {
		t.Fatalf("the scenario should reach leads with interactions: %v", reach)
	}
	plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	var n int
	if err := read.QueryRow("SELECT COUNT(*) FROM lead_interacoes").Scan(&n); err != nil { // the snapshot starts here
		t.Fatal(err)
	}
	// A concurrent erasure removes the interactions and commits.
	e := m.Entity("lead_interacao")
	rows := crmtest.SubjectRows(t, db, m, ids)["lead_interacao"]
	for k := range rows {
		k := k
		var res sql.Result
		if err := inTx(db, func(tx *sql.Tx) error {
			var err error
			res, err = tx.Exec("DELETE FROM lead_interacoes WHERE `"+e.Key[0]+"` = JSON_VALUE(?, '$[0]')", k)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if d, _ := res.RowsAffected(); d != 1 {
			t.Fatalf("deleting interaction %s: %d rows", k, d)
		}
	}
	var res *crm.AnonymizeResult
	if err := inTx(db, func(tx *sql.Tx) error {
		res, err = x.Anonymize(ctx, read, tx, plan, key, ids)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range res.Entities {
		sum += c.Rows
		switch {
		case c.Entity == "lead_interacao" && (c.Rows != 0 || c.Fields != 0):
			t.Errorf("%d interactions (%d values) reported anonymized; the erasure had removed all %d", c.Rows, c.Fields, gone)
		case c.Entity == "lead" && c.Rows != reach["lead"]:
			t.Errorf("%d leads anonymized, want %d", c.Rows, reach["lead"])
		}
	}
	if sum != res.TotalRows {
		t.Errorf("total %d, entities sum to %d", res.TotalRows, sum)
	}
}
