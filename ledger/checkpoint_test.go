package ledger

import (
	"bytes"
	"strings"
	"testing"
)

func testKeys(t testing.TB, name string) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

func TestCheckpointSignOpen(t *testing.T) {
	skey, vkey := testKeys(t, "titular.local")
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := VerifierKey(skey)
	if err != nil || derived != vkey {
		t.Fatalf("VerifierKey = %q, %v; want %q", derived, err, vkey)
	}
	origin := Origin("titular.local", "demo")
	root := HashLeaf([]byte("x"))
	signed, err := SignCheckpoint(s, origin, 42, root)
	if err != nil {
		t.Fatal(err)
	}
	// C2SP tlog-checkpoint body, then a blank line and the signature line.
	lines := strings.Split(string(signed), "\n")
	if lines[0] != "titular.local/ledger/demo" || lines[1] != "42" || lines[3] != "" || !strings.HasPrefix(lines[4], "— titular.local ") {
		t.Fatalf("unexpected checkpoint layout:\n%s", signed)
	}
	cp, err := OpenCheckpoint(signed, origin, v)
	if err != nil || cp.Size != 42 || !bytes.Equal(cp.Hash, root) {
		t.Fatalf("OpenCheckpoint = %+v, %v", cp, err)
	}

	if _, err := OpenCheckpoint(signed, Origin("titular.local", "other"), v); err == nil {
		t.Error("a checkpoint of another tenant's ledger was accepted")
	}
	_, otherV := testKeys(t, "titular.local")
	ov, _ := NewVerifier(otherV)
	if _, err := OpenCheckpoint(signed, origin, ov); err == nil {
		t.Error("a checkpoint signed by another key was accepted")
	}
	forged := bytes.Replace(signed, []byte("\n42\n"), []byte("\n43\n"), 1)
	if _, err := OpenCheckpoint(forged, origin, v); err == nil {
		t.Error("a checkpoint with an altered size was accepted")
	}
	if _, err := NewSigner("PRIVATE+KEY+x+00000000+AAAA"); err == nil {
		t.Error("a malformed signer key was accepted")
	}
}
