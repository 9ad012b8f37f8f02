package brdoc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxEmailLen is the longest address SMTP can carry (RFC 5321 path limit).
const maxEmailLen = 254

var (
	errEmailEmpty  = invalid("invalid e-mail: it is empty; provide an address like nome@exemplo.com.br")
	errEmailLong   = invalid("invalid e-mail: longer than 254 characters; check that only one address was pasted")
	errEmailText   = invalid("invalid e-mail: it has spaces, control characters or broken text encoding; remove them")
	errEmailAt     = invalid("invalid e-mail: it must contain exactly one @; check for a missing or extra @")
	errEmailLocal  = invalid("invalid e-mail: nothing before the @; add the mailbox name")
	errEmailDomain = invalid("invalid e-mail: the domain after the @ is malformed; write it with a dot and no empty parts, like exemplo.com.br")
)

// NormalizeEmail trims and lower-cases an e-mail address and checks its basic
// syntax: one @, a non-empty local part, a domain with a dot and no empty
// labels, no white space, at most 254 bytes. It does not try to implement all
// of RFC 5322; CRMs hold what users typed, and matching needs a stable form.
// Errors wrap ErrInvalid.
func NormalizeEmail(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", errEmailEmpty
	}
	if !utf8.ValidString(t) {
		return "", errEmailText
	}
	t = strings.ToLower(t)
	if len(t) > maxEmailLen {
		return "", errEmailLong
	}
	for _, r := range t {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", errEmailText
		}
	}
	at := strings.IndexByte(t, '@')
	if at < 0 || strings.IndexByte(t[at+1:], '@') >= 0 {
		return "", errEmailAt
	}
	if at == 0 {
		return "", errEmailLocal
	}
	domain := t[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", errEmailDomain
	}
	return t, nil
}
