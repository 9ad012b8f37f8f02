package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// seedRandom is the seed's random seed: fixed, so runs compare the same rows.
const seedRandom = 1

// seedMeta records what a kept bench database was seeded with, so a later
// --keep run reuses it only when the sizes match.
type seedMeta struct {
	Subjects  int             `json:"subjects"`
	Heavy     int             `json:"heavy"`
	Seed      int64           `json:"seed"`
	Scenarios []seed.Scenario `json:"scenarios"`
}

// seed fills the tenant database with the demo CRM, or reuses a kept one.
func (e *Env) seed(ctx context.Context) error {
	want := seedMeta{Subjects: e.opts.Subjects, Heavy: e.opts.Heavy, Seed: seedRandom}
	if _, err := e.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_meta (
  id TINYINT NOT NULL PRIMARY KEY, seed_json MEDIUMTEXT NOT NULL) CHARACTER SET utf8mb4`); err != nil {
		return fmt.Errorf("bench_meta: %w", err)
	}
	var raw string
	err := e.db.QueryRowContext(ctx, "SELECT seed_json FROM bench_meta WHERE id = 1").Scan(&raw)
	switch {
	case err == nil:
		var have seedMeta
		if json.Unmarshal([]byte(raw), &have) == nil && have.Subjects == want.Subjects && have.Heavy == want.Heavy && have.Seed == want.Seed {
			e.progress("reusing the seed in %s (%d titulares, heavy %d)", e.dbName, have.Subjects, have.Heavy)
			e.setSubjects(have.Scenarios)
			return nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read bench_meta: %w", err)
	}
	if _, err := e.db.ExecContext(ctx, "DELETE FROM bench_meta"); err != nil {
		return fmt.Errorf("clear bench_meta: %w", err)
	}
	e.progress("seeding %d titulares and a heavy titular with %d rows", e.opts.Subjects, e.opts.Heavy)
	sum, err := seed.Seed(ctx, e.db, seed.Options{Subjects: e.opts.Subjects, Seed: seedRandom, HeavyInteractions: e.opts.Heavy, Reset: true})
	if err != nil {
		return err
	}
	e.progress("seeded in %s", sum.Elapsed.Round(1e6))
	want.Scenarios = sum.Scenarios
	e.setSubjects(sum.Scenarios)
	b, err := json.Marshal(want)
	if err != nil {
		return fmt.Errorf("encode bench_meta: %w", err)
	}
	if _, err := e.db.ExecContext(ctx, "INSERT INTO bench_meta (id, seed_json) VALUES (1, ?)", string(b)); err != nil {
		return fmt.Errorf("write bench_meta: %w", err)
	}
	return nil
}

func (e *Env) setSubjects(scenarios []seed.Scenario) {
	e.subjects = map[string]store.Identifiers{}
	for _, s := range scenarios {
		e.subjects[s.Name] = store.Identifiers{CPF: s.CPF, Email: s.Email, Phone: s.Phone}
	}
}

// loadPool picks ordinary titulares for the concurrent clients: the first
// pessoas, looked up by CPF as a CRM back end would.
func (e *Env) loadPool(ctx context.Context) error {
	rows, err := e.db.QueryContext(ctx, "SELECT cpf FROM pessoas ORDER BY idpessoa LIMIT 256")
	if err != nil {
		return fmt.Errorf("titulares for the concurrent clients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return fmt.Errorf("scan cpf: %w", err)
		}
		if cpf, err := brdoc.NormalizeCPF(raw); err == nil {
			e.pool = append(e.pool, store.Identifiers{CPF: cpf})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("titulares for the concurrent clients: %w", err)
	}
	if len(e.pool) == 0 {
		return errors.New("bench: the seed left no pessoas with a valid CPF")
	}
	return nil
}
