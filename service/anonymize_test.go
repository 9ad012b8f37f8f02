package service

import (
	"errors"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

// TestCheckAnonymizable: an ANONYMIZE is refused at creation, with
// FAILED_PRECONDITION naming the field, when the map would only
// pseudonymize a personal field; the example map is accepted.
func TestCheckAnonymizable(t *testing.T) {
	data, err := os.ReadFile("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg := anonymize.NewRegistry()
	load := func(doc string) *tenant.Tenant {
		m, err := datamap.Parse("datamap.yaml", []byte(doc), crm.DatamapOptions(reg)...)
		if err != nil {
			t.Fatal(err)
		}
		return &tenant.Tenant{Map: m, Anonymizers: reg}
	}
	if err := checkAnonymizable(load(string(data))); err != nil {
		t.Fatalf("example map refused: %v", err)
	}
	const from = "email:            {category: contato, anonymizer: fake.email, correctable: true,"
	if !strings.Contains(string(data), from) {
		t.Fatal("example map changed; update the test")
	}
	doc := strings.Replace(string(data), from, "email:            {category: contato, anonymizer: hmac, correctable: true,", 1)
	err = checkAnonymizable(load(doc))
	var de *Error
	if !errors.As(err, &de) || de.Code != codes.FailedPrecondition || de.Reason != "MAP_NOT_ANONYMIZING" ||
		!strings.Contains(de.Msg, "pessoa.email") || !strings.Contains(de.Msg, "irreversible") {
		t.Errorf("checkAnonymizable = %#v", err)
	}
}
