package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/store/storetest"
)

var coverageCmdSchema = []string{
	`CREATE TABLE pessoas (id INT PRIMARY KEY, nome VARCHAR(80), cpf VARCHAR(14), email VARCHAR(120))`,
	`CREATE TABLE contratos (id INT PRIMARY KEY, pessoa_id INT NOT NULL, valor DECIMAL(10,2),
  FOREIGN KEY (pessoa_id) REFERENCES pessoas (id))`,
	`CREATE TABLE atendimentos (id INT PRIMARY KEY, cliente_cpf VARCHAR(14), obs TEXT)`,
}

// coverageCmdMap misses the service calls, which quote the people's CPFs.
const coverageCmdMap = `version: 1
subject: {identifiers: [cpf, email]}
entities:
  pessoa:
    table: pessoas
    key: [id]
    match: {cpf: cpf, email: email}
    fields:
      nome: {category: identificacao}
      cpf: {category: identificacao}
      email: {category: contato}
  contrato:
    table: contratos
    key: [id]
    parent: {entity: pessoa, on: {pessoa_id: id}}
    fields:
      valor: {category: financeiro}
`

func mustExecCmd(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", strings.SplitN(q, "\n", 2)[0], err)
	}
}

// TestDatamapCoverageCommand runs `titular datamap coverage` as an operator
// would (a built binary, a config file naming the tenant's DSN and map):
// the JSON document's counts match hand-written SQL, the text report is a
// table with the summary, neither shows an identifier or the DSN, and a
// missing tenant, an unknown one, a CRM without titulares and a database
// without tables are errors that say what to do.
func TestDatamapCoverageCommand(t *testing.T) {
	t.Parallel()
	db, dsn := storetest.NewDatabase(t)
	emptyDB, emptyDSN := storetest.NewDatabase(t)
	_, bareDSN := storetest.NewDatabase(t)
	for _, q := range coverageCmdSchema {
		mustExecCmd(t, db, q)
		mustExecCmd(t, emptyDB, q)
	}
	var secrets []string
	for i := 1; i <= 5; i++ {
		cpf, email := brdoc.CPFFromSeed(uint64(500+i)), fmt.Sprintf("cliente%d@example.org", i)
		secrets = append(secrets, cpf, brdoc.FormatCPF(cpf), email)
		mustExecCmd(t, db, `INSERT INTO pessoas VALUES (?, 'Cliente Sintético', ?, ?)`, i, cpf, email)
		for j := range i {
			mustExecCmd(t, db, `INSERT INTO contratos VALUES (?, ?, 10.00)`, i*10+j, i)
		}
		if i%2 == 1 { // people 1, 3 and 5 called; their CPF formatted
			mustExecCmd(t, db, `INSERT INTO atendimentos VALUES (?, ?, 'ligou')`, i, brdoc.FormatCPF(cpf))
		}
	}
	mustExecCmd(t, db, `INSERT INTO atendimentos VALUES (9, NULL, 'sem cliente')`)

	dir := t.TempDir()
	mapPath := filepath.Join(dir, "datamap.yaml")
	writeFile(t, mapPath, coverageCmdMap)
	cfgPath := filepath.Join(dir, "titular.yaml")
	writeFile(t, cfgPath, fmt.Sprintf("state_dir: %q\ntenants:\n  - {id: alpha, dsn: %q, datamap: %q}\n  - {id: empty, dsn: %q, datamap: %q}\n  - {id: bare, dsn: %q, datamap: %q}\n",
		filepath.Join(dir, "state"), dsn, mapPath, emptyDSN, mapPath, bareDSN, mapPath))
	bin := filepath.Join(dir, "titular")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		var o, e bytes.Buffer
		c := exec.Command(bin, append([]string{"datamap", "coverage", "--config", cfgPath}, args...)...)
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		code := 0
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			code = xe.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(secrets, dsn, emptyDSN, bareDSN, "root@") {
			if strings.Contains(o.String()+e.String(), s) {
				t.Errorf("the output of %v shows an identifier or a DSN", args)
			}
		}
		return o.String(), e.String(), code
	}
	count := func(q string) int64 {
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	out, errOut, code := run("--tenant", "alpha", "--format", "json", "--samples", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Version   int    `json:"version"`
		Tenant    string `json:"tenant"`
		Requested int    `json:"requested"`
		Titulares int    `json:"titulares"`
		Reached   struct {
			Rows   int64 `json:"rows"`
			Tables int   `json:"tables"`
		} `json:"reached"`
		Unreached struct {
			Rows           int64 `json:"rows"`
			Tables         int   `json:"tables"`
			UnmappedTables int   `json:"unmapped_tables"`
		} `json:"unreached"`
		Tables []struct {
			Table            string   `json:"table"`
			Entities         []string `json:"entities"`
			ReachedRows      int64    `json:"reached_rows"`
			MedianPerTitular float64  `json:"median_per_titular"`
			MaxPerTitular    int64    `json:"max_per_titular"`
			UnreachedRows    int64    `json:"unreached_rows"`
			UnreachedColumns []struct {
				Column string   `json:"column"`
				Kinds  []string `json:"kinds"`
				Rows   int64    `json:"rows"`
			} `json:"unreached_columns"`
		} `json:"tables"`
		UnreadColumns []struct{ Table, Column string } `json:"unread_columns"`
		Summary       string                           `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("the JSON document: %v\n%s", err, out)
	}
	if doc.Version != 1 || doc.Tenant != "alpha" || doc.Requested != 10 || doc.Titulares != 5 {
		t.Errorf("header: version %d tenant %s, %d of %d titulares; want 1, alpha, 5 of 10", doc.Version, doc.Tenant, doc.Titulares, doc.Requested)
	}
	wantReached := count("SELECT COUNT(*) FROM pessoas") + count("SELECT COUNT(*) FROM contratos")
	if doc.Reached.Rows != wantReached || doc.Reached.Tables != 2 {
		t.Errorf("reached %+v, want %d rows in 2 tables", doc.Reached, wantReached)
	}
	wantCalls := count("SELECT COUNT(*) FROM atendimentos a JOIN pessoas p ON a.cliente_cpf = CONCAT(SUBSTR(p.cpf, 1, 3), '.', SUBSTR(p.cpf, 4, 3), '.', SUBSTR(p.cpf, 7, 3), '-', SUBSTR(p.cpf, 10, 2))")
	if doc.Unreached.Rows != wantCalls || doc.Unreached.Tables != 1 || doc.Unreached.UnmappedTables != 1 || wantCalls != 3 {
		t.Errorf("unreached %+v, want %d rows in 1 unmapped table", doc.Unreached, wantCalls)
	}
	for _, tc := range doc.Tables {
		switch tc.Table {
		case "contratos":
			if tc.MaxPerTitular != 5 || tc.MedianPerTitular != 3 {
				t.Errorf("contratos per titular: max %d median %v, want 5 and 3", tc.MaxPerTitular, tc.MedianPerTitular)
			}
		case "atendimentos":
			if len(tc.Entities) != 0 || tc.UnreachedRows != wantCalls || len(tc.UnreachedColumns) != 1 || tc.UnreachedColumns[0].Column != "cliente_cpf" || tc.UnreachedColumns[0].Rows != wantCalls {
				t.Errorf("atendimentos: %+v", tc)
			}
		}
	}
	if !strings.HasPrefix(doc.Summary, fmt.Sprintf("5 sampled titulares: the map reaches %d rows in 2 tables; 3 rows in 1 table hold their identifiers but are not reached: 3 in unmapped table atendimentos (cliente_cpf)", wantReached)) {
		t.Errorf("summary: %s", doc.Summary)
	}

	out, errOut, code = run("--tenant", "alpha")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"TABLE", "UNREACHED", "(unmapped)", "atendimentos.cliente_cpf: 3 rows (cpf)", doc.Summary} {
		if !strings.Contains(out, want) {
			t.Errorf("the text report misses %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--tenant is required"},
		{[]string{"--tenant", "nobody"}, `tenant "nobody" is not in the config`},
		{[]string{"--tenant", "alpha", "--format", "xml"}, "use text or json"},
		{[]string{"--tenant", "empty"}, "no titular to sample"},
		{[]string{"--tenant", "bare"}, "no CRM tables"},
	} {
		_, errOut, code := run(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
