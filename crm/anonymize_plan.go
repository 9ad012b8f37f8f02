package crm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
)

// legalAnonymization is cited when a data map cannot anonymize: Art. 12 says
// anonymized data must be irreversible, Art. 13 §4 that a keyed or partial
// transform is pseudonymization.
const legalAnonymization = "Lei 13.709/2018, arts. 5º XI, 12 e 13 §4º"

// Reason codes of a refused ANONYMIZE.
const (
	ReasonNoAnonymizer     = "NO_ANONYMIZER"
	ReasonNotIrreversible  = "ANONYMIZER_NOT_IRREVERSIBLE"
	ReasonAnonymizerNotFit = "ANONYMIZER_DOES_NOT_FIT"
)

// DatamapOptions make a data map validate its anonymizers against reg: the
// names it knows, their params at Parse, and their fit to each column at
// CheckSchema (type, length, NULL, UNIQUE).
// It also tells CheckSchema which anonymizers are irreversible, so a field a
// hold's keep leaves out, which held rows must lose, is refused when it can
// be neither anonymized irreversibly nor set to NULL.
func DatamapOptions(reg *anonymize.Registry) []datamap.Option {
	return []datamap.Option{datamap.WithAnonymizers(reg.Known), datamap.WithAnonymizerCheck(anonymizerCheck(reg)),
		datamap.WithIrreversible(func(ref datamap.AnonymizerRef) bool {
			a, err := reg.New(ref.Name, ref.Params)
			return err == nil && a.Irreversible()
		})}
}

func anonymizerCheck(reg *anonymize.Registry) datamap.AnonymizerCheck {
	return func(ref datamap.AnonymizerRef, col *datamap.Column, unique bool) error {
		a, err := reg.New(ref.Name, ref.Params)
		if err != nil || col == nil {
			return err
		}
		return a.Check(AnonymizeColumn(*col, unique))
	}
}

// AnonymizeColumn describes a schema column to an anonymizer.
func AnonymizeColumn(c datamap.Column, unique bool) anonymize.Column {
	return anonymize.Column{DataType: c.DataType, MaxLength: c.MaxLength, Nullable: c.Nullable, Unique: unique}
}

// RefusedError says why a data map cannot carry out an ANONYMIZE: which
// fields would keep personal data, or only pseudonymize it. Reasons are
// written for the titular and the DPO (pt-BR); Error is for logs and API
// messages and names only entities, fields and anonymizers, never data.
type RefusedError struct {
	Reasons []Reason
	fields  []string // "entity.column (why)", for Error
}

func (e *RefusedError) Error() string {
	return "the data map cannot anonymize: " + strings.Join(e.fields, "; ")
}

func (e *RefusedError) add(code, entity, column, why, msg string) {
	e.Reasons = append(e.Reasons, Reason{Code: code, Message: msg, LegalReference: legalAnonymization, Entity: entity})
	e.fields = append(e.fields, entity+"."+column+" ("+why+")")
}

// AnonymizePlan is a data map checked for anonymization, with each personal
// field's anonymizer built. It holds no per-request state and may be shared.
type AnonymizePlan struct {
	m        *datamap.Map
	entities map[string]*entityPlan
	// release is set on a DELETE plan: how a row the DELETE must keep only
	// as an anchor for the CRM's foreign keys is anonymized in place.
	release *ReleasePlan
}

type entityPlan struct {
	e *datamap.Entity
	// blocks is true when one of the entity's holds keeps its rows as they
	// are (on_delete: block): ANONYMIZE then tolerates personal fields it
	// cannot anonymize, which the law keeps.
	blocks bool
	fields []fieldPlan
}

// fieldPlan is one column to anonymize; idx is its position in e.Fields
// (and so in the values a walk delivers).
type fieldPlan struct {
	idx  int
	f    datamap.Field
	anon anonymize.Anonymizer
	// minimizeOnly marks a field without an irreversible anonymizer that a
	// hold's keep leaves out: it is nullified in held rows (data
	// minimization, Art. 6 III) and left alone in others.
	minimizeOnly bool
}

// PlanAnonymize checks that m anonymizes every personal field irreversibly
// and builds the anonymizers. A personal field may keep its value only in an
// entity whose retention hold blocks its rows (the law then requires keeping
// them); a keyed or partial anonymizer (hmac, mask) is pseudonymization and
// refused everywhere. Fields of category
// "contexto" are not personal and are never changed. It returns a
// *RefusedError naming each offending field.
func PlanAnonymize(m *datamap.Map, reg *anonymize.Registry) (*AnonymizePlan, error) {
	return planAnonymize(m, reg, false)
}

