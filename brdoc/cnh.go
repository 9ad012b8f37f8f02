package brdoc

// ValidCNH reports whether s is a valid CNH (driving licence) register number:
// 11 digits (dots, dashes and spaces ignored), not one repeated digit, with
// the two DENATRAN check digits.
func ValidCNH(s string) bool {
	var d [11]byte
	n, res := collect(s, ".-", d[:])
	if res != scanOK || n != len(d) || repeated(d[:]) {
		return false
	}
	dv1, dv2 := cnhCheckDigits(d[:9])
	return d[9]-'0' == dv1 && d[10]-'0' == dv2
}

// cnhCheckDigits follows the DENATRAN rule: the first digit weighs the base
// 9..1; when it overflows to 0 the second digit is discounted by 2. The second
// weighs the base 1..9.
func cnhCheckDigits(base []byte) (byte, byte) {
	s1, s2 := 0, 0
	for i := 0; i < 9; i++ {
		v := int(base[i] - '0')
		s1 += v * (9 - i)
		s2 += v * (i + 1)
	}
	dv1, discount := s1%11, 0
	if dv1 >= 10 {
		dv1, discount = 0, 2
	}
	dv2 := s2%11 - discount
	if dv2 < 0 {
		dv2 += 11
	}
	if dv2 >= 10 {
		dv2 = 0
	}
	return byte(dv1), byte(dv2) //nolint:gosec // G115: both are digits, 0..9 (above)
}
