package datamap

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Purpose names one purpose code of the map for the titular (LGPD Art. 9
// I): the entities' `purpose` values are codes (cadastro_cliente), and the
// titular's copy shows Name and Description instead.
type Purpose struct {
	Code, Name, Description string
	Line                    int
}

var purposeKeys = []string{"name", "description"}

// Purpose returns the map's entry for code, or false.
func (m *Map) Purpose(code string) (Purpose, bool) {
	i := slices.IndexFunc(m.Purposes, func(p Purpose) bool { return p.Code == code })
	if i < 0 {
		return Purpose{}, false
	}
	return m.Purposes[i], true
}

// purposes reads `purposes: {code: {name, description}}`: both values are
// required, since a purpose the titular reads without a description tells
// them nothing.
func (p *parser) purposes(n *yaml.Node, m *Map) {
	ps, ok := p.pairs(n, "purposes", "write purposes as code: {name: …, description: …}")
	if !ok {
		return
	}
	for _, kv := range ps {
		path := child("purposes", kv.key)
		p.lines[path] = kv.kNode.Line
		if !sqlName.MatchString(kv.key) {
			p.addAt(kv.kNode, path, fmt.Sprintf("%q is not a valid purpose code", kv.key),
				"use the code the entities' purpose names: letters, digits and underscores, starting with a letter")
			continue
		}
		o, ok := p.object(kv.value, path, purposeKeys)
		if !ok {
			continue
		}
		o.line = kv.kNode.Line
		pu := Purpose{Code: kv.key, Line: kv.kNode.Line}
		if v := p.require(o, "name", "add name: <the purpose as the titular reads it, e.g. Cadastro de clientes>"); v != nil {
			pu.Name, _ = p.str(v, child(path, "name"))
		}
		if v := p.require(o, "description", "add description: <what is done with the data and why, in a sentence>"); v != nil {
			pu.Description, _ = p.str(v, child(path, "description"))
		}
		if pu.Name == kv.key {
			p.addAt(kv.value, child(path, "name"), "the name repeats the code",
				"write the purpose as the titular reads it, in words (e.g. Cadastro de clientes)")
		}
		m.Purposes = append(m.Purposes, pu)
	}
}

// UnnamedPurposes lists, in document order, the purpose codes entities use
// that the map's purposes section does not name. The titular's copy shows
// them as not informed unless the tenant's consent catalog names them;
// `titular datamap check` and `tenants check` warn about them.
func UnnamedPurposes(m *Map) []string {
	var out []string
	for _, e := range m.Entities {
		code := strings.TrimSpace(e.Purpose)
		if code == "" || slices.Contains(out, code) {
			continue
		}
		if _, ok := m.Purpose(code); !ok {
			out = append(out, code)
		}
	}
	return out
}
