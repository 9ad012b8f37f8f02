package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/inventory"
)

// runDatamapInventory writes the record of processing operations (LGPD
// Art. 37) of a tenant's data map, or of a data map file alone, as XLSX or
// CSV by the extension of --out. It reads no database.
func runDatamapInventory(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("datamap inventory", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file; with --tenant, the record names the tenant's controller and DPO")
	tenantID := fs.String("tenant", "", "tenant id in --config")
	mapPath := fs.String("datamap", "", "a data map file alone (instead of --config and --tenant); controller and DPO read \""+config.NotInformed+"\"")
	out := fs.String("out", "", "file to write: NAME.xlsx or NAME.csv (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	format := strings.ToLower(filepath.Ext(*out))
	if *out == "" || (format != ".xlsx" && format != ".csv") {
		return errors.New("--out FILE.xlsx or --out FILE.csv is required: the extension picks the format")
	}
	var tc config.Tenant
	switch {
	case *mapPath != "" && (*cfgPath != "" || *tenantID != ""):
		return errors.New("give either --datamap FILE, or --config FILE --tenant ID, not both")
	case *mapPath != "":
		tc.Datamap = *mapPath
	case *cfgPath == "" || *tenantID == "":
		return errors.New("give --config FILE --tenant ID (or --datamap FILE for a data map alone)")
	default:
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		var ok bool
		if tc, ok = cfg.Tenant(*tenantID); !ok {
			return fmt.Errorf("--tenant %s: no such tenant in %s; run titular tenants list --config %s", *tenantID, *cfgPath, *cfgPath)
		}
	}
	m, err := datamap.Load(tc.Datamap)
	if err != nil {
		return fmt.Errorf("data map %s: %w", tc.Datamap, err)
	}
	rec := inventory.Build(m, tc, time.Now())
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	write := inventory.WriteXLSX
	if format == ".csv" {
		write = inventory.WriteCSV
	}
	if err := write(f, rec); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the record of processing (%d entries) to %s\n", len(rec.Entries), *out)
	return nil
}
