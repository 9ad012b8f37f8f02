package crmtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
)

// Drafts: the proof of issue #16 runs discovery on each fixture, fills in
// only what a DPO must decide (purposes and legal bases), and holds the
// draft to the same harness as the hand-written maps.

// DraftPurpose and DraftBasis are what FillPurposes writes where a draft
// leaves an entity's purpose or legal basis empty: the DPO's decision,
// stood in for by the tests.
const (
	DraftPurpose = "finalidade_definida_pelo_encarregado"
	DraftBasis   = "execucao_contrato"
)

// Discover surveys db and returns discovery's draft.
func Discover(tb testing.TB, db *sql.DB) *datamap.Draft {
	tb.Helper()
	s, err := crm.Survey(context.Background(), db, crm.SurveyOptions{})
	if err != nil {
		tb.Fatalf("survey: %v", err)
	}
	return datamap.Discover(s)
}

// FillPurposes gives every entity of m without a purpose or a legal basis
// DraftPurpose and DraftBasis, and nothing else: the one edit the issue
// allows a draft before it must pass check.
func FillPurposes(m *datamap.Map) {
	for _, e := range m.Entities {
		if e.Purpose == "" {
			e.Purpose = DraftPurpose
		}
		if e.LegalBasis == "" {
			e.LegalBasis = DraftBasis
		}
	}
}

// DraftMap is discovery's draft for db with purposes and bases filled in,
// written out as a file (kept in the test's temporary directory, and named
// in the log, for a reader to see) and read back as the service reads a map.
func DraftMap(tb testing.TB, db *sql.DB, name string) *datamap.Map {
	tb.Helper()
	d := Discover(tb, db)
	FillPurposes(d.Map)
	out, err := yaml.Marshal(d.Map)
	if err != nil {
		tb.Fatalf("encode draft: %v", err)
	}
	path := filepath.Join(tb.TempDir(), name+"-draft.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%s draft: %d entities, %d unplaced findings (%s)", name, len(d.Map.Entities), len(d.Unplaced), path)
	return LoadMap(tb, path)
}

// DraftSummary describes a map's tree in one line per entity (table,
// parent, match columns): what a reader compares with the hand-written map.
func DraftSummary(m *datamap.Map) []string {
	var out []string
	for _, e := range m.Order() {
		line := e.Name + " (" + e.Table + ")"
		if e.Parent != nil {
			line += " under " + e.Parent.Entity
			for _, on := range e.Parent.On {
				line += fmt.Sprintf(" %s=%s", on.Child, on.Parent)
			}
		}
		for _, mr := range e.Match {
			line += fmt.Sprintf(" match %s=%s", mr.Identifier, mr.Column)
		}
		for _, w := range e.Where {
			line += fmt.Sprintf(" where %s=%s", w.Column, w.Value)
		}
		out = append(out, line)
	}
	return out
}
