package anonymize

import (
	"testing"
	"time"
)

// BenchmarkApply measures one value through each built-in, with allocations:
// an ANONYMIZE of a heavy titular runs this once per row and column.
func BenchmarkApply(b *testing.B) {
	inputs := map[string]any{
		"fake.cpf": "123.456.789-09", "fake.cnpj": "11.222.333/0001-81", "fake.phone": "(11) 98765-4321",
		"fake.cep": "01310-100", "fake.email": "Jose.Conceicao@example.com", "fake.name": "José Antônio da Conceição",
		"fake.address": "Rua Augusta", "generalize.year": time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC),
		"generalize.month": time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), "date_shift": time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC),
		"generalize.bucket": "4870.50", "generalize.cep_prefix": "01310-100", "ip_truncate": "192.168.10.77",
	}
	k := testKey(b, 1)
	col := Column{DataType: "varchar", MaxLength: 150, Nullable: true}
	for _, name := range NewRegistry().Names() {
		a := mustNew(b, name, nil)
		in, ok := inputs[name]
		if !ok {
			in = "Cliente enviou o CPF pelo WhatsApp"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Apply(k, col, in, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
