package seed

import (
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSeedIntegrity checks one seeded database for what the loader cannot
// enforce while foreign key checks are off, and for the identifier contract.
func TestSeedIntegrity(t *testing.T) {
	db, _ := seedDB(t, Options{Subjects: 1500, Seed: 11, HeavyInteractions: 100})

	t.Run("foreign keys", func(t *testing.T) {
		fks := foreignKeys(t, db)
		if len(fks) < 20 {
			t.Fatalf("only %d foreign keys found", len(fks))
		}
		for _, fk := range fks {
			q := fmt.Sprintf("SELECT COUNT(*) FROM `%s` c LEFT JOIN `%s` p ON p.`%s` = c.`%s` WHERE c.`%s` IS NOT NULL AND p.`%s` IS NULL",
				fk.table, fk.refTable, fk.refCol, fk.col, fk.col, fk.refCol)
			if n := count(t, db, q); n != 0 {
				t.Errorf("%s.%s: %d rows point at no %s", fk.table, fk.col, n, fk.refTable)
			}
		}
	})

	t.Run("indexes", func(t *testing.T) {
		indexed := map[string]bool{}
		for _, k := range strs(t, db, "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1") {
			indexed[k] = true
		}
		want := []string{"pessoas.cpf", "pessoas.email", "pessoas.celular", "pessoas.telefone", "leads.cpf", "leads.email",
			"leads.telefone", "reservas.cliente_cpf", "reservas.cliente_email", "reservas.cliente_telefone", "corretores.cpf",
			"corretores.email", "corretores.telefone", "usuarios.cpf", "usuarios.email", "usuarios.telefone",
			"imobiliarias.gerente_cpf", "imobiliarias.gerente_email", "imobiliarias.gerente_telefone"}
		for _, fk := range foreignKeys(t, db) {
			want = append(want, fk.table+"."+fk.col)
		}
		for _, k := range want {
			if !indexed[k] {
				t.Errorf("%s leads no index", k)
			}
		}
	})

	t.Run("columns match the generator", func(t *testing.T) {
		for _, tb := range tables {
			got := strs(t, db, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "+
				"AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", tb.name)
			if !slices.Equal(got, tb.cols) {
				t.Errorf("%s: schema columns %v, generator columns %v", tb.name, got, tb.cols)
			}
			comment := strs(t, db, "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", tb.name)
			if len(comment) != 1 || !strings.Contains(comment[0], "sinteticos") {
				t.Errorf("%s: table comment does not mark the data as synthetic", tb.name)
			}
		}
	})

	t.Run("mixed shapes", func(t *testing.T) {
		for _, col := range []string{"pessoas.cpf", "leads.cpf", "reservas.cliente_cpf"} {
			if n := len(shapes(t, db, col)); n != 3 {
				t.Errorf("%s: %d CPF shapes, want all 3", col, n)
			}
		}
		for _, col := range []string{"pessoas.celular", "leads.telefone", "reservas.cliente_telefone"} {
			if n := len(shapes(t, db, col)); n < 9 {
				t.Errorf("%s: %d phone shapes, want the 9 of CONTEXT.md", col, n)
			}
		}
		for _, col := range []string{"pessoas.email", "leads.email", "reservas.cliente_email", "corretores.email"} {
			tbl, c, _ := strings.Cut(col, ".")
			if n := count(t, db, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE CAST(%s AS BINARY) <> CAST(LOWER(%s) AS BINARY)", tbl, c, c)); n == 0 {
				t.Errorf("%s: no mixed-case e-mail", col)
			}
		}
		// The same pessoa's CPF is never spelled the same in pessoas and leads.
		if n := count(t, db, "SELECT COUNT(*) FROM leads l JOIN pessoas p USING (idpessoa) WHERE l.cpf = p.cpf"); n != 0 {
			t.Errorf("%d leads copy the pessoa's CPF shape", n)
		}
	})

	t.Run("identifiers valid", func(t *testing.T) {
		for _, col := range []string{"pessoas.cpf", "leads.cpf", "reservas.cliente_cpf", "corretores.cpf", "usuarios.cpf", "imobiliarias.gerente_cpf"} {
			for _, v := range column(t, db, col) {
				if !validCPF(digitsOnly(v)) {
					t.Errorf("%s: a CPF fails the check digits", col)
				}
			}
		}
		for _, col := range []string{"pessoas.email", "leads.email", "reservas.cliente_email", "corretores.email", "usuarios.email", "imobiliarias.gerente_email"} {
			for _, v := range column(t, db, col) {
				if !reserved.MatchString(strings.ToLower(v)) {
					t.Errorf("%s: e-mail outside the reserved domains", col)
				}
			}
		}
		for _, col := range []string{"pessoas.celular", "pessoas.telefone", "leads.telefone", "reservas.cliente_telefone", "corretores.telefone", "usuarios.telefone"} {
			for _, v := range column(t, db, col) {
				if !e164Re.MatchString(normPhone(v)) {
					t.Errorf("%s: phone does not normalize to +55 E.164", col)
				}
			}
		}
		for _, col := range []string{"empreendimentos.incorporadora_cnpj", "imobiliarias.cnpj", "repasses.correspondente_cnpj"} {
			for _, v := range column(t, db, col) {
				if len(v) != 14 || cnpjFromBase(v[:12]) != v {
					t.Errorf("%s: CNPJ fails the check digits", col)
				}
			}
		}
	})

	t.Run("no identifier shared by two titulares", func(t *testing.T) {
		// One titular = one pessoa, or one lead without pessoa. Its copies
		// (leads of the pessoa, reservas snapshots) must carry its values.
		owner := map[string]string{} // normalized identifier -> titular
		claim := func(kind, value, who string) {
			if value == "" {
				return
			}
			k := kind + ":" + value
			if prev, ok := owner[k]; ok && prev != who {
				t.Errorf("%s shared by %s and %s", kind, prev, who)
			}
			owner[k] = who
		}
		rows := query(t, db, "SELECT idpessoa, cpf, LOWER(COALESCE(email, '')), COALESCE(celular, ''), COALESCE(telefone, '') FROM pessoas")
		for _, r := range rows {
			who := "pessoa " + r[0]
			claim("cpf", digitsOnly(r[1]), who)
			claim("email", r[2], who)
			claim("phone", phoneOrEmpty(r[3]), who)
			claim("phone", phoneOrEmpty(r[4]), who)
		}
		rows = query(t, db, "SELECT idlead, COALESCE(idpessoa, ''), COALESCE(cpf, ''), LOWER(COALESCE(email, '')), COALESCE(telefone, '') FROM leads")
		for _, r := range rows {
			who := "lead " + r[0]
			if r[1] != "" {
				who = "pessoa " + r[1]
			}
			claim("cpf", digitsOnly(r[2]), who)
			claim("email", r[3], who)
			claim("phone", phoneOrEmpty(r[4]), who)
		}
		rows = query(t, db, "SELECT idpessoa, cliente_cpf, LOWER(COALESCE(cliente_email, '')), COALESCE(cliente_telefone, '') FROM reservas")
		for _, r := range rows {
			who := "pessoa " + r[0]
			claim("cpf", digitsOnly(r[1]), who)
			claim("email", r[2], who)
			claim("phone", phoneOrEmpty(r[3]), who)
		}
	})

	t.Run("spouse link is symmetric", func(t *testing.T) {
		if n := count(t, db, "SELECT COUNT(*) FROM pessoas a JOIN pessoas b ON b.idpessoa = a.idconjuge WHERE b.idconjuge <> a.idpessoa OR b.idconjuge IS NULL"); n != 0 {
			t.Errorf("%d one-sided spouse links", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM pessoas WHERE idconjuge IS NOT NULL"); n == 0 {
			t.Error("no married couples")
		}
	})

	t.Run("documents have one owner", func(t *testing.T) {
		if n := count(t, db, "SELECT COUNT(*) FROM documentos WHERE (idpessoa IS NULL) = (idcorretor IS NULL)"); n != 0 {
			t.Errorf("%d documents with no owner or two owners", n)
		}
	})
}

func phoneOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return normPhone(s)
}

type fk struct{ table, col, refTable, refCol string }

func foreignKeys(t *testing.T, db *sql.DB) []fk {
	t.Helper()
	var out []fk
	for _, r := range query(t, db, "SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "+
		"FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL") {
		out = append(out, fk{r[0], r[1], r[2], r[3]})
	}
	return out
}

var digitRe = regexp.MustCompile(`[0-9]`)

// shapes returns the distinct shapes (digits replaced by 9) of a column.
func shapes(t *testing.T, db *sql.DB, col string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, v := range column(t, db, col) {
		out[digitRe.ReplaceAllString(v, "9")] = true
	}
	return out
}

func column(t *testing.T, db *sql.DB, col string) []string {
	t.Helper()
	tbl, c, _ := strings.Cut(col, ".")
	return strs(t, db, fmt.Sprintf("SELECT `%s` FROM `%s`", c, tbl))
}

// query returns every row as strings.
func query(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
