package datamap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML renders the draft as a data map Parse reads, with discovery's notes
// as comments: one above each entity, one after each field (confidence and
// why), and the columns it could not place at the end. header opens the
// document (one comment line per line). Notes never quote sampled values.
func (d *Draft) YAML(header string) ([]byte, error) {
	v, err := d.Map.MarshalYAML()
	if err != nil {
		return nil, err
	}
	doc, ok := v.(*yaml.Node)
	if !ok {
		return nil, errors.New("draft: unexpected YAML node")
	}
	doc.HeadComment = header
	if ents := mappingValue(doc, "entities"); ents != nil {
		for i := 0; i+1 < len(ents.Content); i += 2 {
			name := ents.Content[i].Value
			ents.Content[i].HeadComment = d.Notes[name]
			fields := mappingValue(ents.Content[i+1], "fields")
			if fields == nil {
				continue
			}
			for j := 0; j+1 < len(fields.Content); j += 2 {
				fields.Content[j+1].LineComment = d.Notes[name+"."+fields.Content[j].Value]
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("draft: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("draft: %w", err)
	}
	buf.WriteString(d.unplacedComment())
	return buf.Bytes(), nil
}

// unplacedComment lists the columns that look personal but were not placed.
func (d *Draft) unplacedComment() string {
	var b strings.Builder
	b.WriteString("\n# Personal-looking columns not placed in this draft:\n")
	if len(d.Unplaced) == 0 {
		b.WriteString("#   none\n")
	}
	for _, f := range d.Unplaced {
		fmt.Fprintf(&b, "#   %s.%s (%s): %s\n", f.Table, f.Column, f.Kind, f.Reason)
	}
	if len(d.Context) > 0 {
		b.WriteString("# Left out as shared context, or relations not used:\n")
		for _, c := range d.Context {
			fmt.Fprintf(&b, "#   %s\n", c)
		}
	}
	return b.String()
}

// mappingValue returns the value under key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
