package brdoc

import "testing"

// fuzzNormalizer checks the invariants shared by every Normalize function:
// it never panics; a rejected value gets a fixed error that does not echo it;
// an accepted value is valid and normalizes to itself.
func fuzzNormalizer(f *testing.F, normalize func(string) (string, error), valid func(string) bool, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := normalize(in)
		if err != nil {
			checkError(t, in, err)
			if out != "" {
				t.Fatalf("rejected value returned %q", out)
			}
			return
		}
		if !valid(out) {
			t.Fatalf("normalized form %q is not valid", out)
		}
		again, err := normalize(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}

func FuzzNormalizeCPF(f *testing.F) {
	fuzzNormalizer(f, NormalizeCPF, ValidCPF,
		"12345678909", "123.456.789-09", "123456789-09", " 123 456 789 09 ", "11111111111", "1234567890a", "")
}

func FuzzNormalizeCNPJ(f *testing.F) {
	fuzzNormalizer(f, NormalizeCNPJ, ValidCNPJ,
		"11.222.333/0001-81", "12.ABC.345/01DE-35", "12abc34501de35", "00000000000000", "12ABC34501DE3A")
}

func FuzzNormalizePhone(f *testing.F) {
	fuzzNormalizer(f, NormalizePhone, validE164,
		"+5511987654321", "(11) 98765-4321", "0055 11 3456-7890", "011987654321", "+1 415 555 0100", "98765-4321")
}

func FuzzNormalizeEmail(f *testing.F) {
	fuzzNormalizer(f, NormalizeEmail, func(s string) bool {
		v, err := NormalizeEmail(s)
		return err == nil && v == s
	}, "Maria@Example.com", " a@b.co ", "a@@b.co", "@x.y", "JOSÉ@example.com", "a@b", "İ@x.y")
}
