package brdoc

import "testing"

func TestNormalizeCNPJ(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"official numeric example", "11.222.333/0001-81", "11222333000181", nil},
		{"official alphanumeric example", "12.ABC.345/01DE-35", "12ABC34501DE35", nil},
		{"lower-case letters", "12.abc.345/01de-35", "12ABC34501DE35", nil},
		{"bare", "11222333000181", "11222333000181", nil},
		{"stray spaces", " 11 222 333 0001 81 ", "11222333000181", nil},
		{"bad dv", "11.222.333/0001-82", "", errCNPJCheck},
		{"bad alnum dv", "12.ABC.345/01DE-36", "", errCNPJCheck},
		{"letter in dv", "12.ABC.345/01DE-3A", "", errCNPJDVs},
		{"short", "11.222.333/0001-8", "", errCNPJLength},
		{"long", "11.222.333/0001-811", "", errCNPJLength},
		{"empty", "", "", errCNPJLength},
		{"symbols", "11*222*333/0001-81", "", errCNPJChars},
		{"accented letter", "12.ÁBC.345/01DE-35", "", errCNPJChars},
		{"zeros pass the formula", "00.000.000/0000-00", "", errCNPJRepeated},
		{"ones", "11111111111111", "", errCNPJRepeated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeCNPJ(tt.in)
			if err != tt.err {
				t.Fatalf("NormalizeCNPJ error = %v, want %v", err, tt.err)
			}
			if err != nil {
				checkError(t, tt.in, err)
				return
			}
			if got != tt.want {
				t.Errorf("NormalizeCNPJ = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidCNPJ(t *testing.T) {
	for _, v := range []string{"11222333000181", "12ABC34501DE35"} {
		if !ValidCNPJ(v) {
			t.Errorf("ValidCNPJ(%q) = false", v)
		}
	}
	for _, v := range []string{"", "11.222.333/0001-81", "12abc34501de35", "11222333000182", "00000000000000", "12ABC34501DE3A"} {
		if ValidCNPJ(v) {
			t.Errorf("ValidCNPJ(%q) = true", v)
		}
	}
}

func TestFormatCNPJ(t *testing.T) {
	for in, want := range map[string]string{
		"11222333000181": "11.222.333/0001-81",
		"12ABC34501DE35": "12.ABC.345/01DE-35",
		"123":            "123",
	} {
		if got := FormatCNPJ(in); got != want {
			t.Errorf("FormatCNPJ(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCNPJFormatRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 2000; seed++ {
		for _, alnum := range []bool{false, true} {
			v := CNPJFromSeed(seed, alnum)
			got, err := NormalizeCNPJ(FormatCNPJ(v))
			if err != nil || got != v {
				t.Fatalf("NormalizeCNPJ(FormatCNPJ(%q)) = %q, %v", v, got, err)
			}
		}
	}
}
