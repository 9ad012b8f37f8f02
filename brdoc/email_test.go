package brdoc

import (
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "maria@example.com", "maria@example.com", nil},
		{"mixed case and spaces", "  Maria.Silva@Example.COM.br \n", "maria.silva@example.com.br", nil},
		{"plus tag", "joao+crm@example.com", "joao+crm@example.com", nil},
		{"unicode local", "JOSÉ@example.com", "josé@example.com", nil},
		{"empty", "   ", "", errEmailEmpty},
		{"no at", "maria.example.com", "", errEmailAt},
		{"two at", "maria@silva@example.com", "", errEmailAt},
		{"no local", "@example.com", "", errEmailLocal},
		{"no domain", "maria@", "", errEmailDomain},
		{"domain without dot", "maria@localhost", "", errEmailDomain},
		{"domain leading dot", "maria@.example.com", "", errEmailDomain},
		{"domain trailing dot", "maria@example.com.", "", errEmailDomain},
		{"empty label", "maria@example..com", "", errEmailDomain},
		{"inner space", "maria silva@example.com", "", errEmailText},
		{"tab", "maria\t@example.com", "", errEmailText},
		{"nbsp", "maria\u00a0x@example.com", "", errEmailText},
		{"control", "maria\x00@example.com", "", errEmailText},
		{"bad utf8", "mar\xffia@example.com", "", errEmailText},
		{"too long", strings.Repeat("a", 243) + "@example.com", "", errEmailLong},
		{"longest", strings.Repeat("a", 242) + "@example.com", strings.Repeat("a", 242) + "@example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if err != tt.err {
				t.Fatalf("NormalizeEmail error = %v, want %v", err, tt.err)
			}
			if err != nil {
				checkError(t, tt.in, err)
				return
			}
			if got != tt.want {
				t.Errorf("NormalizeEmail = %q, want %q", got, tt.want)
			}
		})
	}
}
