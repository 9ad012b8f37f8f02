package brdoc

import "strings"

const cnpjLen = 14

var (
	errCNPJChars    = invalid("invalid CNPJ: only letters, digits, dots, a slash, a dash and spaces are allowed; remove other symbols")
	errCNPJLength   = invalid("invalid CNPJ: it must have 14 characters (format 00.000.000/0000-00); check for a missing or extra character")
	errCNPJDVs      = invalid("invalid CNPJ: the last two characters are check digits and must be numbers; re-enter the CNPJ")
	errCNPJRepeated = invalid("invalid CNPJ: one character repeated is not an issued CNPJ; ask for the real number")
	errCNPJCheck    = invalid("invalid CNPJ: the check digits do not match; a character was probably mistyped, re-enter it")
)

// cnpjWeights are the check-digit weights; the first digit uses the last 12,
// the second all 13 (IN RFB 2.229/2024 keeps the numeric-era weights).
var cnpjWeights = [13]int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}

// NormalizeCNPJ returns the 14 upper-case characters of a CNPJ written with or
// without punctuation (11.222.333/0001-81, 12.abc.345/01de-35). Since IN RFB
// 2.229/2024 the first 12 positions may be letters; the last two stay digits.
// Errors wrap ErrInvalid.
func NormalizeCNPJ(s string) (string, error) {
	s = strings.TrimSpace(s)
	var buf [cnpjLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == '.' || c == '/' || c == '-' || c == ' ' || c == '\t':
			continue
		default:
			return "", errCNPJChars
		}
		if n == cnpjLen {
			return "", errCNPJLength
		}
		buf[n] = c
		n++
	}
	switch {
	case n != cnpjLen:
		return "", errCNPJLength
	case !isDigit(buf[12]) || !isDigit(buf[13]):
		return "", errCNPJDVs
	case repeated(buf[:]):
		return "", errCNPJRepeated
	case !cnpjCheckOK(buf[:]):
		return "", errCNPJCheck
	}
	if len(s) == cnpjLen && s == string(buf[:]) {
		return s, nil
	}
	return string(buf[:]), nil
}

// ValidCNPJ reports whether v is a CNPJ in normalized form: 14 characters, the
// first 12 digits or upper-case letters, two numeric check digits that match,
// and not one repeated character.
func ValidCNPJ(v string) bool {
	if len(v) != cnpjLen || repeated(v) {
		return false
	}
	for i := 0; i < 12; i++ {
		if !isDigit(v[i]) && (v[i] < 'A' || v[i] > 'Z') {
			return false
		}
	}
	return isDigit(v[12]) && isDigit(v[13]) && cnpjCheckOK([]byte(v))
}

// FormatCNPJ writes a 14-character CNPJ as 00.000.000/0000-00 (letters kept).
// Any other input is returned unchanged.
func FormatCNPJ(v string) string {
	if len(v) != cnpjLen {
		return v
	}
	return v[0:2] + "." + v[2:5] + "." + v[5:8] + "/" + v[8:12] + "-" + v[12:14]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func cnpjCheckOK(v []byte) bool {
	dv1, dv2 := cnpjCheckDigits(v[:12])
	return v[12] == dv1 && v[13] == dv2
}

// cnpjCheckDigits computes both check digits of a 12-character base. Each
// character is worth its ASCII code minus 48, so '0'..'9' keep their value and
// 'A'..'Z' are 17..42.
func cnpjCheckDigits(base []byte) (byte, byte) {
	s1, s2 := 0, 0
	for i := 0; i < 12; i++ {
		v := int(base[i]) - '0'
		s1 += v * cnpjWeights[i+1]
		s2 += v * cnpjWeights[i]
	}
	dv1 := mod11(s1)
	s2 += int(dv1-'0') * cnpjWeights[12]
	return dv1, mod11(s2)
}
