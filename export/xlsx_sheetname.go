package export

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Excel's limits on sheet names: 31 UTF-16 units, none of []:*?/\, no
// apostrophe at either end, unique regardless of case.
const (
	maxSheetName   = 31
	summarySheet   = "Resumo"
	fallbackSheet  = "Dados"
	forbiddenSheet = `[]:*?/\`
)

// sheetNames hands out unique, valid sheet names from pt-BR labels.
type sheetNames struct {
	used map[string]struct{} // lower-cased names already taken
}

func newSheetNames() *sheetNames {
	return &sheetNames{used: map[string]struct{}{strings.ToLower(summarySheet): {}, strings.ToLower(dataSheet): {}}}
}

// name returns a sheet name for label, deduplicated with " (2)", " (3)", ...
func (s *sheetNames) name(label string) string {
	base := cleanSheetName(label)
	if base == "" {
		base = fallbackSheet
	}
	name := truncateWords(base, maxSheetName)
	for n := 2; ; n++ {
		if _, taken := s.used[strings.ToLower(name)]; !taken {
			break
		}
		suffix := " (" + strconv.Itoa(n) + ")"
		name = truncateWords(base, maxSheetName-len(suffix)) + suffix
	}
	s.used[strings.ToLower(name)] = struct{}{}
	return name
}

// cleanSheetName replaces forbidden and control characters by spaces,
// collapses runs of spaces and trims apostrophes and spaces at the ends.
func cleanSheetName(label string) string {
	var b strings.Builder
	space := false
	for _, r := range label {
		if strings.ContainsRune(forbiddenSheet, r) || unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return strings.Trim(b.String(), "' ")
}

// truncateUTF16 cuts s to at most n UTF-16 code units without splitting a
// character, then trims what would be an invalid end.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n {
			return strings.TrimRight(s[:i], "' ")
		}
	}
	return s
}

// truncateWords cuts s to at most n UTF-16 units at a word boundary, so a
// tab reads "Documentos anexados pelo", not "Documentos anexados pelo corret";
// a first word longer than n is cut where it must be. Separators left at
// the end (" — ", ",") go too.
func truncateWords(s string, n int) string {
	cut := truncateUTF16(s, n)
	if len(cut) == len(s) {
		return s
	}
	if next, _ := utf8.DecodeRuneInString(s[len(cut):]); !unicode.IsSpace(next) {
		if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRightFunc(cut, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' || r == '\''
	})
}
