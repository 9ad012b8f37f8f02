package datamap

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

var (
	fieldKeys      = []string{"category", "anonymizer", "correctable", "validate", "label", "birth_date"}
	anonymizerKeys = []string{"name", "params"}
)

// fields reads column: {category, …} entries in document order.
func (p *parser) fields(n *yaml.Node, path string) []Field {
	ps, ok := p.pairs(n, path, "write fields as column: {category: …, anonymizer: …}")
	if !ok {
		return nil
	}
	var out []Field
	for _, kv := range ps {
		fp := child(path, kv.key)
		p.lines[fp] = kv.kNode.Line
		if !sqlName.MatchString(kv.key) {
			p.addAt(kv.kNode, fp, fmt.Sprintf("%q is not a valid column name", kv.key),
				"use letters, digits and underscores only, starting with a letter or underscore, at most 64 characters")
			continue
		}
		if f, ok := p.field(kv.value, fp, kv.key, kv.kNode.Line); ok {
			f.Line = kv.kNode.Line
			out = append(out, f)
		}
	}
	return out
}

func (p *parser) field(n *yaml.Node, path, column string, line int) (Field, bool) {
	f := Field{Column: column}
	o, ok := p.object(n, path, fieldKeys)
	if !ok {
		return f, false
	}
	o.line = line
	if v := p.require(o, "category", "add category: one of "+joinComma(allCategories())); v != nil {
		f.Category, _ = p.choice(v, child(path, "category"), "category", allCategories())
	}
	if v := o.get("anonymizer"); v != nil {
		f.Anonymizer = p.anonymizer(v, child(path, "anonymizer"))
	}
	if v := o.get("correctable"); v != nil {
		f.Correctable = p.correctable(v, child(path, "correctable"), column)
	}
	if v := o.get("validate"); v != nil {
		f.Validate, _ = p.choice(v, child(path, "validate"), "validation", validators())
	}
	if v := o.get("label"); v != nil {
		f.Label, _ = p.str(v, child(path, "label"))
	}
	if v := o.get("birth_date"); v != nil {
		f.BirthDate = p.birthDate(v, child(path, "birth_date"))
	}
	if f.Label == "" {
		f.Label = humanize(column)
	}
	return f, true
}

// anonymizer reads `name` or `{name: …, params: {…}}`.
func (p *parser) anonymizer(n *yaml.Node, path string) *AnonymizerRef {
	ref := &AnonymizerRef{}
	nameNode := n
	if n.Kind == yaml.MappingNode {
		o, _ := p.object(n, path, anonymizerKeys)
		nameNode = p.require(o, "name", "add name: <anonymizer>, e.g. fake.name")
		if v := o.get("params"); v != nil {
			pp := child(path, "params")
			p.lines[pp] = v.Line
			if v.Kind != yaml.MappingNode {
				p.addAt(v, pp, "params must be a mapping", "write params: {key: value}")
			} else if params, err := paramValue(v); err != nil {
				p.addAt(v, pp, "params cannot be read: "+err.Error(), "write params as plain key: value pairs")
			} else if m, _ := params.(map[string]any); len(m) > 0 {
				// `params: {}` says nothing: the same map as no params,
				// which is how the encoder writes it back.
				ref.Params = m
			}
		}
		if nameNode == nil {
			return nil
		}
		path = child(path, "name")
	}
	name, ok := p.str(nameNode, path)
	if !ok {
		return nil
	}
	if !p.known(name) {
		// The predicate cannot list custom names; suggest the known built-ins.
		var names []string
		for _, b := range BuiltinAnonymizers() {
			if p.known(b) {
				names = append(names, b)
			}
		}
		p.addAt(nameNode, path, fmt.Sprintf("unknown anonymizer %q", name), choiceFix(name, names))
		return nil
	}
	ref.Name = name
	if p.check != nil {
		if err := p.check(*ref, nil, false); err != nil {
			msg, fix := anonymizerProblem(err)
			p.addAt(nameNode, path, msg, fix)
			return nil
		}
	}
	return ref
}

// correctable reads true/false or the logical field name this column copies.
func (p *parser) correctable(n *yaml.Node, path, column string) string {
	p.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			if b {
				return column
			}
			return ""
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!str" {
		p.addAt(n, path, "must be true, false or a field name", "write correctable: true, or the logical field this column copies, e.g. correctable: email")
		return ""
	}
	name, _ := p.name(n, path, "logical field")
	return name
}

// paramValue decodes an anonymizer parameter. Dates stay the text written
// (yaml would turn them into time.Time, which does not survive being written
// back); everything else decodes as YAML does.
func paramValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a parameter name must be plain text", k.Line)
			}
			v, err := paramValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := paramValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!timestamp" {
			return n.Value, nil
		}
		var v any
		err := n.Decode(&v)
		return v, err
	}
	return nil, fmt.Errorf("line %d: unsupported parameter value", n.Line)
}
