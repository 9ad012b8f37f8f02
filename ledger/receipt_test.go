package ledger_test

import (
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

// TestParseReceipt: the receipt is read as REST serves it (snake_case,
// 64-bit integers as strings) and as gRPC-JSON tools print it (camelCase,
// numbers); what is not a receipt says how to get one.
func TestParseReceipt(t *testing.T) {
	for name, in := range map[string]string{
		"REST":     `{"request_id":"r1","leaf_index":"7","leaf":"AQI=","checkpoint":"c","inclusion_proof":["AAE="]}`,
		"camel":    `{"requestId":"r1","leafIndex":7,"leaf":"AQI=","checkpoint":"c","inclusionProof":["AAE="]}`,
		"no proof": `{"request_id":"r1","leaf_index":"7","leaf":"AQI=","checkpoint":"c"}`,
	} {
		r, err := ledger.ParseReceipt([]byte(in))
		if err != nil || r.RequestID != "r1" || r.LeafIndex != 7 || string(r.Leaf) != "\x01\x02" || r.Checkpoint != "c" {
			t.Errorf("%s: %+v %v", name, r, err)
		}
		if name != "no proof" && (len(r.InclusionProof) != 1 || string(r.InclusionProof[0]) != "\x00\x01") {
			t.Errorf("%s: proof %x", name, r.InclusionProof)
		}
	}
	for in, want := range map[string]string{
		`<html>`:              "not JSON",
		`{"request_id":"r1"}`: `no "leafindex" field`,
		`{"request_id":"r1","leaf_index":"-1","leaf":"","checkpoint":""}`:  "not a whole number",
		`{"request_id":"r1","leaf_index":"1","leaf":"%%","checkpoint":""}`: "leaf is not base64",
	} {
		if _, err := ledger.ParseReceipt([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", in, err, want)
		}
	}
	// Without a key, the signature check fails and says where the key is.
	skey, _, _ := ledger.GenerateKey("titular.test")
	signer, _ := ledger.NewSigner(skey)
	cp, err := ledger.SignCheckpoint(signer, "titular.test/ledger/demo", 1, ledger.EmptyRoot())
	if err != nil {
		t.Fatal(err)
	}
	checks := ledger.CheckReceipt(ledger.Receipt{RequestID: "r1", Checkpoint: string(cp)}, nil, "", nil)
	found := false
	for _, c := range checks {
		if c.OK {
			t.Errorf("a receipt without leaf or key passed %q", c.What)
		}
		if c.What == "assinatura do checkpoint" {
			found = strings.Contains(c.Detail, "/ledger/public-key")
		}
	}
	if !found {
		t.Errorf("without a key, the signature check does not say where to get it: %+v", checks)
	}
	// A checkpoint of another tenant's ledger, under the same host key,
	// fails when the key's answer names the ledger.
	v, _ := ledger.NewVerifier(mustVerifierKey(t, skey))
	for origin, ok := range map[string]bool{"titular.test/ledger/demo": true, "titular.test/ledger/other": false} {
		checks := ledger.CheckReceipt(ledger.Receipt{RequestID: "r1", Checkpoint: string(cp)}, []note.Verifier{v}, origin, nil)
		for _, c := range checks {
			if c.What == "assinatura do checkpoint" && c.OK != ok {
				t.Errorf("key of ledger %s: signature check %v (%s), want %v", origin, c.OK, c.Detail, ok)
			}
		}
	}
}

func mustVerifierKey(t *testing.T, skey string) string {
	t.Helper()
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}
