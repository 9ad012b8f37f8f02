package brdoc

import (
	"slices"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	const mobile, landline = "+5511987654321", "+551134567890"
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"e164", "+5511987654321", mobile, nil},
		{"country without plus", "5511987654321", mobile, nil},
		{"national", "11987654321", mobile, nil},
		{"parenthesised", "(11) 98765-4321", mobile, nil},
		{"no space", "(11)98765-4321", mobile, nil},
		{"spaced", "11 98765-4321", mobile, nil},
		{"unsplit", "(11) 987654321", mobile, nil},
		{"international spaced", "+55 11 98765-4321", mobile, nil},
		{"international parenthesised", "+55 (11) 98765-4321", mobile, nil},
		{"trunk zero", "(011) 98765-4321", mobile, nil},
		{"trunk zero bare", "011987654321", mobile, nil},
		{"0055 prefix", "0055 11 98765-4321", mobile, nil},
		{"plus and trunk zero", "+55 0 11 98765-4321", mobile, nil},
		{"dots", "11.98765.4321", mobile, nil},
		{"stray spaces", "  11  9 8765 4321 ", mobile, nil},
		{"landline", "(11) 3456-7890", landline, nil},
		{"landline e164", "+551134567890", landline, nil},
		{"landline with country", "551134567890", landline, nil},
		{"landline starting 2", "(21) 2345-6789", "+552123456789", nil},
		{"ddd 55 national", "(55) 98765-4321", "+5555987654321", nil},
		{"ddd 99", "99 5555-0000", "+559955550000", nil},
		{"foreign country", "+1 415 555 0100", "", errPhoneCountry},
		{"foreign 00 prefix", "001 415 555 0100", "", errPhoneCountry},
		{"plus only", "+", "", errPhoneCountry},
		{"letters", "(11) 98765-432l", "", errPhoneChars},
		{"plus in the middle", "11+987654321", "", errPhoneChars},
		{"extension", "11 3456-7890 ramal 12", "", errPhoneChars},
		{"no ddd mobile", "98765-4321", "", errPhoneNoDDD},
		{"no ddd landline", "3456-7890", "", errPhoneNoDDD},
		{"too short", "12345", "", errPhoneLength},
		{"too long", "+55 11 98765-43210", "", errPhoneLength},
		{"way too long", "1234567890123456789", "", errPhoneLength},
		{"empty", "", "", errPhoneLength},
		{"ddd with zero", "(10) 98765-4321", "", errPhoneDDD},
		{"ddd 01", "01 3456-7890", "", errPhoneDDD},
		{"ddd 20", "(20) 3456-7890", "", errPhoneDDD},
		{"9 digits not mobile", "(11) 88765-4321", "", errPhoneMobile},
		{"old 8-digit mobile", "(11) 8765-4321", "", errPhoneLandline},
		{"landline starting 1", "(11) 1234-5678", "", errPhoneLandline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if err != tt.err {
				t.Fatalf("NormalizePhone error = %v, want %v", err, tt.err)
			}
			if err != nil {
				checkError(t, tt.in, err)
				return
			}
			if got != tt.want {
				t.Errorf("NormalizePhone = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPhoneShapes(t *testing.T) {
	tests := map[string][]string{
		"+5511987654321": {
			"+5511987654321", "5511987654321", "11987654321", "(11) 98765-4321", "(11)98765-4321",
			"11 98765-4321", "(11) 987654321", "+55 11 98765-4321", "+55 (11) 98765-4321",
		},
		"+551134567890": {
			"+551134567890", "551134567890", "1134567890", "(11) 3456-7890", "(11)3456-7890",
			"11 3456-7890", "(11) 34567890", "+55 11 3456-7890", "+55 (11) 3456-7890",
		},
	}
	for e164, want := range tests {
		if got := PhoneShapes(e164); !slices.Equal(got, want) {
			t.Errorf("PhoneShapes(%q) =\n%q\nwant\n%q", e164, got, want)
		}
	}
	for _, bad := range []string{"", "11987654321", "+5511887654321", "+551034567890", "+5511987654321 ", "+55119876543210"} {
		if got := PhoneShapes(bad); got != nil {
			t.Errorf("PhoneShapes(%q) = %q, want nil", bad, got)
		}
	}
}

func TestPhoneShapesRoundTrip(t *testing.T) {
	for ddd := 11; ddd <= 99; ddd++ {
		if ddd%10 == 0 {
			continue
		}
		for _, num := range []string{"987654321", "912340000", "23456789", "54321000"} {
			e164 := "+55" + string(rune('0'+ddd/10)) + string(rune('0'+ddd%10)) + num
			shapes := PhoneShapes(e164)
			if len(shapes) != 9 {
				t.Fatalf("PhoneShapes(%q) = %q", e164, shapes)
			}
			for _, shape := range shapes {
				got, err := NormalizePhone(shape)
				if err != nil || got != e164 {
					t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", shape, got, err, e164)
				}
			}
		}
	}
}
