package report

import (
	"cmp"
	"slices"
)

// kindOrder is the order kinds are drawn and listed in: Art. 18's order.
// Never modified.
var kindOrder = []string{"CONFIRM", "EXTRACT", "CORRECT", "DELETE", "ANONYMIZE", "BLOCK", "CONSENT", "REVIEW"}

// kindNames are the kinds' short pt-BR names for legends and columns.
// Never modified.
var kindNames = map[string]string{
	"CONFIRM":   "Confirmação",
	"EXTRACT":   "Acesso",
	"CORRECT":   "Correção",
	"DELETE":    "Eliminação",
	"ANONYMIZE": "Anonimização",
	"BLOCK":     "Bloqueio",
	"CONSENT":   "Consentimento",
	"REVIEW":    "Revisão de decisão automatizada",
}

// KindName names a kind in pt-BR; an unknown code is shown as it is.
func KindName(kind string) string {
	if n, ok := kindNames[kind]; ok {
		return n
	}
	return kind
}

// kindRank orders kinds by kindOrder, unknown ones last by code.
func kindRank(a, b string) int {
	ia, ib := slices.Index(kindOrder, a), slices.Index(kindOrder, b)
	switch {
	case ia < 0 && ib < 0:
		return cmp.Compare(a, b)
	case ia < 0:
		return 1
	case ib < 0:
		return -1
	}
	return ia - ib
}

// kinds lists the kinds present in r, in kindOrder.
func (r Report) kinds() []string {
	var out []string
	for _, m := range r.Months {
		for _, k := range m.Kinds {
			if !slices.Contains(out, k.Kind) {
				out = append(out, k.Kind)
			}
		}
	}
	slices.SortFunc(out, kindRank)
	return out
}

// Kinds lists the kinds present in r in the order the charts and files
// list them (Art. 18's).
func (r Report) Kinds() []string { return r.kinds() }

// sortedKinds returns m's kinds in kindOrder.
func (m Month) sortedKinds() []KindCount {
	out := slices.Clone(m.Kinds)
	slices.SortFunc(out, func(a, b KindCount) int { return kindRank(a.Kind, b.Kind) })
	return out
}

// palette colours kinds in kindOrder: the Okabe–Ito colours, told apart
// by people with the common colour-vision deficiencies. Never modified.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

// kindColor is the colour of kind: its place in kindOrder, grey when unknown.
func kindColor(kind string) string {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return palette[i]
	}
	return "#999999"
}
