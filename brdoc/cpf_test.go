package brdoc

import (
	"testing"
)

func TestNormalizeCPF(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"digits", "12345678909", "12345678909", nil},
		{"formatted", "123.456.789-09", "12345678909", nil},
		{"dash only", "123456789-09", "12345678909", nil},
		{"stray spaces", "  123 456 789 09\t", "12345678909", nil},
		{"leading zero kept", "032.247.552-02", "03224755202", nil},
		{"first dv zero", "00000000191", "00000000191", nil},
		{"letters", "123.456.789-0A", "", errCPFChars},
		{"slash", "123/456/789-09", "", errCPFChars},
		{"empty", "", "", errCPFShort},
		{"short", "1234567890", "", errCPFShort},
		{"long", "123456789090", "", errCPFLong},
		{"cnpj", "11.222.333/0001-81", "", errCPFChars},
		{"bad dv1", "12345678919", "", errCPFCheck},
		{"bad dv2", "12345678900", "", errCPFCheck},
		{"zeros", "000.000.000-00", "", errCPFRepeated},
		{"ones pass the formula", "11111111111", "", errCPFRepeated},
		{"nines", "99999999999", "", errCPFRepeated},
		{"full-width digits", "１２３４５６７８９０９", "", errCPFChars},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeCPF(tt.in)
			if err != tt.err {
				t.Fatalf("NormalizeCPF error = %v, want %v", err, tt.err)
			}
			if err != nil {
				checkError(t, tt.in, err)
				return
			}
			if got != tt.want {
				t.Errorf("NormalizeCPF = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidCPF(t *testing.T) {
	for _, v := range []string{"12345678909", "52998224725", "00000000191"} {
		if !ValidCPF(v) {
			t.Errorf("ValidCPF(%q) = false", v)
		}
	}
	for _, v := range []string{"", "123.456.789-09", "1234567890", "12345678900", "11111111111", "00000000000", "1234567890a"} {
		if ValidCPF(v) {
			t.Errorf("ValidCPF(%q) = true", v)
		}
	}
	// Every repeated sequence passes the formula; all must still be refused.
	for d := byte('0'); d <= '9'; d++ {
		v := string([]byte{d, d, d, d, d, d, d, d, d, d, d})
		if ValidCPF(v) {
			t.Errorf("ValidCPF(%q) = true", v)
		}
	}
}

func TestFormatCPF(t *testing.T) {
	if got := FormatCPF("12345678909"); got != "123.456.789-09" {
		t.Errorf("FormatCPF = %q", got)
	}
	if got := FormatCPF("123"); got != "123" {
		t.Errorf("FormatCPF(short) = %q, want it unchanged", got)
	}
}

func TestCPFShapes(t *testing.T) {
	want := []string{"12345678909", "123.456.789-09", "123456789-09"}
	got := CPFShapes("12345678909")
	if len(got) != len(want) {
		t.Fatalf("CPFShapes = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("CPFShapes[%d] = %q, want %q", i, got[i], want[i])
		}
	}
	if CPFShapes("12345678900") != nil {
		t.Error("CPFShapes of an invalid CPF should be nil")
	}
}

func TestCPFShapesRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 2000; seed++ {
		cpf := CPFFromSeed(seed)
		for _, shape := range CPFShapes(cpf) {
			got, err := NormalizeCPF(shape)
			if err != nil || got != cpf {
				t.Fatalf("NormalizeCPF(%q) = %q, %v; want %q", shape, got, err, cpf)
			}
		}
	}
}
