package crmtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/internal/sqlq"
)

// Fixture is a CRM schema written for the tests, none of them the demo CRM:
// its tables, a deterministic synthetic seed (generated in memory when the
// fixture is built, so its people are known before any database exists) and,
// for each seeded titular, hand-written SQL listing exactly that titular's
// rows: the ground truth a data map, drafted by discovery or by hand, is
// judged against.
type Fixture struct {
	// Name is the schema's name: "shop", "polycrm" or "split".
	Name string
	// Tables is every table, in creation order.
	Tables []string
	// People is every seeded titular.
	People []Person
	// Others are titulares of another kind than People (the shop's
	// employees), whose truth Truth also knows; the samples leave them out.
	Others []Person
	// Samples are a few titulares of different shapes (identifiers missing,
	// rows in every table, rows in none, soft-deleted rows...), for tests.
	Samples []Person

	ddl   []string
	rows  map[string]*tableRows
	order []string // insertion order of tables with rows
	truth func(Person) []TruthQuery
}

// Person is a seeded titular. Label and Ref identify the titular in the
// fixture only; neither is personal data.
type Person struct {
	// Label says which titular this is and what shape it has ("customer 17,
	// no phone"), for test names and failure messages.
	Label string
	// IDs are the identifiers a request for the titular carries: every one
	// the seed holds for them (an absent one stays empty).
	IDs crm.Identifiers
	// Ref is the titular's key in the fixture's person table.
	Ref []any
}

// TruthQuery lists one table's rows of a titular: SQL selects the table's
// primary-key columns, in key order, of exactly the titular's rows.
type TruthQuery struct {
	Table string
	SQL   string
	Args  []any
}

// tableRows are a table's seeded rows.
type tableRows struct {
	cols []string
	rows [][]any
}

// Create makes the fixture's tables, triggers included, in db (an empty
// database) and loads its seed.
func (f *Fixture) Create(ctx context.Context, db *sql.DB) error {
	for _, s := range f.ddl {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s schema: %w\n%s", f.Name, err, s)
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The seed of a schema with circular foreign keys (a store and its
	// manager) loads in dependency-free order.
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
		return err
	}
	for _, t := range f.order {
		tr := f.rows[t]
		for start := 0; start < len(tr.rows); start += 200 {
			batch := tr.rows[start:min(start+200, len(tr.rows))]
			row := "(" + sqlq.Placeholders(len(tr.cols)) + ")"
			vals := make([]string, len(batch))
			var args []any
			for i, r := range batch {
				vals[i] = row
				args = append(args, r...)
			}
			q := "INSERT INTO " + sqlq.QuoteIdent(t) + " (" + sqlq.JoinQuoted(tr.cols) + ") VALUES " + strings.Join(vals, ", ")
			if _, err := conn.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("%s seed of %s: %w", f.Name, t, err)
			}
		}
	}
	_, err = conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 1")
	return err
}

// Truth is the hand-written SQL listing p's rows, one query per table that
// can hold rows of a titular (tables of shared data only are left out: the
// titular has no rows there).
func (f *Fixture) Truth(p Person) []TruthQuery { return f.truth(p) }

