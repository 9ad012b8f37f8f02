package brdoc

const cpfLen = 11

var (
	errCPFChars    = invalid("invalid CPF: only digits, dots, a dash and spaces are allowed; remove letters and other symbols")
	errCPFShort    = invalid("invalid CPF: fewer than 11 digits; if it was stored as a number, restore the leading zeros")
	errCPFLong     = invalid("invalid CPF: more than 11 digits; check for an extra digit or a CNPJ in the CPF field")
	errCPFRepeated = invalid("invalid CPF: one digit repeated is not an issued CPF; ask for the real number")
	errCPFCheck    = invalid("invalid CPF: the check digits do not match; a digit was probably mistyped, re-enter it")
)

// NormalizeCPF returns the 11 digits of a CPF written in any common shape
// (12345678909, 123.456.789-09, 123456789-09, with stray spaces). It rejects a
// wrong number of digits, letters, repeated-digit sequences and wrong check
// digits, with an error wrapping ErrInvalid.
func NormalizeCPF(s string) (string, error) {
	var buf [cpfLen]byte
	n, res := collect(s, ".-", buf[:])
	switch {
	case res == scanBadChar:
		return "", errCPFChars
	case res == scanTooLong:
		return "", errCPFLong
	case n < cpfLen:
		return "", errCPFShort
	case repeated(buf[:]):
		return "", errCPFRepeated
	case !cpfCheckOK(buf[:]):
		return "", errCPFCheck
	}
	// Already normalized input is returned as is: no allocation on the hot path.
	if len(s) == cpfLen && s == string(buf[:]) {
		return s, nil
	}
	return string(buf[:]), nil
}

// ValidCPF reports whether digits is a CPF in normalized form: 11 digits, not
// one repeated digit, with matching check digits.
func ValidCPF(digits string) bool {
	return len(digits) == cpfLen && allDigits(digits) && !repeated(digits) && cpfCheckOK([]byte(digits))
}

// FormatCPF writes 11 digits as 000.000.000-00. Any other input is returned
// unchanged, so it is safe on values that failed validation.
func FormatCPF(digits string) string {
	if len(digits) != cpfLen || !allDigits(digits) {
		return digits
	}
	return digits[0:3] + "." + digits[3:6] + "." + digits[6:9] + "-" + digits[9:11]
}

// CPFShapes lists the spellings of one CPF that CRMs store, normalized form
// first: 12345678909, 123.456.789-09, 123456789-09. It returns nil when digits
// is not a valid normalized CPF.
func CPFShapes(digits string) []string {
	if !ValidCPF(digits) {
		return nil
	}
	return []string{digits, FormatCPF(digits), digits[0:9] + "-" + digits[9:11]}
}

// cpfCheckOK verifies both check digits of 11 ASCII digits.
func cpfCheckOK(d []byte) bool {
	dv1, dv2 := cpfCheckDigits(d[:9])
	return d[9] == dv1 && d[10] == dv2
}

// cpfCheckDigits computes the two check digits of a 9-digit CPF base:
// weights 10..2 for the first, 11..2 (over base + first) for the second.
func cpfCheckDigits(base []byte) (byte, byte) {
	s1, s2 := 0, 0
	for i := 0; i < 9; i++ {
		v := int(base[i] - '0')
		s1 += v * (10 - i)
		s2 += v * (11 - i)
	}
	dv1 := mod11(s1)
	s2 += int(dv1-'0') * 2
	return dv1, mod11(s2)
}
