package crm_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// coverageSchema is a small CRM: people with contracts, leads found by
// e-mail that also keep a second e-mail, and a table of service calls that
// quotes CPFs, e-mails and phones in its own shapes.
var coverageSchema = []string{
	`CREATE TABLE pessoas (id INT PRIMARY KEY, nome VARCHAR(80), cpf VARCHAR(14), email VARCHAR(120), celular VARCHAR(20))`,
	`CREATE TABLE contratos (id INT PRIMARY KEY, pessoa_id INT NOT NULL, valor DECIMAL(10,2),
  FOREIGN KEY (pessoa_id) REFERENCES pessoas (id))`,
	`CREATE TABLE leads (id INT PRIMARY KEY, email VARCHAR(120), email_alt VARCHAR(120), origem VARCHAR(20))`,
	`CREATE TABLE atendimentos (id INT PRIMARY KEY, cliente_cpf VARCHAR(14), obs TEXT)`,
	`CREATE TABLE imoveis (id INT PRIMARY KEY, codigo VARCHAR(10), area INT)`,
}

// partialMap misses the service calls and the leads' second e-mail.
const partialMap = `version: 1
subject: {identifiers: [cpf, email, phone]}
entities:
  pessoa:
    table: pessoas
    key: [id]
    match: {cpf: cpf, email: email, phone: celular}
    fields:
      nome: {category: identificacao}
      cpf: {category: identificacao}
      email: {category: contato}
      celular: {category: contato}
  contrato:
    table: contratos
    key: [id]
    parent: {entity: pessoa, on: {pessoa_id: id}}
    fields:
      valor: {category: financeiro}
  lead:
    table: leads
    key: [id]
    match: {email: email}
    fields:
      email: {category: contato}
      origem: {category: contexto}
`

// fullMap adds what partialMap misses.
const fullMap = partialMap + `  lead_alt:
    table: leads
    key: [id]
    match: {email: email_alt}
    fields:
      email_alt: {category: contato}
  atendimento:
    table: atendimentos
    key: [id]
    match: {cpf: cliente_cpf}
    fields:
      cliente_cpf: {category: identificacao}
      obs: {category: contato}
`

type coveragePerson struct{ cpf, email, phone string }

// coverageFixture fills the schema: six people (contracts 3, 1, 2, 0, 0,
// 0), four leads (two are people's e-mails, one in mixed case; one keeps
// person 2's e-mail as its second e-mail; two are visitors of their own)
// and four service calls (three quote people: a formatted CPF, a CPF with
// an e-mail and a phone in the note, a CPF twice; one quotes nobody sampled).
func coverageFixture(t *testing.T) (*sql.DB, []coveragePerson) {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	for _, q := range coverageSchema {
		mustExec(t, db, q)
	}
	var ps []coveragePerson
	for i := 1; i <= 6; i++ {
		p := coveragePerson{cpf: brdoc.CPFFromSeed(uint64(100 + i)), email: fmt.Sprintf("pessoa%d@example.org", i), phone: brdoc.PhoneFromSeed(uint64(i), true)}
		ps = append(ps, p)
		mustExec(t, db, `INSERT INTO pessoas VALUES (?, ?, ?, ?, ?)`, i, fmt.Sprintf("Pessoa Sintética %d", i), p.cpf, p.email, p.phone)
	}
	for id, owner := range []int{1, 1, 1, 2, 3, 3} {
		mustExec(t, db, `INSERT INTO contratos VALUES (?, ?, 1000.00)`, id+1, owner)
	}
	mustExec(t, db, `INSERT INTO leads VALUES (1, 'pessoa1@example.org', NULL, 'site'), (2, 'Pessoa3@Example.org', NULL, 'site'),
 (3, 'visitante@example.org', 'pessoa2@example.org', 'feira'), (4, 'outro_nome@example.org', NULL, 'site')`)
	p4phone := brdoc.PhoneShapes(ps[3].phone)[3] // (DD) 9XXXX-XXXX
	mustExec(t, db, `INSERT INTO atendimentos VALUES (1, ?, 'pediu segunda via do boleto'), (2, ?, ?), (3, ?, ?), (4, ?, 'sem contato')`,
		brdoc.FormatCPF(ps[0].cpf),
		ps[3].cpf, "escreveu de "+strings.ToUpper(ps[3].email)+", retornar em "+p4phone,
		ps[2].cpf, "CPF "+brdoc.FormatCPF(ps[2].cpf)+" conferido",
		brdoc.FormatCPF(brdoc.CPFFromSeed(999)))
	mustExec(t, db, `INSERT INTO imoveis VALUES (1, 'AP-101', 70), (2, 'CS-7', 180)`)
	return db, ps
}

