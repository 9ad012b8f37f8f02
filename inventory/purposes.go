package inventory

import (
	"slices"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
)

// PurposeEntry is the record read by purpose (Art. 37 asks what is done
// and why): each purpose with its description, the legal bases it rests
// on, the data it uses and to whom that data goes.
type PurposeEntry struct {
	Code, Name, Description string
	// Bases are the legal bases of the entries under the purpose, in words,
	// each once, in entry order.
	Bases []string
	// Data are the labels of the entries under the purpose, in order.
	Data []string
	// SharedWith are the recipients of those entries, each once.
	SharedWith []string
}

// purposes groups the record's entries by purpose: the map's purposes
// section first, in its order, then codes entities use that it does not
// name; a purpose no entry uses is listed too (the map declares it).
func purposes(m *datamap.Map, entries []Entry) []PurposeEntry {
	var out []PurposeEntry
	index := map[string]int{}
	add := func(code, name, desc string) {
		index[code] = len(out)
		out = append(out, PurposeEntry{Code: code, Name: name, Description: desc})
	}
	for _, p := range m.Purposes {
		add(p.Code, p.Name, p.Description)
	}
	for _, e := range entries {
		code := e.Purpose
		i, ok := index[code]
		if !ok {
			add(code, e.PurposeName, config.NotInformed)
			i = index[code]
		}
		p := &out[i]
		if !slices.Contains(p.Bases, e.LegalBasisText) {
			p.Bases = append(p.Bases, e.LegalBasisText)
		}
		p.Data = append(p.Data, e.Label)
		for _, to := range e.SharedWith {
			if !slices.Contains(p.SharedWith, to) {
				p.SharedWith = append(p.SharedWith, to)
			}
		}
	}
	return out
}
