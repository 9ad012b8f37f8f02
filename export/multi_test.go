package export

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestMulti(t *testing.T) {
	fx := newFixture()
	var jsonOut, xlsxOut bytes.Buffer
	if err := feed(Multi(NewJSON(&jsonOut), NewXLSX(&xlsxOut)), fx); err != nil {
		t.Fatalf("feed: %v", err)
	}
	var alone bytes.Buffer
	if err := feed(NewJSON(&alone), fx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jsonOut.Bytes(), alone.Bytes()) {
		t.Error("JSON through Multi differs from JSON alone")
	}
	f, err := excelize.OpenReader(&xlsxOut)
	if err != nil {
		t.Fatalf("reopening workbook: %v", err)
	}
	defer func() { _ = f.Close() }()
	if got := f.GetSheetList(); len(got) != 3 || got[0] != "Resumo" || got[1] != "Seus dados" { // the small entities share a sheet
		t.Errorf("sheets = %q", got)
	}
	rows, err := f.GetRows("Leads contatos interesse site")
	if err != nil || len(rows) != manyRows+1 {
		t.Errorf("lead rows = %d, %v", len(rows), err)
	}
}

func TestMultiErrors(t *testing.T) {
	fx := newFixture()
	// The second writer's stream fails: the error surfaces and names it.
	var ok bytes.Buffer
	err := feed(Multi(NewJSON(&ok), NewJSON(failingWriter{})), fx)
	if !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want the failing writer's error", err)
	}
	// Close reaches every writer and reports each failure.
	m := Multi(NewJSON(&ok), NewXLSX(&ok))
	err = m.Close()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 || !errors.Is(err, ErrCallOrder) {
		t.Errorf("Close = %v, want both writers' call-order errors", err)
	}
	if got := Multi().Begin(fx.meta); got != nil {
		t.Errorf("empty Multi: %v", got)
	}
}
