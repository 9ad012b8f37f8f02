package webhook

import (
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"id":"e1","type":"consent.revoked"}`)
	sig := Sign(secret, body)
	// Known answer: HMAC-SHA256 is deterministic, so the header is too.
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature %q", sig)
	}
	if !Verify(secret, body, sig) {
		t.Error("a signature does not verify its own body")
	}
	for name, c := range map[string]struct {
		secret, body []byte
		sig          string
	}{
		"other body":   {secret, []byte(`{"id":"e2","type":"consent.revoked"}`), sig},
		"other secret": {[]byte("another-secret-of-32-bytes......."), body, sig},
		"no prefix":    {secret, body, strings.TrimPrefix(sig, "sha256=")},
		"not hex":      {secret, body, "sha256=zz"},
		"truncated":    {secret, body, sig[:len(sig)-2]},
	} {
		if Verify(c.secret, c.body, c.sig) {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
