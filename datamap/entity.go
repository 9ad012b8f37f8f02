package datamap

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	entityKeys = []string{"table", "key", "label", "purpose", "legal_basis", "origin", "shared_with", "match", "parent", "where", "fields", "retention", "attachment_path"}
	parentKeys = []string{"entity", "on"}
)

// maxKeepYears bounds retention so release dates stay sane; no Brazilian
// hold relevant here exceeds a few decades.
const maxKeepYears = 100

// entity reads one entity; ids are the subject identifiers declared.
func (p *parser) entity(n *yaml.Node, path string, e *Entity, ids []string) {
	o, ok := p.object(n, path, entityKeys)
	if !ok {
		return
	}
	o.line = e.Line
	if v := p.require(o, "table", "add table: <the table's name>"); v != nil {
		e.Table, _ = p.name(v, child(path, "table"), "table")
	}
	if v := p.require(o, "key", "add key: [<primary key column>]"); v != nil {
		kp := child(path, "key")
		e.Key = p.nameList(v, kp, "column", "write key: [id] (the primary key or a unique key)")
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			p.addAt(v, kp, "key is empty", "list the primary key column(s), e.g. key: [id]")
		}
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"label", &e.Label}, {"purpose", &e.Purpose}, {"origin", &e.Origin}} {
		if v := o.get(k.key); v != nil {
			*k.dst, _ = p.str(v, child(path, k.key))
		}
	}
	if v := o.get("legal_basis"); v != nil {
		e.LegalBasis, _ = p.choice(v, child(path, "legal_basis"), "legal basis", legalBases())
	}
	if v := o.get("shared_with"); v != nil {
		sp := child(path, "shared_with")
		if items, ok := p.list(v, sp, "write shared_with: [\"Banco X (correspondente)\"]"); ok {
			for i, it := range items {
				if s, ok := p.str(it, index(sp, i)); ok {
					e.SharedWith = append(e.SharedWith, s)
				}
			}
		}
	}
	// A match or parent that is present but broken has been reported; the
	// graph checks skip the entity rather than report it unreachable too.
	if v := o.get("match"); v != nil {
		e.Match = p.match(v, child(path, "match"), ids)
		if len(e.Match) == 0 {
			p.broken[e.Name], p.brokenMatch[e.Name] = true, true
		}
	}
	if v := o.get("parent"); v != nil {
		e.Parent = p.parent(v, child(path, "parent"))
		if e.Parent == nil {
			p.broken[e.Name] = true
		}
	}
	if v := o.get("where"); v != nil {
		e.Where = p.where(v, child(path, "where"))
	}
	if v := o.get("fields"); v != nil {
		e.Fields = p.fields(v, child(path, "fields"))
	}
	for _, f := range e.Fields {
		if f.Anonymizer != nil && f.Anonymizer.Name != "keep" && slices.ContainsFunc(e.Where, func(w Condition) bool { return w.Column == f.Column }) {
			fp := child(path, "fields."+f.Column)
			p.add(f.Line, fp, fmt.Sprintf("column %s is in where, so changing it would move the row out of the entity", f.Column),
				"map it as category: contexto (no anonymizer) or anonymizer: keep")
		}
	}
	if v := o.get("retention"); v != nil {
		e.Holds = p.retention(v, child(path, "retention"), e)
	}
	if v := o.get("attachment_path"); v != nil {
		e.AttachmentPath, _ = p.name(v, child(path, "attachment_path"), "column")
	}
}

// match reads identifier: column rules; identifiers must be declared in subject.
func (p *parser) match(n *yaml.Node, path string, ids []string) []MatchRule {
	ps, ok := p.pairs(n, path, "write match: {cpf: <column>, email: <column>}")
	if !ok {
		return nil
	}
	if len(ps) == 0 {
		p.addAt(n, path, "match is empty", "add identifier: column entries, or remove match and add parent")
	}
	var rules []MatchRule
	for _, kv := range ps {
		rp := child(path, kv.key)
		p.lines[rp] = kv.kNode.Line
		okID := true
		switch {
		case !slices.Contains(identifierNames(), kv.key):
			p.addAt(kv.kNode, rp, fmt.Sprintf("unknown identifier %q", kv.key), choiceFix(kv.key, identifierNames()))
			okID = false
		case !slices.Contains(ids, kv.key) && !p.noSubject:
			p.addAt(kv.kNode, rp, fmt.Sprintf("identifier %q is not declared in subject.identifiers", kv.key),
				fmt.Sprintf("add %s to subject.identifiers or remove this rule", kv.key))
			okID = false
		}
		col, okCol := p.name(kv.value, rp, "column")
		if okID && okCol {
			rules = append(rules, MatchRule{Identifier: kv.key, Column: col})
		}
	}
	return rules
}