func parseMap(t *testing.T, doc string) *datamap.Map {
	t.Helper()
	m, err := datamap.Parse("coverage.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func coverageTable(t *testing.T, r *crm.CoverageReport, name string) crm.TableCoverage {
	t.Helper()
	for _, tc := range r.Tables {
		if tc.Table == name {
			return tc
		}
	}
	t.Fatalf("the report has no line for table %s", name)
	return crm.TableCoverage{}
}

// TestCoverageFindsWhatTheMapMisses: a map that misses a table and a column
// holding the titulares' identifiers; every count of the report is checked
// against hand-written SQL over the sampled titulares (the whole CRM here:
// six people and the two visitors only leads know).
func TestCoverageFindsWhatTheMapMisses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, ps := coverageFixture(t)
	r, err := crm.Coverage(ctx, db, parseMap(t, partialMap), crm.CoverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) int64 { return int64(crmtest.CountRows(t, db, q, args...)) }

	// Six people and two visitors; leads 1 and 2 are people already sampled.
	if r.Requested != 20 || r.Titulares != 8 {
		t.Fatalf("sampled %d of %d titulares, want 8 of 20", r.Titulares, r.Requested)
	}
	// Every titular of this CRM is sampled, so the map reaches every row of
	// its tables.
	for table, entities := range map[string][]string{"pessoas": {"pessoa"}, "contratos": {"contrato"}, "leads": {"lead"}} {
		tc := coverageTable(t, r, table)
		if want := count("SELECT COUNT(*) FROM " + table); tc.ReachedRows != want {
			t.Errorf("%s: reached %d rows, want %d", table, tc.ReachedRows, want)
		}
		if !reflect.DeepEqual(tc.Entities, entities) {
			t.Errorf("%s: read by %v, want %v", table, tc.Entities, entities)
		}
	}
	if r.Reached.Rows != 16 || r.Reached.Tables != 3 {
		t.Errorf("reached %+v, want 16 rows in 3 tables", r.Reached)
	}
	// Contracts per titular: 3, 1, 2 and five titulares with none.
	maxContracts := count("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM contratos GROUP BY pessoa_id) AS per")
	if c := coverageTable(t, r, "contratos"); c.MaxPerTitular != maxContracts || c.MedianPerTitular != 0 || c.TitularesReached != 3 {
		t.Errorf("contratos per titular: max %d, median %v, titulares %d; want %d, 0, 3", c.MaxPerTitular, c.MedianPerTitular, c.TitularesReached, maxContracts)
	}
	if p := coverageTable(t, r, "pessoas"); p.MaxPerTitular != 1 || p.MedianPerTitular != 1 || p.TitularesReached != 6 {
		t.Errorf("pessoas per titular: %+v", p)
	}

	// The unmapped service calls: every row quoting a sampled CPF (any
	// shape) in cliente_cpf or a CPF, e-mail or phone inside obs.
	var cpfShapes []any
	var like []string
	var likeArgs []any
	for _, p := range ps {
		for _, s := range brdoc.CPFShapes(p.cpf) {
			cpfShapes = append(cpfShapes, s)
			like = append(like, "obs LIKE ?")
			likeArgs = append(likeArgs, "%"+s+"%")
		}
		like = append(like, "obs LIKE ?")
		likeArgs = append(likeArgs, "%"+p.email+"%")
		for _, s := range brdoc.PhoneShapes(p.phone) {
			like = append(like, "obs LIKE ?")
			likeArgs = append(likeArgs, "%"+s+"%")
		}
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cpfShapes)), ", ") + ")"
	wantCalls := count("SELECT COUNT(*) FROM atendimentos WHERE cliente_cpf IN "+in+" OR "+strings.Join(like, " OR "), append(cpfShapes, likeArgs...)...)
	wantCPFCol := count("SELECT COUNT(*) FROM atendimentos WHERE cliente_cpf IN "+in, cpfShapes...)
	wantObs := count("SELECT COUNT(*) FROM atendimentos WHERE "+strings.Join(like, " OR "), likeArgs...)
	a := coverageTable(t, r, "atendimentos")
	if len(a.Entities) != 0 || a.ReachedRows != 0 || a.IdentifierRows != wantCalls || a.UnreachedRows != wantCalls || wantCalls != 3 {
		t.Errorf("atendimentos: %+v, want %d unreached identifier rows (3)", a, wantCalls)
	}
	wantCols := []crm.ColumnCount{{Column: "cliente_cpf", Kinds: []string{"cpf"}, Rows: wantCPFCol}, {Column: "obs", Kinds: []string{"cpf", "email", "phone"}, Rows: wantObs}}
	if !reflect.DeepEqual(a.UnreachedColumns, wantCols) {
		t.Errorf("atendimentos columns: %+v, want %+v", a.UnreachedColumns, wantCols)
	}

	// Leads: the lead whose second e-mail is a person's is reached for its
	// visitor, never for that person.
	wantAlt := count(`SELECT COUNT(*) FROM leads l JOIN pessoas p ON p.email = l.email_alt WHERE NOT l.email <=> l.email_alt`)
	l := coverageTable(t, r, "leads")
	if l.UnreachedRows != wantAlt || wantAlt != 1 || l.IdentifierRows != count("SELECT COUNT(*) FROM leads") {
		t.Errorf("leads: %+v, want %d unreached row", l, wantAlt)
	}
	if want := []crm.ColumnCount{{Column: "email_alt", Kinds: []string{"email"}, Rows: wantAlt}}; !reflect.DeepEqual(l.UnreachedColumns, want) {
		t.Errorf("leads columns: %+v, want %+v", l.UnreachedColumns, want)
	}
	for _, name := range []string{"pessoas", "contratos"} {
		if tc := coverageTable(t, r, name); tc.UnreachedRows != 0 {
			t.Errorf("%s: %d unreached rows, want none", name, tc.UnreachedRows)
		}
	}
	if r.Unreached != (crm.CoverageUnreached{Rows: 4, Tables: 2, UnmappedTables: 1}) {
		t.Errorf("unreached %+v, want 4 rows in 2 tables, 1 unmapped", r.Unreached)
	}
	for _, tc := range r.Tables {
		if tc.Table == "imoveis" {
			t.Errorf("imoveis holds no identifier and no entity reads it, but the report lists it: %+v", tc)
		}
	}
	unread := map[string]bool{}
	for _, u := range r.UnreadColumns {
		unread[u.Table+"."+u.Column] = true
	}
	for _, c := range []string{"leads.email_alt", "atendimentos.cliente_cpf"} {
		if !unread[c] {
			t.Errorf("unread columns %v miss %s", r.UnreadColumns, c)
		}
	}

	sum := r.Summary()
	want := "8 sampled titulares: the map reaches 16 rows in 3 tables; 4 rows in 2 tables hold their identifiers but are not reached: " +
		"3 in unmapped table atendimentos (cliente_cpf, obs); 1 in table leads (email_alt)."
	if !strings.HasPrefix(sum, want) || !strings.Contains(sum, fmt.Sprintf("%d personal-looking columns are read by no entity", len(r.UnreadColumns))) {
		t.Errorf("summary:\n%s\nwant it to start with\n%s", sum, want)
	}
	for _, p := range ps {
		for _, v := range []string{p.cpf, p.email, p.phone, brdoc.FormatCPF(p.cpf)} {
			if strings.Contains(sum, v) {
				t.Errorf("the summary shows an identifier")
			}
		}
	}
}

