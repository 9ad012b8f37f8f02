package datamap

import (
	"fmt"
	"strings"
)

// closest returns the candidate nearest to got when it is close enough to be
// a plausible typo, or "".
func closest(got string, candidates []string) string {
	best, bestDist := "", -1
	lg := strings.ToLower(got)
	for _, c := range candidates {
		d := distance(lg, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(got)/3)
	if bestDist < 0 || bestDist > limit || bestDist >= len(got) {
		return ""
	}
	return best
}

// distance is the optimal-string-alignment edit distance (Levenshtein plus
// transposition of adjacent letters, the commonest typo: "tabel").
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(ra)][len(rb)]
}

// choiceFix says how to replace got with one of options: a "did you mean"
// when one is close, then the full list.
func choiceFix(got string, options []string) string {
	list := "use one of: " + strings.Join(options, ", ")
	if c := closest(got, options); c != "" {
		return fmt.Sprintf("did you mean %q? %s", c, list)
	}
	return list
}

// nameFix is choiceFix for open-ended name sets (tables, columns, entities):
// it lists the options only when there are few of them.
func nameFix(got string, options []string, what string) string {
	if c := closest(got, options); c != "" {
		return fmt.Sprintf("did you mean %q?", c)
	}
	if len(options) > 0 && len(options) <= 12 {
		return fmt.Sprintf("use an existing %s: %s", what, strings.Join(options, ", "))
	}
	return fmt.Sprintf("check the spelling against the existing %s names", what)
}
