package brdoc

import "strings"

// scanResult tells how collect ended.
type scanResult int

const (
	scanOK      scanResult = iota
	scanBadChar            // a character that is neither a digit nor an allowed separator
	scanTooLong            // more digits than dst holds
)

// collect copies the ASCII digits of s into dst, skipping spaces, tabs and the
// bytes in seps. It returns how many digits were copied. Leading and trailing
// Unicode white space is ignored, so values pasted from spreadsheets work.
func collect(s, seps string, dst []byte) (int, scanResult) {
	s = strings.TrimSpace(s)
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(dst) {
				return n, scanTooLong
			}
			dst[n] = c
			n++
		case c == ' ' || c == '\t' || strings.IndexByte(seps, c) >= 0:
		default:
			return n, scanBadChar
		}
	}
	return n, scanOK
}

// allDigits reports whether s is non-empty and made only of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// repeated reports whether every byte of b equals the first one. Such
// sequences (000…, 111…) satisfy most check-digit formulas but are not issued.
func repeated[T string | []byte](b T) bool {
	for i := 1; i < len(b); i++ {
		if b[i] != b[0] {
			return false
		}
	}
	return true
}

// mod11 turns a weighted sum into a check digit the way CPF and CNPJ do:
// remainders 0 and 1 give 0, any other r gives 11-r.
func mod11(sum int) byte {
	r := sum % 11
	if r < 2 {
		return '0'
	}
	return byte('0' + 11 - r)
}