// TestCoverageFullMap: with the missing table and column mapped, nothing
// holding a sampled identifier stays unreached and no personal-looking
// column is unread.
func TestCoverageFullMap(t *testing.T) {
	t.Parallel()
	db, _ := coverageFixture(t)
	r, err := crm.Coverage(context.Background(), db, parseMap(t, fullMap), crm.CoverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unreached != (crm.CoverageUnreached{}) {
		t.Errorf("unreached %+v, want none; tables: %+v", r.Unreached, r.Tables)
	}
	if len(r.UnreadColumns) != 0 {
		t.Errorf("unread columns %+v, want none", r.UnreadColumns)
	}
	// The service calls are a root now: call 4's CPF, a client known to no
	// other table, is a ninth titular, and every call is reached.
	if r.Titulares != 9 {
		t.Errorf("sampled %d titulares, want 9", r.Titulares)
	}
	if a := coverageTable(t, r, "atendimentos"); a.ReachedRows != 4 || a.IdentifierRows != 4 || !reflect.DeepEqual(a.Entities, []string{"atendimento"}) {
		t.Errorf("atendimentos: %+v", a)
	}
	if l := coverageTable(t, r, "leads"); l.ReachedRows != 4 || !reflect.DeepEqual(l.Entities, []string{"lead", "lead_alt"}) {
		t.Errorf("leads: %+v", l)
	}
	if r.Reached.Rows != 20 || r.Reached.Tables != 4 {
		t.Errorf("reached %+v, want 20 rows in 4 tables", r.Reached)
	}
	if want := "9 sampled titulares: the map reaches 20 rows in 4 tables; no other row holds their identifiers. Every personal-looking column is read by the map."; r.Summary() != want {
		t.Errorf("summary:\n%s\nwant\n%s", r.Summary(), want)
	}
}

// TestCoverageSamplesSpreadAndBounded: on a bigger root the sample has the
// size asked for, is spread over the key range, is the same run after run,
// and the free-text search stops at ScanRows (the table is marked partial)
// while whole values are found in every row.
func TestCoverageSamplesSpreadAndBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	for _, q := range coverageSchema {
		mustExec(t, db, q)
	}
	var vals []string
	var args []any
	for i := 1; i <= 400; i++ {
		vals = append(vals, "(?, 'Pessoa Sintética', ?, ?, NULL)")
		args = append(args, i*10, brdoc.CPFFromSeed(uint64(i)), fmt.Sprintf("p%d@example.org", i))
	}
	mustExec(t, db, "INSERT INTO pessoas VALUES "+strings.Join(vals, ", "), args...)
	// Every row of the service calls quotes the e-mail of person 1 (the
	// first key, where the spread starts), in its notes only.
	for i := 1; i <= 30; i++ {
		mustExec(t, db, `INSERT INTO atendimentos VALUES (?, NULL, 'respondido para p1@example.org')`, i)
	}
	// A call past the free-text bound quotes, whole, the CPF of person 201
	// (key 2010, the middle of the range, the spread's second probe).
	mustExec(t, db, `INSERT INTO atendimentos VALUES (31, ?, NULL)`, brdoc.FormatCPF(brdoc.CPFFromSeed(201)))
	m := parseMap(t, partialMap)
	opts := crm.CoverageOptions{Titulares: 5, ScanRows: 10}
	r1, err := crm.Coverage(ctx, db, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := crm.Coverage(ctx, db, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r1, r2) {
		t.Errorf("two reports differ:\n%+v\n%+v", r1, r2)
	}
	if r1.Titulares != 5 || coverageTable(t, r1, "pessoas").ReachedRows != 5 {
		t.Errorf("sampled %d titulares reaching %d people, want 5", r1.Titulares, coverageTable(t, r1, "pessoas").ReachedRows)
	}
	a := coverageTable(t, r1, "atendimentos")
	want := []crm.ColumnCount{{Column: "obs", Kinds: []string{"email"}, Rows: 10}, {Column: "cliente_cpf", Kinds: []string{"cpf"}, Rows: 1}}
	if !a.Partial || a.UnreachedRows != 11 || !reflect.DeepEqual(a.UnreachedColumns, want) {
		t.Errorf("atendimentos: %+v, want 10 notes (ScanRows), 1 CPF and partial", a)
	}
}

// TestCoverageRefuses: a map without roots and a CRM without titulares
// are errors that say what to fix.
func TestCoverageRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	for _, q := range coverageSchema {
		mustExec(t, db, q)
	}
	noRoots := &datamap.Map{Entities: []*datamap.Entity{{Name: "contrato", Table: "contratos", Key: []string{"id"}}}}
	if _, err := crm.Coverage(ctx, db, noRoots, crm.CoverageOptions{}); !errors.Is(err, crm.ErrNoRoots) {
		t.Errorf("a map without roots: %v, want ErrNoRoots", err)
	}
	if _, err := crm.Coverage(ctx, db, parseMap(t, partialMap), crm.CoverageOptions{}); !errors.Is(err, crm.ErrNoTitulares) {
		t.Errorf("an empty CRM: %v, want ErrNoTitulares", err)
	}
}