// PlanDelete builds the plan a DELETE runs with (Store.DeleteSubject): held
// rows keep only what their running holds need and lose the rest at once.
// A hold with keep: [fields] needs those fields: the others go, with their
// irreversible anonymizer, or NULL when they have none. A hold with
// on_delete: anonymize and no keep needs the fields that have no
// irreversible anonymizer (keep, keyed or partial, or none). A hold with
// on_delete: block and no keep needs the whole row. Entities none of whose
// holds says so get no fields: DELETE deletes or blocks their rows.
// It refuses nothing, since what ANONYMIZE would refuse elsewhere in the map
// must not stop an erasure; it fails only if an anonymizer cannot be built.
func PlanDelete(m *datamap.Map, reg *anonymize.Registry) (*AnonymizePlan, error) {
	p, err := planAnonymize(m, reg, true)
	if err != nil {
		return nil, err
	}
	if p.release, err = PlanRelease(m, reg); err != nil {
		return nil, err
	}
	return p, nil
}

// planAnonymize builds either plan; forDelete selects PlanDelete's rules.
func planAnonymize(m *datamap.Map, reg *anonymize.Registry, forDelete bool) (*AnonymizePlan, error) {
	p, refused, err := buildPlan(m, reg, forDelete)
	if err != nil {
		return nil, err
	}
	if len(refused.Reasons) > 0 {
		return nil, refused
	}
	return p, nil
}

// buildPlan builds the plan and, apart, what it refuses: PlanRelease
// refuses entity by entity where an ANONYMIZE refuses the whole map.
func buildPlan(m *datamap.Map, reg *anonymize.Registry, forDelete bool) (*AnonymizePlan, *RefusedError, error) {
	p := &AnonymizePlan{m: m, entities: map[string]*entityPlan{}}
	refused := &RefusedError{}
	nullify, err := reg.New("nullify", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the registry has no nullify anonymizer: %w", err)
	}
	for _, e := range m.Entities {
		ep := &entityPlan{e: e, blocks: slices.ContainsFunc(e.Holds, func(h *datamap.Retention) bool { return h.OnDelete == "block" && !h.WhileReferenced })}
		p.entities[e.Name] = ep
		// DELETE changes held rows only when a hold says so.
		if forDelete && !slices.ContainsFunc(e.Holds, func(h *datamap.Retention) bool { return h.OnDelete == "anonymize" || h.Keep != nil }) {
			continue
		}
		for i, f := range e.Fields {
			if f.Category == datamap.CategoryContext {
				continue
			}
			var a anonymize.Anonymizer
			if f.Anonymizer != nil {
				if a, err = reg.New(f.Anonymizer.Name, f.Anonymizer.Params); err != nil {
					return nil, nil, fmt.Errorf("entity %s field %s: %w", e.Name, f.Column, err)
				}
			}
			if a != nil && a.Irreversible() {
				if a.Name() != "keep" {
					ep.fields = append(ep.fields, fieldPlan{idx: i, f: f, anon: a})
				}
				continue
			}
			// Retained under a hold (nothing irreversible to apply), or
			// nullified in held rows whose holds do not keep it.
			if leftOutByKeep(e, f.Column) {
				ep.fields = append(ep.fields, fieldPlan{idx: i, f: f, anon: nullify, minimizeOnly: true})
			}
			if forDelete {
				continue
			}
			if a == nil {
				if !ep.blocks {
					refused.add(ReasonNoAnonymizer, e.Name, f.Column, "no anonymizer",
						fmt.Sprintf("O campo %s.%s (%s) é dado pessoal e não tem anonimizador no mapa de dados: ficaria como está.",
							e.Name, f.Column, f.Label))
				}
				continue
			}
			// keep is what a hold retains; a keyed or partial transform is
			// never what ANONYMIZE writes, held or not: once the hold ends the
			// row is anonymized, and a keyed value would stay linkable (Art. 13).
			if !ep.blocks || a.Name() != "keep" {
				refused.add(ReasonNotIrreversible, e.Name, f.Column, a.Name()+" is keyed or partial",
					fmt.Sprintf("O campo %s.%s (%s) usa o anonimizador %q, que %s; a anonimização precisa ser irreversível.",
						e.Name, f.Column, f.Label, a.Name(), notIrreversibleWhy(a.Name())))
			}
		}
	}
	return p, refused, nil
}

// leftOutByKeep reports whether a hold of e lists what it keeps without
// column: a row held by it alone must lose the column.
func leftOutByKeep(e *datamap.Entity, column string) bool {
	return slices.ContainsFunc(e.Holds, func(h *datamap.Retention) bool { return h.Keep != nil && !slices.Contains(h.Keep, column) })
}

// notIrreversibleWhy explains, in pt-BR, why an anonymizer is not anonymization.
func notIrreversibleWhy(name string) string {
	switch name {
	case "keep":
		return "mantém o dado original"
	case "mask":
		return "mostra parte do dado (mascaramento é pseudonimização)"
	case "hmac":
		return "gera um pseudônimo com chave, que quem tem a chave consegue ligar de volta ao titular (pseudonimização)"
	}
	return "não se declara irreversível (pseudonimização)"
}
