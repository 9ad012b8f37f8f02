package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// digitsOnly normalizes a stored CPF or phone to its digits.
func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normPhone turns any stored phone shape into E.164.
func normPhone(s string) string {
	d := digitsOnly(s)
	if len(d) == 10 || len(d) == 11 {
		d = "55" + d
	}
	return "+" + d
}

// validCPF re-checks the digits with the textbook loop, independently of
// cpfFromBase.
func validCPF(s string) bool {
	if len(s) != 11 || strings.Count(s, s[:1]) == 11 {
		return false
	}
	for _, n := range []int{9, 10} {
		sum := 0
		for i := range n {
			sum += int(s[i]-'0') * (n + 1 - i)
		}
		dv := (sum * 10) % 11 % 10
		if int(s[n]-'0') != dv {
			return false
		}
	}
	return true
}

var (
	e164Re   = regexp.MustCompile(`^\+55[1-9][1-9](9[0-9]{8}|[2-5][0-9]{7})$`)
	reserved = regexp.MustCompile(`@(example\.(com|org|net)|[a-z0-9-]+\.invalid)$`)
)

func distinct(ss []string) int { return len(slices.Compact(slices.Sorted(slices.Values(ss)))) }

func seedDB(t *testing.T, opts Options) (*sql.DB, *Summary) {
	t.Helper()
	db := newDB(t)
	s, err := Seed(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return db, s
}

func TestSeedScenarios(t *testing.T) {
	db, sum := seedDB(t, Options{Subjects: 400, Seed: 7, HeavyInteractions: 60})
	byName := map[string]Scenario{}
	for _, s := range sum.Scenarios {
		byName[s.Name] = s
		if !validCPF(s.CPF) {
			t.Errorf("%s: CPF fails the check digits", s.Name)
		}
		if s.Email != strings.ToLower(s.Email) || (s.Email != "" && !reserved.MatchString(s.Email)) {
			t.Errorf("%s: e-mail not lower-case at a reserved domain", s.Name)
		}
		if s.Phone != "" && !e164Re.MatchString(s.Phone) {
			t.Errorf("%s: phone is not E.164 +55", s.Name)
		}
	}
	want := []string{ScenarioConsentOnlyLead, ScenarioProspect, ScenarioBuyer2023, ScenarioDistrato, ScenarioMinor,
		ScenarioPEP, ScenarioBrokerTitular, ScenarioSameCPF, ScenarioCPFInText, ScenarioHeavyBroker}
	for _, name := range want {
		if _, ok := byName[name]; !ok {
			t.Fatalf("scenario %s missing from the summary", name)
		}
	}
	if len(sum.Scenarios) != len(want) {
		t.Errorf("got %d scenarios, want %d", len(sum.Scenarios), len(want))
	}

	// Lookups as the store will do them: CPF by its digits, e-mail through
	// the case-insensitive collation, phone by normalizing.
	cpfIn := func(table, col, cpf string) int {
		return count(t, db, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE REPLACE(REPLACE(%s, '.', ''), '-', '') = ?", table, col), cpf)
	}
	pessoa := func(cpf string) int {
		var id int
		if err := db.QueryRow("SELECT idpessoa FROM pessoas WHERE REPLACE(REPLACE(cpf, '.', ''), '-', '') = ?", cpf).Scan(&id); err != nil {
			t.Fatalf("pessoa by CPF: %v", err)
		}
		return id
	}
	expect := func(name, what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %d, want %d", name, what, got, want)
		}
	}

	s := byName[ScenarioConsentOnlyLead]
	expect(s.Name, "pessoas", cpfIn("pessoas", "cpf", s.CPF), 0)
	expect(s.Name, "leads by e-mail without pessoa", count(t, db, "SELECT COUNT(*) FROM leads WHERE email = ? AND idpessoa IS NULL", s.Email), 1)
	expect(s.Name, "consentimentos", count(t, db, "SELECT COUNT(*) FROM consentimentos c JOIN leads l USING (idlead) WHERE l.email = ?", s.Email), 3)
	expect(s.Name, "reservas", cpfIn("reservas", "cliente_cpf", s.CPF), 0)

	s = byName[ScenarioProspect]
	id := pessoa(s.CPF)
	expect(s.Name, "leads of pessoa", count(t, db, "SELECT COUNT(*) FROM leads WHERE idpessoa = ?", id), 1)
	expect(s.Name, "reservas", count(t, db, "SELECT COUNT(*) FROM reservas WHERE idpessoa = ?", id), 0)
	expect(s.Name, "documentos", count(t, db, "SELECT COUNT(*) FROM documentos WHERE idpessoa = ?", id), 0)

	s = byName[ScenarioBuyer2023]
	id = pessoa(s.CPF)
	expect(s.Name, "spouse linked both ways", count(t, db,
		"SELECT COUNT(*) FROM pessoas a JOIN pessoas b ON b.idpessoa = a.idconjuge AND b.idconjuge = a.idpessoa WHERE a.idpessoa = ?", id), 1)
	expect(s.Name, "2023 sale", count(t, db, "SELECT COUNT(*) FROM reservas WHERE idpessoa = ? AND status = 'vendida' AND YEAR(data_venda) = 2023", id), 1)
	expect(s.Name, "spouse in reserva_associados", count(t, db,
		"SELECT COUNT(*) FROM reserva_associados ra JOIN reservas r USING (idreserva) JOIN pessoas p ON p.idpessoa = r.idpessoa "+
			"WHERE r.idpessoa = ? AND ra.tipo = 'conjuge' AND ra.idpessoa = p.idconjuge", id), 1)
	expect(s.Name, "repasses", count(t, db, "SELECT COUNT(*) FROM repasses JOIN reservas USING (idreserva) WHERE idpessoa = ?", id), 1)
	expect(s.Name, "signed contract", count(t, db,
		"SELECT COUNT(*) FROM documentos WHERE idpessoa = ? AND tipo = 'contrato_compra_venda' AND assinado = 1 AND idreserva IS NOT NULL", id), 1)

	s = byName[ScenarioDistrato]
	id = pessoa(s.CPF)
	expect(s.Name, "distratada with dates", count(t, db,
		"SELECT COUNT(*) FROM reservas WHERE idpessoa = ? AND status = 'distratada' AND data_venda IS NOT NULL AND data_distrato > data_venda", id), 1)

	s = byName[ScenarioMinor]
	id = pessoa(s.CPF)
	expect(s.Name, "menor flag", count(t, db, "SELECT COUNT(*) FROM pessoas WHERE idpessoa = ? AND menor = 1 AND email IS NULL", id), 1)
	expect(s.Name, "dependente", count(t, db, "SELECT COUNT(*) FROM reserva_associados WHERE idpessoa = ? AND tipo = 'dependente'", id), 1)
	if s.Email != "" || s.Phone != "" {
		t.Errorf("%s: a minor has no e-mail or phone", s.Name)
	}

	s = byName[ScenarioPEP]
	expect(s.Name, "pep flag", count(t, db, "SELECT COUNT(*) FROM pessoas WHERE idpessoa = ? AND pep = 1", pessoa(s.CPF)), 1)

	s = byName[ScenarioBrokerTitular]
	expect(s.Name, "corretores", cpfIn("corretores", "cpf", s.CPF), 1)
	expect(s.Name, "usuarios", cpfIn("usuarios", "cpf", s.CPF), 1)
	expect(s.Name, "leads without pessoa", count(t, db,
		"SELECT COUNT(*) FROM leads WHERE REPLACE(REPLACE(cpf, '.', ''), '-', '') = ? AND idpessoa IS NULL", s.CPF), 1)
	expect(s.Name, "pessoas", cpfIn("pessoas", "cpf", s.CPF), 0)
	expect(s.Name, "corretor by e-mail", count(t, db, "SELECT COUNT(*) FROM corretores WHERE email = ?", s.Email), 1)

	s = byName[ScenarioSameCPF]
	var names, cpfs []string
	for _, q := range []string{
		"SELECT nome, cpf FROM pessoas WHERE REPLACE(REPLACE(cpf, '.', ''), '-', '') = ?",
		"SELECT nome, cpf FROM leads WHERE REPLACE(REPLACE(cpf, '.', ''), '-', '') = ?",
		"SELECT cliente_nome, cliente_cpf FROM reservas WHERE REPLACE(REPLACE(cliente_cpf, '.', ''), '-', '') = ?",
	} {
		var n, c string
		if err := db.QueryRow(q, s.CPF).Scan(&n, &c); err != nil {
			t.Fatalf("%s: %s: %v", s.Name, q, err)
		}
		names, cpfs = append(names, n), append(cpfs, c)
	}
	if distinct(names) != 3 {
		t.Errorf("%s: names not spelled three ways: %q", s.Name, names)
	}
	if distinct(cpfs) != 3 {
		t.Errorf("%s: CPF not stored in three shapes", s.Name)
	}

	s = byName[ScenarioCPFInText]
	id = pessoa(s.CPF)
	expect(s.Name, "CPF in free text of own lead", count(t, db,
		"SELECT COUNT(*) FROM lead_interacoes i JOIN leads l USING (idlead) WHERE l.idpessoa = ? AND i.descricao LIKE ?",
		id, "%"+formatCPF(s.CPF, cpfDotted)+"%"), 1)
	expect(s.Name, "CPF in free text anywhere", count(t, db,
		"SELECT COUNT(*) FROM lead_interacoes WHERE descricao LIKE ? OR descricao LIKE ?",
		"%"+formatCPF(s.CPF, cpfDotted)+"%", "%"+s.CPF+"%"), 2)

	s = byName[ScenarioHeavyBroker]
	expect(s.Name, "interactions", count(t, db,
		"SELECT COUNT(*) FROM lead_interacoes i JOIN corretores c USING (idcorretor) WHERE c.email = ?", s.Email), 60)
}

func TestSeedSubjectsAndRows(t *testing.T) {
	db, sum := seedDB(t, Options{Subjects: 250, Seed: 3})
	got := count(t, db, "SELECT (SELECT COUNT(*) FROM pessoas) + (SELECT COUNT(*) FROM leads WHERE idpessoa IS NULL)")
	if got != 250 || sum.Subjects != 250 {
		t.Errorf("titulares = %d (summary %d), want 250", got, sum.Subjects)
	}
	for _, name := range Tables() {
		if n := count(t, db, "SELECT COUNT(*) FROM `"+name+"`"); int64(n) != sum.Rows[name] || n == 0 {
			t.Errorf("%s: %d rows, summary says %d (and every table must have rows)", name, n, sum.Rows[name])
		}
	}
	for _, s := range sum.Scenarios {
		if s.Name == ScenarioHeavyBroker {
			t.Error("corretor_pesado present without HeavyInteractions")
		}
	}
}

func TestSeedReproducible(t *testing.T) {
	opts := Options{Subjects: 500, Seed: 42, HeavyInteractions: 25}
	a, sa := seedDB(t, opts)
	b, sb := seedDB(t, opts)
	opts.Seed = 43
	c, _ := seedDB(t, opts)
	ca, cb, cc := checksums(t, a), checksums(t, b), checksums(t, c)
	for _, name := range Tables() {
		if ca[name] != cb[name] {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if ca["pessoas"] == cc["pessoas"] || ca["leads"] == cc["leads"] {
		t.Error("a different seed gave the same pessoas or leads")
	}
	if fmt.Sprint(sa.Scenarios) != fmt.Sprint(sb.Scenarios) || fmt.Sprint(sa.Rows) != fmt.Sprint(sb.Rows) {
		t.Error("summaries differ between two runs with the same seed")
	}
}

func checksums(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range Tables() {
		var table string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+name+"`").Scan(&table, &sum); err != nil {
			t.Fatalf("checksum %s: %v", name, err)
		}
		if !sum.Valid || sum.Int64 == 0 {
			t.Fatalf("checksum %s is empty", name)
		}
		out[name] = sum.Int64
	}
	return out
}

func TestSeedResetAndNonEmpty(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	first, err := Seed(ctx, db, Options{Subjects: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Seed(ctx, db, Options{Subjects: 30, Seed: 2})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("seeding a filled schema: got %v, want ErrNotEmpty mentioning --reset", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM pessoas"); int64(n) != first.Rows["pessoas"] {
		t.Fatalf("the refused run changed pessoas: %d rows, want %d", n, first.Rows["pessoas"])
	}
	// CreateSchema without reset is idempotent and keeps the rows.
	if err := CreateSchema(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	// Reset leaves titular's own tables alone.
	if _, err := db.Exec("CREATE TABLE lgpd_marker (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	second, err := Seed(ctx, db, Options{Subjects: 40, Seed: 2, Reset: true})
	if err != nil {
		t.Fatalf("Seed with Reset: %v", err)
	}
	for _, name := range Tables() {
		if n := count(t, db, "SELECT COUNT(*) FROM `"+name+"`"); int64(n) != second.Rows[name] {
			t.Errorf("%s after reset: %d rows, want %d", name, n, second.Rows[name])
		}
	}
	count(t, db, "SELECT COUNT(*) FROM lgpd_marker")
	// The loading connections went back to the pool with their checks on
	// (the deferred Close keeps all four open at once).
	for range 4 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close() //nolint:revive // defer in the loop on purpose: all four stay checked out at once
		var on int
		if err := c.QueryRowContext(ctx, "SELECT @@SESSION.foreign_key_checks").Scan(&on); err != nil || on != 1 {
			t.Errorf("a pooled connection has foreign_key_checks = %d (%v)", on, err)
		}
	}
	// An empty existing schema seeds without Reset.
	if err := CreateSchema(ctx, db, true); err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, db, Options{Subjects: 20, Seed: 2}); err != nil {
		t.Fatalf("Seed into empty tables: %v", err)
	}
	if _, err := Seed(ctx, db, Options{Subjects: 5}); err == nil {
		t.Error("5 subjects accepted: too few for the scenarios")
	}
}
