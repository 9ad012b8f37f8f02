package brdoc

// ddds are the area codes Anatel assigns (Plano Geral de Códigos
// Nacionais). A generated phone uses one of them, so it passes the same
// checks a real number does.
var ddds = [...]string{
	"11", "12", "13", "14", "15", "16", "17", "18", "19",
	"21", "22", "24", "27", "28",
	"31", "32", "33", "34", "35", "37", "38",
	"41", "42", "43", "44", "45", "46", "47", "48", "49",
	"51", "53", "54", "55",
	"61", "62", "63", "64", "65", "66", "67", "68", "69",
	"71", "73", "74", "75", "77", "79",
	"81", "82", "83", "84", "85", "86", "87", "88", "89",
	"91", "92", "93", "94", "95", "96", "97", "98", "99",
}

// PhoneFromSeed returns a Brazilian phone in E.164 chosen by n: a mobile
// (+55, DDD, 9 digits starting with 9) or a landline (+55, DDD, 8 digits
// starting with 2 to 5). The same (n, mobile) always gives the same number,
// and NormalizePhone accepts it unchanged.
func PhoneFromSeed(n uint64, mobile bool) string {
	ddd := ddds[n%uint64(len(ddds))]
	n /= uint64(len(ddds))
	var out [3 + 2 + 9]byte
	copy(out[:], "+55")
	copy(out[3:], ddd)
	size := len(out) // mobile: 9 then 8 digits
	if mobile {
		out[5] = '9'
	} else {
		size--
		out[5] = byte('2' + n%4)
		n /= 4
	}
	for i := size - 1; i > 5; i-- {
		out[i] = byte('0' + n%10)
		n /= 10
	}
	return string(out[:size])
}

// CEPFromSeed returns a CEP (8 digits) chosen by n. CEPs have no check digit;
// the value lies in 01000-000 … 99999-999, the range the Correios use, so it
// is never the all-zero placeholder NormalizeCEP rejects.
func CEPFromSeed(n uint64) string {
	const low, span = 1_000_000, 99_000_000 // 01000000 … 99999999
	v := low + n%span
	var d [cepLen]byte
	for i := cepLen - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return string(d[:])
}

// PISFromSeed returns a valid PIS/PASEP/NIS number (11 digits) chosen by n.
func PISFromSeed(n uint64) string {
	var d [11]byte
	cpfSpace.base(n, d[:9])
	d[9] = byte('1' + n%9)                    // ten base digits: never all equal with the nine drawn
	d[10] = byte('0' + pisCheckDigit(d[:10])) //nolint:gosec // G115: a check digit is 0..9
	return string(d[:])
}

// CNHFromSeed returns a valid CNH register number (11 digits) chosen by n.
func CNHFromSeed(n uint64) string {
	var d [11]byte
	cpfSpace.base(n, d[:9])
	dv1, dv2 := cnhCheckDigits(d[:9])
	d[9], d[10] = '0'+dv1, '0'+dv2
	return string(d[:])
}
