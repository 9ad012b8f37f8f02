package export

import (
	"strings"
	"unicode"
)

// What the XLSX and the PDF copy share so a person reads the same words in
// both: column headings, counts, yes/no.

// referenceNote follows the heading of a column that holds another
// record's internal key (a broker, a unit): the number means nothing to the
// titular unless they are told what it is.
const referenceNote = " (código interno)"

// fieldHeader is the heading of f's column: its label, and for a column
// that holds an internal key, a note saying so.
func fieldHeader(f Field) string {
	label := f.Label
	if label == "" {
		label = f.Name
	}
	if isReferenceField(f.Name) && !explainsItself(label) {
		label += referenceNote
	}
	return label
}

// isReferenceField reports whether a column name is a key by the usual
// conventions: "id", "idcorretor", "corretor_id", "id_corretor".
func isReferenceField(name string) bool {
	n := strings.ToLower(name)
	switch {
	case n == "id", strings.HasSuffix(n, "_id"), strings.HasPrefix(n, "id_"):
		return true
	case strings.HasPrefix(n, "id") && len(n) > 2:
		r := rune(n[2])
		return unicode.IsLetter(r) && !strings.HasPrefix(n, "ide") && !strings.HasPrefix(n, "ida")
	}
	return false
}

// explainsItself reports whether a label already says its value is a code
// or a reference.
func explainsItself(label string) bool {
	l := strings.ToLower(label)
	for _, w := range []string{"código", "codigo", "referência", "referencia", "protocolo", "identificador", "número", "nº"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// purposeText is an entity's purpose as the titular reads it: its name,
// or the code when nothing names it.
func purposeText(e Entity) string {
	if e.PurposeLabel != "" {
		return e.PurposeLabel
	}
	return e.Purpose
}

// noRecords is what the copy says of an entity with nothing about the
// titular (Art. 19 II: the answer states that too).
const noRecords = "sem registros"

// rowCount is the Registros cell of an entity in the summary: the count,
// or "sem registros" (such an entity has no sheet of its own).
func rowCount(rows int) any {
	if rows == 0 {
		return noRecords
	}
	return int64(rows)
}
