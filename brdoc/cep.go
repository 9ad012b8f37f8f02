package brdoc

const cepLen = 8

var (
	errCEPChars  = invalid("invalid CEP: only digits, a dash, dots and spaces are allowed; remove letters and other symbols")
	errCEPLength = invalid("invalid CEP: it must have 8 digits (format 00000-000); check for a missing or extra digit")
	errCEPZero   = invalid("invalid CEP: all zeros is a placeholder, not an address; ask for the real CEP")
)

// NormalizeCEP returns the 8 digits of a CEP written as 01310-100, 01.310-100
// or 01310100. CEPs have no check digit, so only the shape is verified.
// Errors wrap ErrInvalid.
func NormalizeCEP(s string) (string, error) {
	var buf [cepLen]byte
	n, res := collect(s, ".-", buf[:])
	switch {
	case res == scanBadChar:
		return "", errCEPChars
	case res == scanTooLong || n != cepLen:
		return "", errCEPLength
	case string(buf[:]) == "00000000":
		return "", errCEPZero
	}
	if s == string(buf[:]) {
		return s, nil
	}
	return string(buf[:]), nil
}

// FormatCEP writes 8 digits as 00000-000. Any other input is returned unchanged.
func FormatCEP(digits string) string {
	if len(digits) != cepLen || !allDigits(digits) {
		return digits
	}
	return digits[:5] + "-" + digits[5:]
}
