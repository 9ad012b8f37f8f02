package datamap

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// MarshalYAML renders the map in the format Parse reads (entities and fields
// in order, one flow mapping per field, as in the design's sketch), so a map
// built in code — a discovery draft, say — can be written out and read back.
// A field label equal to the default (the humanised column name) is omitted.
func (m *Map) MarshalYAML() (any, error) {
	ents := block()
	for _, e := range m.Entities {
		n, err := e.node()
		if err != nil {
			return nil, err
		}
		ents.add(e.Name, n)
	}
	ids := flowSeq()
	for _, id := range m.Identifiers {
		ids.Content = append(ids.Content, str(id))
	}
	subject := flow()
	subject.add("identifiers", ids)
	doc := block()
	doc.add("version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(m.Version)})
	doc.add("subject", subject)
	if len(m.Purposes) > 0 {
		ps := block()
		for _, p := range m.Purposes {
			pn := block()
			pn.add("name", str(p.Name))
			pn.add("description", str(p.Description))
			ps.add(p.Code, pn)
		}
		doc.add("purposes", ps)
	}
	doc.add("entities", ents)
	if r := m.ConsentEvidence; r != nil {
		ce := block()
		ce.add("retention", holdTerms(r))
		doc.add("consent_evidence", ce)
	}
	return (*yaml.Node)(doc), nil
}

// holdTerms renders a hold's basis, reference and years as a flow mapping.
func holdTerms(r *Retention) *mapping {
	ret := flow()
	ret.add("basis", str(r.Basis))
	ret.add("reference", str(r.Reference))
	ret.add("keep_years", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(r.KeepYears)})
	return ret
}

// holdNode renders an entity's hold in the form Parse reads: from as a
// column, or as a mapping for the other forms.
func holdNode(r *Retention) *mapping {
	if r.WhileReferenced {
		ret := flow()
		ret.add("basis", str(r.Basis))
		ret.add("reference", str(r.Reference))
		ret.add("while", str("referenced"))
		if r.Keep != nil {
			ret.add("keep", strSeq(r.Keep))
		}
		return ret
	}
	ret := holdTerms(r)
	f := r.From
	if f.Rule == "" && len(f.LatestOf) == 0 && f.WhenSet == "" {
		ret.add("from", str(f.Column))
	} else {
		from := flow()
		switch {
		case len(f.LatestOf) > 0:
			from.add("latest_of", strSeq(f.LatestOf))
		case f.WhenSet != "":
			from.add("when_set", str(f.WhenSet))
			from.add("else", str(f.Else))
		default:
			from.add("column", str(f.Column))
		}
		from.addStr("rule", f.Rule)
		ret.add("from", from)
	}
	ret.addStr("on_delete", r.OnDelete)
	if r.Keep != nil {
		ret.add("keep", strSeq(r.Keep))
	}
	return ret
}

func (e *Entity) node() (*yaml.Node, error) {
	n := block()
	n.add("table", str(e.Table))
	n.add("key", strSeq(e.Key))
	n.addStr("label", e.Label)
	n.addStr("purpose", e.Purpose)
	n.addStr("legal_basis", e.LegalBasis)
	n.addStr("origin", e.Origin)
	if len(e.SharedWith) > 0 {
		n.add("shared_with", strSeq(e.SharedWith))
	}
	if len(e.Match) > 0 {
		match := flow()
		for _, r := range e.Match {
			match.add(r.Identifier, str(r.Column))
		}
		n.add("match", match)
	}
	if e.Parent != nil {
		on := flow()
		for _, p := range e.Parent.On {
			on.add(p.Child, str(p.Parent))
		}
		parent := flow()
		parent.add("entity", str(e.Parent.Entity))
		parent.add("on", on)
		n.add("parent", parent)
	}
	if len(e.Where) > 0 {
		where := flow()
		for _, c := range e.Where {
			where.add(c.Column, str(c.Value))
		}
		n.add("where", where)
	}
	if len(e.Holds) == 1 {
		n.add("retention", holdNode(e.Holds[0]))
	} else if len(e.Holds) > 1 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, r := range e.Holds {
			seq.Content = append(seq.Content, (*yaml.Node)(holdNode(r)))
		}
		n.add("retention", seq)
	}
	if e.AttachmentPath != "" {
		n.add("attachment_path", str(e.AttachmentPath))
	}
	if len(e.Fields) > 0 {
		fields := block()
		for _, f := range e.Fields {
			fn, err := f.node()
			if err != nil {
				return nil, err
			}
			fields.add(f.Column, fn)
		}
		n.add("fields", fields)
	}
	return (*yaml.Node)(n), nil
}

func (f Field) node() (*yaml.Node, error) {
	n := flow()
	n.add("category", str(f.Category))
	if a := f.Anonymizer; a != nil {
		if len(a.Params) == 0 {
			n.add("anonymizer", str(a.Name))
		} else {
			var params yaml.Node
			if err := params.Encode(a.Params); err != nil {
				return nil, err
			}
			params.Style = yaml.FlowStyle
			ref := flow()
			ref.add("name", str(a.Name))
			ref.add("params", &params)
			n.add("anonymizer", ref)
		}
	}
	switch f.Correctable {
	case "":
	case f.Column:
		n.add("correctable", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	default:
		n.add("correctable", str(f.Correctable))
	}
	n.addStr("validate", f.Validate)
	if f.BirthDate {
		n.add("birth_date", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if f.Label != humanize(f.Column) {
		n.addStr("label", f.Label)
	}
	return (*yaml.Node)(n), nil
}

// mapping builds a yaml mapping node in insertion order.
type mapping yaml.Node

func block() *mapping { return &mapping{Kind: yaml.MappingNode, Tag: "!!map"} }
func flow() *mapping {
	return &mapping{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
}

func (m *mapping) add(key string, v any) {
	var n *yaml.Node
	switch v := v.(type) {
	case *mapping:
		n = (*yaml.Node)(v)
	case *yaml.Node:
		n = v
	}
	m.Content = append(m.Content, str(key), n)
}

// addStr adds key only when s is set.
func (m *mapping) addStr(key, s string) {
	if s != "" {
		m.add(key, str(s))
	}
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func flowSeq() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
}

func strSeq(items []string) *yaml.Node {
	n := flowSeq()
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}
