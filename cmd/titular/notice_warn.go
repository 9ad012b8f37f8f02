package main

import (
	"fmt"

	"github.com/titular/titular/datamap"
)

// unnamedPurposeWarnings says which purpose codes of the map at path have
// no name and description in its purposes section: the titular's copy
// shows them as not informed unless the consent catalog (titular purposes
// load) names them (LGPD Art. 9 I). A map that does not load is reported by
// the data map check, not here.
func unnamedPurposeWarnings(path string) []string {
	m, err := datamap.Load(path)
	if err != nil {
		return nil
	}
	codes := datamap.UnnamedPurposes(m)
	if len(codes) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the data map's purposes section does not name %d purposes: %s; "+
		"add purposes: {code: {name: …, description: …}} in pt-BR, or the titular's copy says \"não informado\" for those "+
		"the consent catalog does not name (LGPD Art. 9 I)", len(codes), joinList(codes, 12))}
}
