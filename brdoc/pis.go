package brdoc

// pisWeights apply to the first 10 digits of a PIS/PASEP/NIS number.
var pisWeights = [10]int{3, 2, 9, 8, 7, 6, 5, 4, 3, 2}

// ValidPIS reports whether s is a valid PIS/PASEP/NIS number: 11 digits
// (dots, dashes and spaces ignored), not one repeated digit, and a check digit
// of 11 minus the weighted sum modulo 11, where 10 and 11 become 0.
func ValidPIS(s string) bool {
	var d [11]byte
	n, res := collect(s, ".-", d[:])
	if res != scanOK || n != len(d) || repeated(d[:]) {
		return false
	}
	return int(d[10]-'0') == pisCheckDigit(d[:10])
}

// pisCheckDigit is 11 minus the weighted sum of the ten base digits modulo
// 11, with 10 and 11 becoming 0.
func pisCheckDigit(base []byte) int {
	sum := 0
	for i, w := range pisWeights {
		sum += int(base[i]-'0') * w
	}
	dv := 11 - sum%11
	if dv >= 10 {
		dv = 0
	}
	return dv
}
