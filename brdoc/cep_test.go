package brdoc

import "testing"

func TestNormalizeCEP(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"dash", "01310-100", "01310100", nil},
		{"dots", "01.310-100", "01310100", nil},
		{"bare", "01310100", "01310100", nil},
		{"spaces", " 01310 100 ", "01310100", nil},
		{"short", "1310-100", "", errCEPLength},
		{"long", "01310-1000", "", errCEPLength},
		{"letters", "01310-10O", "", errCEPChars},
		{"placeholder", "00000-000", "", errCEPZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeCEP(tt.in)
			if err != tt.err {
				t.Fatalf("NormalizeCEP error = %v, want %v", err, tt.err)
			}
			if err != nil {
				checkError(t, tt.in, err)
				return
			}
			if got != tt.want {
				t.Errorf("NormalizeCEP = %q, want %q", got, tt.want)
			}
			if back, err := NormalizeCEP(FormatCEP(got)); err != nil || back != got {
				t.Errorf("NormalizeCEP(FormatCEP(%q)) = %q, %v", got, back, err)
			}
		})
	}
	if got := FormatCEP("01310100"); got != "01310-100" {
		t.Errorf("FormatCEP = %q", got)
	}
}
