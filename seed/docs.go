package seed

import (
	"fmt"
	"strings"

	"github.com/titular/titular/brdoc"
)

// The check-digit rules (LGPD.md "Brazilian identifiers") are computed here
// from a chosen base: brdoc only exposes CPFFromSeed/CNPJFromSeed, whose
// seed-to-value mapping differs, and the seeded data must stay the same for
// the same seed. The shapes come from brdoc, the contract matching relies on.

// cpfFromBase appends the two CPF check digits to a 9-digit base.
func cpfFromBase(base int) string {
	var d [11]int
	for i := 8; i >= 0; i-- {
		d[i] = base % 10
		base /= 10
	}
	d[9] = mod11Digit(d[:9], 10)
	d[10] = mod11Digit(d[:10], 11)
	var b strings.Builder
	for _, v := range d {
		b.WriteByte(byte('0' + v)) //nolint:gosec // G115: base is 0..999,999,999 and the check digits 0..9, so each v is a digit
	}
	return b.String()
}

// mod11Digit is the CPF digit rule: weights from first down to 2, r = sum mod
// 11, digit 0 when r < 2 else 11 - r.
func mod11Digit(digits []int, first int) int {
	sum := 0
	for i, v := range digits {
		sum += v * (first - i)
	}
	if r := sum % 11; r >= 2 {
		return 11 - r
	}
	return 0
}

// cnpjFromBase appends the two CNPJ check digits to a 12-character base of
// digits or upper-case letters (IN RFB 2.229/2024: value = ASCII - 48).
func cnpjFromBase(base string) string {
	w1 := []int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	w2 := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	dv := func(s string, w []int) byte {
		sum := 0
		for i := range len(s) {
			sum += int(s[i]-'0') * w[i]
		}
		if r := sum % 11; r >= 2 {
			return byte('0' + 11 - r)
		}
		return '0'
	}
	s := base + string(dv(base, w1))
	return s + string(dv(s, w2))
}

// CPF shapes a CRM stores, in the order of brdoc.CPFShapes (CONTEXT.md):
// 12345678909, 123.456.789-09, 123456789-09.
const (
	cpfDigits = iota
	cpfDotted
	cpfDash
	cpfShapes
)

// formatCPF renders a valid CPF in one of the shapes above.
func formatCPF(cpf string, shape int) string {
	return shapeOf(brdoc.CPFShapes(cpf), shape, cpf)
}

// phoneShapes is the number of shapes brdoc.PhoneShapes lists (CONTEXT.md).
const phoneShapes = 9

// formatPhone renders an E.164 Brazilian number in one of the nine shapes
// of brdoc.PhoneShapes. Mobiles split 5-4, landlines 4-4.
func formatPhone(e164 string, shape int) string {
	return shapeOf(brdoc.PhoneShapes(e164), shape, e164)
}

// shapeOf picks shapes[i], or v itself when brdoc rejected v (nil shapes)
// or i is out of range; the generator only produces valid values, so the
// fallback never changes the data.
func shapeOf(shapes []string, i int, v string) string {
	if i < 0 || i >= len(shapes) {
		return v
	}
	return shapes[i]
}

// formatCEP renders an 8-digit CEP with (brdoc.FormatCEP) or without the hyphen.
func formatCEP(cep string, dashed bool) string {
	if dashed {
		return brdoc.FormatCEP(cep)
	}
	return cep
}

// money renders cents as a DECIMAL literal; strings keep the values exact.
func money(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
