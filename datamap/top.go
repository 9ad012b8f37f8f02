package datamap

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// parser turns the document into a Map.
type parser struct {
	*decoder
	known func(name string) bool
	check AnonymizerCheck
	// broken holds entities whose match or parent was present but invalid.
	broken, brokenMatch map[string]bool
	// noSubject is set when subject.identifiers could not be read, so match
	// rules are not also reported as using undeclared identifiers.
	noSubject bool
}

var (
	topKeys               = []string{"version", "subject", "entities", "consent_evidence", "purposes"}
	subjectKeys           = []string{"identifiers"}
	consentEvidenceKeys   = []string{"retention"}
	evidenceRetentionKeys = []string{"basis", "reference", "keep_years"}
)

// top reads version, subject, purposes, entities and consent_evidence.
func (p *parser) top(n *yaml.Node, m *Map) {
	o, ok := p.object(n, "", topKeys)
	if !ok {
		return
	}
	for k, kn := range o.keys {
		p.lines[k] = kn.Line
	}
	if v := p.require(o, "version", "add version: 1 at the top"); v != nil {
		if ver, ok := p.integer(v, "version"); ok {
			if ver != 1 {
				p.addAt(v, "version", fmt.Sprintf("unsupported version %d", ver), "use version: 1")
			}
			m.Version = ver
		}
	}
	if s := p.require(o, "subject", "add subject: {identifiers: [cpf, email]}"); s != nil {
		m.Identifiers = p.subject(s, o.keys["subject"].Line)
	}
	p.noSubject = len(m.Identifiers) == 0
	if e := p.require(o, "entities", "add entities: with at least one entity that has match"); e != nil {
		p.entities(e, m)
	}
	if v := o.get("consent_evidence"); v != nil {
		m.ConsentEvidence = p.consentEvidence(v)
	}
	if v := o.get("purposes"); v != nil {
		p.purposes(v, m)
	}
}

// consentEvidence reads how long consent evidence outlives the titular's
// erasure: consent_evidence: {retention: {basis, reference, keep_years}},
// counted from each consent record's date.
func (p *parser) consentEvidence(n *yaml.Node) *Retention {
	o, ok := p.object(n, "consent_evidence", consentEvidenceKeys)
	if !ok {
		return nil
	}
	v := p.require(o, "retention", "add retention: {basis: exercicio_direitos, reference: <the rule>, keep_years: <years>}, "+
		"or remove consent_evidence so evidence goes when the titular is deleted")
	if v == nil {
		return nil
	}
	path := "consent_evidence.retention"
	ro, ok := p.object(v, path, evidenceRetentionKeys)
	if !ok {
		return nil
	}
	r := &Retention{}
	if !p.holdTerms(ro, path, r) {
		return nil
	}
	return r
}

func (p *parser) subject(n *yaml.Node, line int) []string {
	o, ok := p.object(n, "subject", subjectKeys)
	if !ok {
		return nil
	}
	o.line = line
	v := p.require(o, "identifiers", "add identifiers: [cpf, email, phone] (those the CRM holds)")
	if v == nil {
		return nil
	}
	items, ok := p.list(v, "subject.identifiers", "write identifiers: [cpf, email]")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.addAt(v, "subject.identifiers", "no identifiers", "list at least one of: cpf, email, phone")
	}
	var ids []string
	for i, it := range items {
		path := index("subject.identifiers", i)
		id, ok := p.choice(it, path, "identifier", identifierNames())
		if !ok {
			continue
		}
		if slices.Contains(ids, id) {
			p.addAt(it, path, fmt.Sprintf("%q is listed twice", id), "remove the repeated entry")
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

func (p *parser) entities(n *yaml.Node, m *Map) {
	ps, ok := p.pairs(n, "entities", "write entities as name: {table: …, key: […], …}")
	if !ok {
		return
	}
	if len(ps) == 0 {
		p.addAt(n, "entities", "no entities", "add at least one entity with table, key and match")
		return
	}
	for _, kv := range ps {
		path := child("entities", kv.key)
		p.lines[path] = kv.kNode.Line
		if !sqlName.MatchString(kv.key) {
			p.addAt(kv.kNode, path, fmt.Sprintf("%q is not a valid entity name", kv.key),
				"use letters, digits and underscores only, starting with a letter or underscore, at most 64 characters")
			continue
		}
		e := &Entity{Name: kv.key, Line: kv.kNode.Line}
		p.entity(kv.value, path, e, m.Identifiers)
		m.Entities = append(m.Entities, e)
	}
}
