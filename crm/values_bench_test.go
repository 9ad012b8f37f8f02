package crm

import (
	"testing"
	"time"
)

// BenchmarkConvertValue measures the per-cell conversion every walked row
// goes through, for the value kinds the MySQL driver hands over.
func BenchmarkConvertValue(b *testing.B) {
	cases := []struct {
		name, dbType string
		v            any
	}{
		{"varchar", "VARCHAR", []byte("Fulano de Tal da Silva")},
		{"decimal", "DECIMAL", []byte("1234567.89")},
		{"int-text", "INT", []byte("123456")},
		{"int-binary", "INT", int64(123456)},
		{"datetime-text", "DATETIME", []byte("2025-06-01 14:30:00")},
		{"datetime-binary", "DATETIME", time.Date(2025, 6, 1, 14, 30, 0, 0, time.UTC)},
		{"date-binary", "DATE", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)},
		{"null", "VARCHAR", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := convertValue(c.v, c.dbType); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTupleKey measures the dedup key the walk builds for every row
// (its primary key) and for every parent key it hands to children.
func BenchmarkTupleKey(b *testing.B) {
	for name, t := range map[string][]any{
		"int":       {int64(123456)},
		"composite": {int64(123456), "abc-123"},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tupleKey(t)
			}
		})
	}
}

// BenchmarkLookupValues measures expanding an identifier into the shapes a
// CRM stores it in, done once per match rule of a walk.
func BenchmarkLookupValues(b *testing.B) {
	for kind, v := range map[string]string{"cpf": "12345678909", "phone": "+5511987654321", "email": "fulano@example.com"} {
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(LookupValues(kind, v)) == 0 {
					b.Fatal("no shapes")
				}
			}
		})
	}
}