// TestCoverageHonoursWhere: a root entity's where constants bound the
// sample (an e-mail only a deleted row holds is no titular), and rows of
// a table read through a polymorphic link count as reached.
func TestCoverageHonoursWhere(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	for _, q := range polySchema {
		mustExec(t, db, q)
	}
	mustExec(t, db, `INSERT INTO contacts VALUES (1, 'Ana', '+5511911110001'), (2, 'Bia', '+5511911110002'), (3, 'Caio', '+5511911110003')`)
	mustExec(t, db, `INSERT INTO email_addresses VALUES ('e1', 'ana@example.org', 0), ('e2', 'old@example.org', 1), ('e3', 'caio@example.org', 0)`)
	mustExec(t, db, `INSERT INTO email_addr_bean_rel VALUES ('r1', 'e1', 1, 'Contacts', 0), ('r3', 'e2', 3, 'Contacts', 0), ('r4', 'e3', 3, 'Contacts', 0)`)
	r, err := crm.Coverage(context.Background(), db, parseMap(t, polyMap), crm.CoverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The live e-mails first (a root that is no one's child), each with
	// the phone of the contact it reaches, then contact 2 by phone;
	// old@example.org is not sampled.
	if r.Titulares != 3 {
		t.Errorf("sampled %d titulares, want 3", r.Titulares)
	}
	if e := coverageTable(t, r, "email_addresses"); e.IdentifierRows != 2 || e.ReachedRows != 2 {
		t.Errorf("email_addresses: %+v, want 2 rows reached, both holding identifiers", e)
	}
	if l := coverageTable(t, r, "email_addr_bean_rel"); l.ReachedRows != 2 || l.IdentifierRows != 0 {
		t.Errorf("email_addr_bean_rel: %+v, want links r1 and r4 reached", l)
	}
	if c := coverageTable(t, r, "contacts"); c.ReachedRows != 3 || c.MaxPerTitular != 1 || c.UnreachedRows != 0 {
		t.Errorf("contacts: %+v", c)
	}
	if r.Unreached.Rows != 0 {
		t.Errorf("unreached %+v, want none", r.Unreached)
	}
}

// TestCoverageNumberColumns: identifiers kept in number columns (a CPF in
// a BIGINT that lost its leading zero, a phone's digits) are sampled from a
// root and found in an unmapped table.
func TestCoverageNumberColumns(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	mustExec(t, db, `CREATE TABLE clientes (id INT PRIMARY KEY, cpf BIGINT, telefone VARCHAR(20))`)
	mustExec(t, db, `CREATE TABLE ligacoes (id INT PRIMARY KEY, numero BIGINT, documento DECIMAL(11,0))`)
	cpf := ""
	for n := uint64(1); cpf == ""; n++ {
		if c := brdoc.CPFFromSeed(n); c[0] == '0' {
			cpf = c
		}
	}
	phone := brdoc.PhoneFromSeed(42, true)
	mustExec(t, db, `INSERT INTO clientes VALUES (1, ?, ?)`, cpf, phone)
	mustExec(t, db, `INSERT INTO ligacoes VALUES (1, ?, NULL), (2, NULL, ?), (3, 11, 22)`, phone[1:], cpf)
	// A table without a key whose notes quote the phone: its first 3 rows
	// (ScanRows) are searched.
	mustExec(t, db, `CREATE TABLE avulsas (texto TEXT)`)
	for i := range 5 {
		mustExec(t, db, `INSERT INTO avulsas VALUES (?)`, fmt.Sprintf("recado %d: ligar para %s", i, brdoc.PhoneShapes(phone)[3]))
	}
	m := parseMap(t, `version: 1
subject: {identifiers: [cpf, phone]}
entities:
  cliente:
    table: clientes
    key: [id]
    match: {cpf: cpf, phone: telefone}
`)
	r, err := crm.Coverage(context.Background(), db, m, crm.CoverageOptions{ScanRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Titulares != 1 {
		t.Fatalf("sampled %d titulares, want 1", r.Titulares)
	}
	if a := coverageTable(t, r, "avulsas"); !a.Partial || a.UnreachedRows != 3 {
		t.Errorf("avulsas: %+v, want 3 rows of 5 (ScanRows) and partial", a)
	}
	l := coverageTable(t, r, "ligacoes")
	want := []crm.ColumnCount{{Column: "documento", Kinds: []string{"cpf"}, Rows: 1}, {Column: "numero", Kinds: []string{"phone"}, Rows: 1}}
	if l.UnreachedRows != 2 || !reflect.DeepEqual(l.UnreachedColumns, want) {
		t.Errorf("ligacoes: %+v, want columns %+v", l, want)
	}
}
