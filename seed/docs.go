package seed

import (
	"fmt"
	"strings"
)

// The check-digit rules (LGPD.md "Brazilian identifiers") are repeated here on
// purpose: seed must not depend on the public brdoc package, and a second,
// independent implementation is what lets tests cross-check the two.

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
		b.WriteByte(byte('0' + v))
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

// CPF shapes a CRM stores (CONTEXT.md): 12345678909, 123.456.789-09, 123456789-09.
const (
	cpfDigits = iota
	cpfDotted
	cpfDash
	cpfShapes
)

func formatCPF(cpf string, shape int) string {
	switch shape {
	case cpfDotted:
		return cpf[:3] + "." + cpf[3:6] + "." + cpf[6:9] + "-" + cpf[9:]
	case cpfDash:
		return cpf[:9] + "-" + cpf[9:]
	default:
		return cpf
	}
}

// phoneShapes is the number of phone shapes formatPhone knows (CONTEXT.md).
const phoneShapes = 9

// formatPhone renders an E.164 Brazilian number (+55 DDD number) in one of
// the nine shapes of CONTEXT.md. Mobiles split 5-4, landlines 4-4.
func formatPhone(e164 string, shape int) string {
	ddd, num := e164[3:5], e164[5:]
	cut := len(num) - 4
	split := num[:cut] + "-" + num[cut:]
	switch shape {
	case 1:
		return e164[1:]
	case 2:
		return ddd + num
	case 3:
		return "(" + ddd + ") " + split
	case 4:
		return "(" + ddd + ")" + split
	case 5:
		return ddd + " " + split
	case 6:
		return "(" + ddd + ") " + num
	case 7:
		return "+55 " + ddd + " " + split
	case 8:
		return "+55 (" + ddd + ") " + split
	default:
		return e164
	}
}

// formatCEP renders an 8-digit CEP with or without the hyphen.
func formatCEP(cep string, dashed bool) string {
	if dashed {
		return cep[:5] + "-" + cep[5:]
	}
	return cep
}

// money renders cents as a DECIMAL literal; strings keep the values exact.
func money(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
