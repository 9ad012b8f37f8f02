package seed

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/titular/titular/brdoc"
)

// The small CRM is the schema of each tenant in the fleet benchmark: three
// tables and a score of titulares, so that a thousand tenant databases are
// created in minutes while each still gives an EXTRACT real rows to find.

//go:embed small_schema.sql
var smallSchemaSQL string

// smallSpan separates the identifier seeds of two tenants: CPFs and phones
// of tenant s are drawn from seeds s*smallSpan … s*smallSpan+n-1, so no two
// tenants of a fleet share a titular (up to smallSpan titulares each).
const smallSpan = 100_000

// SmallTitular is one synthetic titular of the small CRM. CPF is 11 digits,
// Celular E.164, Email lower-case: the normalized forms titular looks up.
type SmallTitular struct {
	Nome, CPF, Email, Celular string
	Nascimento                time.Time
}

// SmallTitulares returns the n titulares the small CRM of tenant seed
// holds. The same (seed, n) always gives the same people, so a benchmark
// can look titulares up without reading them back from the database.
func SmallTitulares(seed uint64, n int) []SmallTitular {
	r := rand.New(rand.NewPCG(seed, 0x5eed)) //nolint:gosec // G404: synthetic people, reproducible by design
	out := make([]SmallTitular, n)
	for i := range out {
		no := seed*smallSpan + uint64(i)
		first := pick(r, femaleNames)
		if r.IntN(2) == 0 {
			first = pick(r, maleNames)
		}
		last := pick(r, surnames)
		out[i] = SmallTitular{
			Nome:       first + " " + pick(r, surnames) + " " + last,
			CPF:        brdoc.CPFFromSeed(no),
			Email:      strings.ToLower(asciiFold.Replace(first+"."+last)) + fmt.Sprint(no) + "@" + pick(r, emailDomains),
			Celular:    brdoc.PhoneFromSeed(no, true),
			Nascimento: refDate.AddDate(-20-r.IntN(50), -r.IntN(12), -r.IntN(28)),
		}
	}
	return out
}

// CreateSmall creates the small CRM's tables in db (which must not hold
// them yet) and fills them with SmallTitulares(seed, n): each titular has
// one to three atendimentos, and every other one a proposta. It sends six
// statements whatever n is, to keep a fleet's creation short.
func CreateSmall(ctx context.Context, db *sql.DB, seed uint64, n int) error {
	if n < 1 || n >= smallSpan {
		return fmt.Errorf("seed: the small CRM holds 1 to %d titulares, not %d", smallSpan-1, n)
	}
	for _, stmt := range statements(smallSchemaSQL) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("seed: create the small CRM: %w", err)
		}
	}
	people := SmallTitulares(seed, n)
	r := rand.New(rand.NewPCG(seed, 0xa7e)) //nolint:gosec // G404: synthetic data, reproducible by design
	var clientes, atendimentos, propostas insert
	clientes.start("INSERT INTO clientes (idcliente, nome, cpf, email, celular, data_nascimento, criado_em) VALUES ")
	atendimentos.start("INSERT INTO atendimentos (idcliente, canal, descricao, data_atendimento) VALUES ")
	propostas.start("INSERT INTO propostas (idcliente, valor, status, data_proposta) VALUES ")
	for i, p := range people {
		id := i + 1
		created := refDate.AddDate(-r.IntN(4), -r.IntN(12), -r.IntN(28))
		clientes.row(id, p.Nome, p.CPF, p.Email, p.Celular, p.Nascimento.Format(time.DateOnly), created.Format(time.DateTime))
		for k := range 1 + r.IntN(3) {
			at := created.AddDate(0, 0, 7*k+r.IntN(7))
			note := fmt.Sprintf(pick(r, smallNotes), strings.Fields(p.Nome)[0])
			atendimentos.row(id, pick(r, smallChannels), note, at.Format(time.DateTime))
		}
		if i%2 == 0 {
			value := fmt.Sprintf("%d.00", 180_000+1_000*r.IntN(600))
			propostas.row(id, value, pick(r, smallProposalStatuses), created.AddDate(0, 1, 0).Format(time.DateOnly))
		}
	}
	for _, ins := range []*insert{&clientes, &atendimentos, &propostas} {
		if ins.rows == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, ins.sql.String(), ins.args...); err != nil {
			return fmt.Errorf("seed: fill the small CRM: %w", err)
		}
	}
	return nil
}

// insert builds one multi-row INSERT.
type insert struct {
	sql  strings.Builder
	args []any
	rows int
}

func (b *insert) start(head string) { b.sql.WriteString(head) }

func (b *insert) row(values ...any) {
	if b.rows > 0 {
		b.sql.WriteString(", ")
	}
	b.sql.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")")
	b.args = append(b.args, values...)
	b.rows++
}

var (
	smallChannels         = []string{"telefone", "whatsapp", "email", "loja", "site"}
	smallProposalStatuses = []string{"aberta", "aceita", "recusada", "expirada"}
	smallNotes            = []string{
		"%s pediu a tabela de preços atualizada.",
		"Primeiro contato; %s prefere falar à noite.",
		"Enviada simulação de financiamento.",
		"%s retornou a ligação e agendou visita.",
		"Sem resposta à mensagem anterior.",
	}
)