// where reads column: constant conditions. A constant is a text, number or
// boolean scalar; NULL is refused (a column = NULL matches no row).
func (p *parser) where(n *yaml.Node, path string) []Condition {
	ps, ok := p.pairs(n, path, "write where: {<column>: <value>}, e.g. where: {parent_type: Contacts}")
	if !ok {
		return nil
	}
	if len(ps) == 0 {
		p.addAt(n, path, "where is empty", "add <column>: <value> entries, or remove where")
	}
	var out []Condition
	for _, kv := range ps {
		cp := child(path, kv.key)
		p.lines[cp] = kv.kNode.Line
		if !sqlName.MatchString(kv.key) {
			p.addAt(kv.kNode, cp, fmt.Sprintf("%q is not a valid column name", kv.key),
				"use letters, digits and underscores only, starting with a letter or underscore")
			continue
		}
		if kv.value.Kind != yaml.ScalarNode || kv.value.Tag == "!!null" {
			p.addAt(kv.value, cp, "must be one constant value",
				"write the value the column must hold, e.g. Contacts or 0; where cannot test for NULL or a list")
			continue
		}
		v := kv.value.Value
		if kv.value.Tag == "!!bool" {
			// YAML's true/false (and yes/no) reach MySQL as 1/0.
			v = map[bool]string{true: "1", false: "0"}[strings.EqualFold(v, "true") || strings.EqualFold(v, "yes") || strings.EqualFold(v, "on")]
		}
		out = append(out, Condition{Column: kv.key, Value: v})
	}
	return out
}

func (p *parser) parent(n *yaml.Node, path string) *Parent {
	o, ok := p.object(n, path, parentKeys)
	if !ok {
		return nil
	}
	par := &Parent{}
	if v := p.require(o, "entity", "add entity: <name of the parent entity>"); v != nil {
		par.Entity, _ = p.name(v, child(path, "entity"), "entity")
	}
	if v := p.require(o, "on", "add on: {<child column>: <parent column>}"); v != nil {
		op := child(path, "on")
		p.lines[op] = v.Line
		ps, ok := p.pairs(v, op, "write on: {<child column>: <parent column>}")
		if ok && len(ps) == 0 {
			p.addAt(v, op, "on is empty", "add at least one <child column>: <parent column> pair")
		}
		for _, kv := range ps {
			cp := child(op, kv.key)
			p.lines[cp] = kv.kNode.Line
			if !sqlName.MatchString(kv.key) {
				p.addAt(kv.kNode, cp, fmt.Sprintf("%q is not a valid column name", kv.key),
					"use letters, digits and underscores only, starting with a letter or underscore")
				continue
			}
			if pc, ok := p.name(kv.value, cp, "column"); ok {
				par.On = append(par.On, ColumnPair{Child: kv.key, Parent: pc})
			}
		}
	}
	if par.Entity == "" {
		return nil
	}
	return par
}

// holdTerms reads what every hold states: its legal basis, the rule that
// imposes it and how many years it lasts. It reports whether all three are
// valid.
func (p *parser) holdTerms(o object, path string, r *Retention) bool {
	valid, ok := true, false
	if v := p.require(o, "basis", "add basis: obrigacao_legal (or another legal basis)"); v != nil {
		r.Basis, ok = p.choice(v, child(path, "basis"), "legal basis", legalBases())
		valid = valid && ok
	} else {
		valid = false
	}
	if v := p.require(o, "reference", `add reference: the rule that imposes the hold, e.g. "Lei 9.613/1998 art. 10"`); v != nil {
		r.Reference, ok = p.str(v, child(path, "reference"))
		valid = valid && ok
	} else {
		valid = false
	}
	if v := p.require(o, "keep_years", "add keep_years: <years the hold lasts>"); v != nil {
		kp := child(path, "keep_years")
		if r.KeepYears, ok = p.integer(v, kp); ok && (r.KeepYears <= 0 || r.KeepYears > maxKeepYears) {
			p.addAt(v, kp, fmt.Sprintf("keep_years must be between 1 and %d", maxKeepYears), "write the length of the hold in whole years")
			ok = false
		}
		valid = valid && ok
	} else {
		valid = false
	}
	return valid
}
