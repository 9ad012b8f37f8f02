package storetest

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// A database that MariaDB cannot drop because of a stray .TRG- backup in
// its directory is still dropped at the end of its test.
func TestDropRemovesStrayTriggerBackup(t *testing.T) {
	var name, datadir string
	t.Run("leave a stray backup", func(t *testing.T) {
		db, _ := NewDatabase(t)
		if err := db.QueryRow("SELECT DATABASE(), @@datadir").Scan(&name, &datadir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(datadir, name)); err != nil {
			t.Skipf("the server's data directory is not on this machine (%v): nothing to remove by hand", err)
		}
		if err := os.WriteFile(filepath.Join(datadir, name, "lgpd_consents.TRG-"), []byte("TYPE=TRIGGERS\n"), 0o600); err != nil {
			t.Skipf("cannot write into the server's data directory: %v", err)
		}
	})
	admin, err := sql.Open("mysql", DSN(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var found string
	err = admin.QueryRow("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&found)
	if err != sql.ErrNoRows {
		t.Fatalf("database %s still there after its test (err %v)", name, err)
	}
}
