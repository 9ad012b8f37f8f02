package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
)

// Baseline value kinds the hand-written fetcher hands its sinks besides the
// driver's own ([]byte text, int64, float64, time.Time, nil).
type (
	// decimalText is a DECIMAL column's exact text.
	decimalText []byte
	// civilDate is a DATE column.
	civilDate time.Time
)

// handFetch reads a titular's rows from the demo CRM with SQL written by
// hand for its schema: one query per entity, identifiers ORed in a single
// WHERE, children by the parent keys collected in Go. It is the baseline
// for titular's data-map walk, so it knows nothing generic: no data-map
// traversal, no dedup, no value conversion beyond what JSON needs. Only the
// column lists come from the data map, so both produce the same shape; an
// entity missing here makes the row-count check fail.
func handFetch(ctx context.Context, q store.Querier, m *datamap.Map, ids store.Identifiers, sink crm.Sink) error {
	h := &hand{ctx: ctx, q: q, m: m, sink: sink, email: ids.Email}
	if ids.CPF != "" {
		h.cpf = anys(brdoc.CPFShapes(ids.CPF))
	}
	if ids.Phone != "" {
		h.phone = anys(brdoc.PhoneShapes(ids.Phone))
	}
	pessoas := h.fetch("pessoa", "pessoas", "idpessoa", h.or(h.in("cpf", h.cpf), h.eq("email"), h.in("celular", h.phone)), "idpessoa")
	leads := h.fetch("lead", "leads", "idlead",
		h.or(h.in("cpf", h.cpf), h.eq("email"), h.in("telefone", h.phone), h.in("idpessoa", pessoas)), "idlead")
	h.fetch("lead_interacao", "lead_interacoes", "idlead_interacao", h.in("idlead", leads), "")
	h.fetch("consentimento", "consentimentos", "idconsentimento", h.in("idlead", leads), "")
	reservas := h.fetch("reserva", "reservas", "idreserva",
		h.or(h.in("cliente_cpf", h.cpf), h.eq("cliente_email"), h.in("cliente_telefone", h.phone), h.in("idpessoa", pessoas)), "idreserva")
	h.fetch("associacao_reserva", "reserva_associados", "idreserva_associado", h.in("idpessoa", pessoas), "")
	h.fetch("repasse", "repasses", "idrepasse", h.in("idreserva", reservas), "")
	h.fetch("documento", "documentos", "iddocumento", h.in("idpessoa", pessoas), "")
	corretores := h.fetch("corretor", "corretores", "idcorretor", h.or(h.in("cpf", h.cpf), h.eq("email"), h.in("telefone", h.phone)), "idcorretor")
	h.fetch("atendimento_corretor", "lead_interacoes", "idlead_interacao", h.in("idcorretor", corretores), "")
	h.fetch("documento_corretor", "documentos", "iddocumento", h.in("idcorretor", corretores), "")
	h.fetch("usuario", "usuarios", "idusuario", h.or(h.in("cpf", h.cpf), h.eq("email")), "")
	h.fetch("gerente_imobiliaria", "imobiliarias", "idimobiliaria",
		h.or(h.in("gerente_cpf", h.cpf), h.eq("gerente_email"), h.in("gerente_telefone", h.phone)), "")
	return h.err
}

type hand struct {
	ctx   context.Context
	q     store.Querier
	m     *datamap.Map
	sink  crm.Sink
	cpf   []any
	phone []any
	email string
	err   error // first error; later fetches do nothing
}

// clause is a WHERE fragment and its arguments; empty when it cannot match.
type clause struct {
	sql  string
	args []any
}

func (h *hand) in(col string, vals []any) clause {
	if len(vals) == 0 {
		return clause{}
	}
	return clause{col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")", vals}
}

func (h *hand) eq(col string) clause {
	if h.email == "" {
		return clause{}
	}
	return clause{col + " = ?", []any{h.email}}
}

func (h *hand) or(cs ...clause) clause {
	var out clause
	var parts []string
	for _, c := range cs {
		if c.sql != "" {
			parts = append(parts, c.sql)
			out.args = append(out.args, c.args...)
		}
	}
	out.sql = strings.Join(parts, " OR ")
	return out
}

// fetch reads one entity: its mapped columns (plus keep, a key later
// queries need) from table where w holds, ordered by key, into the sink.
// It returns the values of keep.
func (h *hand) fetch(entity, table, key string, w clause, keep string) []any {
	if h.err != nil {
		return nil
	}
	e := h.m.Entity(entity)
	if e == nil {
		h.err = fmt.Errorf("hand-written baseline: the data map has no entity %q", entity)
		return nil
	}
	if h.err = h.sink.BeginEntity(e); h.err != nil {
		return nil
	}
	var kept []any
	var n int64
	if w.sql != "" {
		cols := make([]string, len(e.Fields), len(e.Fields)+1)
		for i, f := range e.Fields {
			cols[i] = f.Column
		}
		if keep != "" {
			cols = append(cols, keep)
		}
		query := "SELECT " + strings.Join(cols, ", ") + " FROM " + table + " WHERE " + w.sql + " ORDER BY " + key
		kept, n, h.err = h.query(query, w.args, len(e.Fields), keep != "")
		if h.err != nil {
			h.err = fmt.Errorf("hand-written baseline, entity %s: %w", entity, h.err)
			return nil
		}
	}
	h.err = h.sink.EndEntity(e, n)
	return kept
}

func (h *hand) query(query string, args []any, fields int, keep bool) ([]any, int64, error) {
	rows, err := h.q.QueryContext(h.ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, 0, err
	}
	raw := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	vals := make([]any, fields)
	var kept []any
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, err
		}
		for i := range vals {
			vals[i] = raw[i]
			switch v := raw[i].(type) {
			case []byte:
				if types[i].DatabaseTypeName() == "DECIMAL" {
					vals[i] = decimalText(v)
				}
			case time.Time:
				if types[i].DatabaseTypeName() == "DATE" {
					vals[i] = civilDate(v)
				}
			}
		}
		if err := h.sink.Row(vals); err != nil {
			return nil, 0, err
		}
		if keep {
			kept = append(kept, raw[fields])
		}
		n++
	}
	return kept, n, rows.Err()
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
