package brdoc

import "testing"

// BenchmarkCPFShapes measures expanding a CPF into its stored shapes.
func BenchmarkCPFShapes(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if len(CPFShapes("12345678909")) == 0 {
			b.Fatal("no shapes")
		}
	}
}

// BenchmarkPhoneShapes measures expanding a phone into its stored shapes.
func BenchmarkPhoneShapes(b *testing.B) {
	for name, in := range map[string]string{"mobile": "+5511987654321", "landline": "+551133334444"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(PhoneShapes(in)) == 0 {
					b.Fatal("no shapes")
				}
			}
		})
	}
}

// BenchmarkNormalizeEmail measures e-mail normalization.
func BenchmarkNormalizeEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NormalizeEmail("  Fulano.Tal@Example.COM "); err != nil {
			b.Fatal(err)
		}
	}
}