// PersonKeys runs p's truth queries: table -> set of the titular's row keys
// (KeyText), every truth table present, empty when p has no rows there.
func (f *Fixture) PersonKeys(ctx context.Context, q crm.Querier, p Person) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	for _, t := range f.truth(p) {
		set := out[t.Table]
		if set == nil {
			set = map[string]bool{}
			out[t.Table] = set
		}
		rows, err := q.QueryContext(ctx, t.SQL, t.Args...)
		if err != nil {
			return nil, fmt.Errorf("%s truth of %s: %w", f.Name, t.Table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		for rows.Next() {
			raw := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			set[KeyText(raw)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// KeyText renders a row key, as a walk delivers it or as a query scans it,
// in one comparable form: a JSON array of the values as text.
func KeyText(key []any) string {
	s := make([]string, len(key))
	for i, v := range key {
		s[i] = text(v)
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// KeyValues reads a KeyText back into query arguments (text).
func KeyValues(k string) []any {
	var s []string
	if err := json.Unmarshal([]byte(k), &s); err != nil {
		panic("not a KeyText: " + err.Error())
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Fixtures are the three test schemas: shop, polycrm and split.
func Fixtures() []*Fixture { return []*Fixture{Shop(), PolyCRM(), Split()} }

// add appends one row to table t (columns cols, given the first time).
func (f *Fixture) add(t string, cols []string, vals ...any) {
	if f.rows == nil {
		f.rows = map[string]*tableRows{}
	}
	tr := f.rows[t]
	if tr == nil {
		tr = &tableRows{cols: cols}
		f.rows[t] = tr
		f.order = append(f.order, t)
	}
	if len(vals) != len(tr.cols) {
		panic(fmt.Sprintf("%s: %d values for %d columns", t, len(vals), len(tr.cols)))
	}
	tr.rows = append(tr.rows, vals)
}

// Synthetic people: common pt-BR and English names combined at random, so no
// combination stands for a real person; e-mails at example.org.

var givenNames = []string{
	"Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
	"Patrícia", "Camila", "Letícia", "Júlia", "Beatriz", "Helena", "Cecília", "Lívia",
	"José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas",
	"Luís", "Gabriel", "Rafael", "Sérgio", "Fábio", "André", "Vinícius", "Otávio",
	"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Emily", "Olivia",
	"James", "Robert", "Michael", "William", "David", "Richard", "Thomas", "George",
}

var familyNames = []string{
	"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
	"Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
	"Gonçalves", "Araújo", "Conceição", "Simões", "Brandão", "Magalhães", "Nóbrega", "Assunção",
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
}

var streets = []string{
	"Rua das Flores", "Avenida Brasil", "Rua Sete de Setembro", "Rua XV de Novembro",
	"Avenida Paulista", "Rua da Consolação", "Travessa São José", "Alameda Santos",
	"Rua Barão do Rio Branco", "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua Dom Pedro II",
}

var districts = []string{"Centro", "Jardim América", "Vila Mariana", "Boa Vista", "Santa Cecília", "Liberdade", "Copacabana", "Savassi"}

type place struct{ city, uf string }

var places = []place{
	{"São Paulo", "SP"}, {"Rio de Janeiro", "RJ"}, {"Belo Horizonte", "MG"}, {"Salvador", "BA"},
	{"Curitiba", "PR"}, {"Porto Alegre", "RS"}, {"Recife", "PE"}, {"Fortaleza", "CE"},
	{"Goiânia", "GO"}, {"Belém", "PA"}, {"Florianópolis", "SC"}, {"Manaus", "AM"},
}

var unaccent = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "é", "e", "ê", "e", "í", "i",
	"ó", "o", "ô", "o", "õ", "o", "ú", "u", "ü", "u", "ç", "c", " ", "",
)

// synth draws synthetic values from a fixed seed.
type synth struct{ r *rand.Rand }

func newSynth(seed uint64) *synth {
	return &synth{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *synth) pick(v []string) string { return v[s.r.IntN(len(v))] }
func (s *synth) n(n int) int            { return s.r.IntN(n) }

// chance is true with probability num/den.
func (s *synth) chance(num, den int) bool { return s.r.IntN(den) < num }

// name is a given name and a family name (two, one time in three).
func (s *synth) name() (first, last string) {
	first, last = s.pick(givenNames), s.pick(familyNames)
	if s.chance(1, 3) {
		last = s.pick(familyNames) + " " + last
	}
	return first, last
}

// email is the unique address of person i of a fixture, built from the name.
func email(first, last string, i int) string {
	l := strings.Fields(last)
	return strings.ToLower(unaccent.Replace(first)+"."+unaccent.Replace(l[len(l)-1])) + fmt.Sprintf(".%d@example.org", i)
}

// uuid is a deterministic version-4 UUID.
func (s *synth) uuid() string {
	a, b := s.r.Uint64(), s.r.Uint64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// date is a day between 2019 and 2025 as YYYY-MM-DD.
func (s *synth) date() string {
	return fmt.Sprintf("%04d-%02d-%02d", 2019+s.n(7), 1+s.n(12), 1+s.n(28))
}

// when is an instant between 2019 and 2025.
func (s *synth) when() string {
	return fmt.Sprintf("%s %02d:%02d:%02d", s.date(), 8+s.n(12), s.n(60), s.n(60))
}

// birth is a birth date between 1950 and 2004.
func (s *synth) birth() string {
	return fmt.Sprintf("%04d-%02d-%02d", 1950+s.n(55), 1+s.n(12), 1+s.n(28))
}

// orNull is v, or NULL one time in den.
func (s *synth) orNull(v any, den int) any {
	if s.n(den) == 0 {
		return nil
	}
	return v
}

// str is v as a string, or "" for NULL.
func str(v any) string {
	if v == nil {
		return ""
	}
	return v.(string)
}
