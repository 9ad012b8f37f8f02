package brdoc

import (
	"errors"
	"strings"
	"testing"
)

// fixedErrors lists every error the package returns. Because each one is a
// constant message, no input can ever leak into an error.
var fixedErrors = []error{
	errCPFChars, errCPFShort, errCPFLong, errCPFRepeated, errCPFCheck,
	errCNPJChars, errCNPJLength, errCNPJDVs, errCNPJRepeated, errCNPJCheck,
	errPhoneChars, errPhoneCountry, errPhoneLength, errPhoneNoDDD, errPhoneDDD, errPhoneMobile, errPhoneLandline,
	errEmailEmpty, errEmailLong, errEmailText, errEmailAt, errEmailLocal, errEmailDomain,
	errCEPChars, errCEPLength, errCEPZero,
}

// checkError asserts the error contract: it wraps ErrInvalid, it is one of the
// fixed messages and it says how to fix the value. Being fixed is what keeps
// input out of messages: a fuzzer can only find inputs that are themselves
// fragments of the wording (such as "(11) 9"), never an echo.
func checkError(t *testing.T, input string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not wrap ErrInvalid", err)
	}
	fixed := false
	for _, f := range fixedErrors {
		if err == f {
			fixed = true
		}
	}
	if !fixed {
		t.Fatalf("error %q is not one of the fixed messages", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, ";") {
		t.Errorf("error %q does not say how to fix the value", msg)
	}
}

func TestErrorsDoNotEchoInput(t *testing.T) {
	tests := []struct {
		in        string
		normalize func(string) (string, error)
	}{
		{"123.456.789-00", NormalizeCPF},
		{"1234567890", NormalizeCPF},
		{"11.222.333/0001-82", NormalizeCNPJ},
		{"(11) 88765-4321", NormalizePhone},
		{"+1 415 555 0100", NormalizePhone},
		{"maria.silva@@example.com", NormalizeEmail},
		{"maria silva@example.com", NormalizeEmail},
		{"01310-10", NormalizeCEP},
	}
	for _, tt := range tests {
		_, err := tt.normalize(tt.in)
		if err == nil {
			t.Fatalf("%q was accepted", tt.in)
		}
		checkError(t, tt.in, err)
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, tt.in)
		for _, frag := range []string{tt.in, digits, "maria"} {
			if len(frag) >= 4 && strings.Contains(err.Error(), frag) {
				t.Errorf("error %q echoes %q", err, frag)
			}
		}
	}
}

func TestFixedErrorsAreDistinctAndHelpful(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range fixedErrors {
		checkError(t, "", e)
		if seen[e.Error()] {
			t.Errorf("duplicate message %q", e)
		}
		seen[e.Error()] = true
	}
}
