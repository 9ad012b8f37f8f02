package store

import (
	"testing"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/store/storetest"
)

// The CRM leaves blocked rows out by anti-joining lgpd_blocked_rows, as the
// README shows, with an account that may read that view and its own tables
// but not lgpd_blocks.
func TestBlockedRowsViewForTheCRM(t *testing.T) {
	s, db, m, sc := seeded(t)
	buyer := idsOf(sc["comprador_2023"])
	res, err := deleteSubject(t, s, m, buyer)
	if err != nil {
		t.Fatal(err)
	}
	var saleKey, personKey string
	for _, b := range res.Blocks {
		switch b.Entity {
		case "reserva":
			saleKey = b.RowKey
		case "pessoa":
			personKey = b.RowKey
		}
	}
	sale, err := crm.ParseRowKey(saleKey)
	if err != nil || len(sale) != 1 {
		t.Fatalf("sale block key %q: %v", saleKey, err)
	}
	name := databaseName(t, db)
	crmUser := storetest.NewUser(t, storetest.DSN(t, ""),
		"GRANT SELECT ON `"+name+"`.`reservas` TO {user}",
		"GRANT SELECT ON `"+name+"`.`pessoas` TO {user}",
		"GRANT SELECT ON `"+name+"`.`lgpd_blocked_rows` TO {user}")
	crmDB := crmUser.Open(t, name)
	// The README's query: sales the CRM may still use.
	const usable = "SELECT COUNT(*) FROM reservas r WHERE NOT EXISTS (SELECT 1 FROM lgpd_blocked_rows b " +
		"WHERE b.table_name = 'reservas' AND b.row_id = r.idreserva)"
	all := countRows(t, db, "SELECT COUNT(*) FROM reservas")
	blocked := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE table_name = 'reservas' AND released_at IS NULL")
	if blocked == 0 {
		t.Fatal("the buyer's DELETE blocked no sale")
	}
	if got := countRows(t, crmDB, usable); got != all-blocked {
		t.Errorf("the CRM sees %d usable sales, want %d of %d", got, all-blocked, all)
	}
	if got := countRows(t, crmDB, usable+" AND r.idreserva = ?", sale[0]); got != 0 {
		t.Error("the held sale is not excluded by the anti-join")
	}
	// Each blocked row says until when, and why; the buyer's record too.
	for _, k := range []struct{ table, key string }{{"reservas", saleKey}, {"pessoas", personKey}} {
		var basis string
		var until time.Time
		if err := crmDB.QueryRow("SELECT basis, blocked_until FROM lgpd_blocked_rows WHERE table_name = ? AND row_key = ?", k.table, k.key).
			Scan(&basis, &until); err != nil {
			t.Fatalf("%s %s in lgpd_blocked_rows: %v", k.table, k.key, err)
		}
		if basis == "" || until.IsZero() {
			t.Errorf("%s %s: basis %q until %s", k.table, k.key, basis, until)
		}
	}
	// The view is all the CRM reads of titular: not lgpd_blocks itself.
	if _, err := crmDB.Exec("SELECT subject_ref FROM lgpd_blocks"); err == nil {
		t.Error("the CRM account reads lgpd_blocks; the view should be enough")
	}
	// A released row leaves the view.
	if _, err := db.Exec("UPDATE lgpd_blocks SET released_at = UTC_TIMESTAMP(6) WHERE table_name = 'reservas' AND row_key = ?", saleKey); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, crmDB, "SELECT COUNT(*) FROM lgpd_blocked_rows WHERE table_name = 'reservas' AND row_key = ?", saleKey); got != 0 {
		t.Error("a released row is still listed as blocked")
	}
}
