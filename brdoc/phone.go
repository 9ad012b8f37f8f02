package brdoc

import "strings"

var (
	errPhoneChars    = invalid("invalid phone: only digits, spaces, parentheses, dots, dashes and a leading + are allowed; remove other symbols")
	errPhoneCountry  = invalid("invalid phone: only Brazilian numbers (+55) are supported; check the country code")
	errPhoneLength   = invalid("invalid phone: it needs a two-digit area code (DDD) and 8 or 9 digits, like (11) 9XXXX-XXXX; check for missing or extra digits")
	errPhoneNoDDD    = invalid("invalid phone: the area code (DDD) is missing; add the two-digit DDD in front of the number")
	errPhoneDDD      = invalid("invalid phone: the area code (DDD) must be two digits from 1 to 9 each (11 to 99, no zero); check the DDD")
	errPhoneMobile   = invalid("invalid phone: a 9-digit number must be a mobile starting with 9; check the first digit")
	errPhoneLandline = invalid("invalid phone: an 8-digit landline starts with 2, 3, 4 or 5; an old 8-digit mobile needs a 9 in front")
)

// maxPhoneDigits bounds the digits read: 0055 + DDD + 9 digits is 15.
const maxPhoneDigits = 15

// NormalizePhone returns a Brazilian phone number in E.164 (+55, DDD, number).
// It accepts the shapes CRMs store — +5511987654321, 5511987654321,
// 11987654321, (11) 98765-4321, +55 (11) 98765-4321 and similar — plus a
// trunk 0 before the DDD (011…) and the 0055 international prefix. Mobiles
// have 9 digits starting with 9; landlines 8 digits starting with 2 to 5.
// Errors wrap ErrInvalid.
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	plus := strings.HasPrefix(t, "+")
	if plus {
		t = t[1:]
	}
	var buf [maxPhoneDigits]byte
	n, res := collect(t, "().-", buf[:])
	switch res {
	case scanBadChar:
		return "", errPhoneChars
	case scanTooLong:
		return "", errPhoneLength
	}
	d := buf[:n]
	switch {
	case plus:
		if len(d) < 2 || d[0] != '5' || d[1] != '5' {
			return "", errPhoneCountry
		}
		d = d[2:]
	case hasPrefix(d, "0055"):
		d = d[4:]
	case hasPrefix(d, "00"):
		return "", errPhoneCountry
	case (len(d) == 12 || len(d) == 13) && hasPrefix(d, "55"):
		d = d[2:]
	}
	// A trunk 0 before the DDD (011 98765-4321) is how numbers are dialled
	// between areas; it is not part of the number.
	if (len(d) == 11 || len(d) == 12) && d[0] == '0' {
		d = d[1:]
	}
	switch len(d) {
	case 8, 9:
		return "", errPhoneNoDDD
	case 10, 11:
	default:
		return "", errPhoneLength
	}
	if err := checkNational(d); err != nil {
		return "", err
	}
	var out [3 + 11]byte
	copy(out[:], "+55")
	m := 3 + copy(out[3:], d)
	if s == string(out[:m]) {
		return s, nil
	}
	return string(out[:m]), nil
}

// checkNational validates DDD + number (10 or 11 digits).
func checkNational(d []byte) error {
	if d[0] < '1' || d[0] > '9' || d[1] < '1' || d[1] > '9' {
		return errPhoneDDD
	}
	num := d[2:]
	if len(num) == 9 {
		if num[0] != '9' {
			return errPhoneMobile
		}
		return nil
	}
	if num[0] < '2' || num[0] > '5' {
		return errPhoneLandline
	}
	return nil
}

func hasPrefix(d []byte, p string) bool {
	return len(d) >= len(p) && string(d[:len(p)]) == p
}

// validE164 reports whether e is a normalized phone as NormalizePhone returns.
func validE164(e string) bool {
	if !strings.HasPrefix(e, "+55") || !allDigits(e[3:]) {
		return false
	}
	d := []byte(e[3:])
	return (len(d) == 10 || len(d) == 11) && checkNational(d) == nil
}

// PhoneShapes lists the spellings of one phone number that CRMs store, E.164
// first. For +5511987654321 (mobiles split 5-4, landlines 4-4):
//
//	+5511987654321, 5511987654321, 11987654321, (11) 98765-4321,
//	(11)98765-4321, 11 98765-4321, (11) 987654321, +55 11 98765-4321,
//	+55 (11) 98765-4321
//
// It returns nil when e164 is not a number NormalizePhone would return.
func PhoneShapes(e164 string) []string {
	if !validE164(e164) {
		return nil
	}
	ddd, num := e164[3:5], e164[5:]
	cut := 4
	if len(num) == 9 {
		cut = 5
	}
	split := num[:cut] + "-" + num[cut:]
	return []string{
		e164,
		e164[1:],
		ddd + num,
		"(" + ddd + ") " + split,
		"(" + ddd + ")" + split,
		ddd + " " + split,
		"(" + ddd + ") " + num,
		"+55 " + ddd + " " + split,
		"+55 (" + ddd + ") " + split,
	}
}
