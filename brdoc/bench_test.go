package brdoc

import "testing"

func BenchmarkNormalizeCPF(b *testing.B) {
	for name, in := range map[string]string{"normalized": "12345678909", "formatted": "123.456.789-09"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizeCPF(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	for name, in := range map[string]string{"normalized": "+5511987654321", "formatted": "+55 (11) 98765-4321"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizePhone(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
