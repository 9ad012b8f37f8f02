package ledger

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func sampleLeaf() Leaf {
	return Leaf{
		Event: EventRequestStatus, Kind: "EXTRACT", RequestID: "0d4c8a7e-2b7c-4c1e-9a55-3f2f1f0e6a11",
		SubjectRef: "7b0e3f5c-9d1a-4e7b-8c2d-1a2b3c4d5e6f", From: "PROCESSING", To: "COMPLETED",
		At:      time.Date(2025, 3, 10, 12, 0, 0, 123456000, time.UTC),
		Digests: []Digest{{Name: "export.json", SHA256: [32]byte{1, 2, 3}}, {Name: "export.xlsx", SHA256: [32]byte{4}}},
	}
}

// The version-1 encoding is pinned: changing it would orphan every
// published receipt.
func TestLeafGolden(t *testing.T) {
	l := Leaf{Event: "e", Kind: "K", RequestID: "r", SubjectRef: "s", From: "", To: "T",
		At: time.UnixMicro(0x0102030405060708), Digests: []Digest{{Name: "d", SHA256: [32]byte{0xaa}}}}
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "01" + "000165" + "00014b" + "000172" + "000173" + "0000" + "000154" + "0102030405060708" + "01" + "000164" +
		"aa00000000000000000000000000000000000000000000000000000000000000"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding changed:\n got %s\nwant %s", got, want)
	}
}

func TestLeafRoundTrip(t *testing.T) {
	for _, l := range []Leaf{sampleLeaf(), {Event: "x", At: time.UnixMicro(0).UTC()}} {
		b, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := got.Marshal()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the bytes: %v", err)
		}
		if got.RequestID != l.RequestID || !got.At.Equal(l.At) || len(got.Digests) != len(l.Digests) {
			t.Errorf("round trip: %+v, want %+v", got, l)
		}
	}
}

func TestLeafMarshalRejects(t *testing.T) {
	long := string(make([]byte, MaxFieldLen+1))
	dup := []Digest{{Name: "b"}, {Name: "a"}}
	for name, l := range map[string]Leaf{
		"no event":        {},
		"long field":      {Event: "e", Kind: long},
		"bad utf8":        {Event: "e", To: "\xff"},
		"unsorted digest": {Event: "e", Digests: dup},
		"empty digest":    {Event: "e", Digests: []Digest{{}}},
		"many digests":    {Event: "e", Digests: make([]Digest, MaxDigests+1)},
	} {
		if _, err := l.Marshal(); !errors.Is(err, ErrBadLeaf) {
			t.Errorf("%s: Marshal err = %v, want ErrBadLeaf", name, err)
		}
	}
}

func TestLeafUnmarshalRejects(t *testing.T) {
	good, _ := sampleLeaf().Marshal()
	cases := map[string][]byte{
		"empty":    nil,
		"version":  append([]byte{2}, good[1:]...),
		"trailing": append(append([]byte{}, good...), 0),
		"short":    good[:len(good)-1],
		"no event": mustMarshalRaw(t, ""),
	}
	for name, b := range cases {
		if _, err := Unmarshal(b); !errors.Is(err, ErrBadLeaf) {
			t.Errorf("%s: Unmarshal err = %v, want ErrBadLeaf", name, err)
		}
	}
}

// mustMarshalRaw encodes a leaf with the given event, bypassing Marshal's
// checks, to feed the decoder what a forger might write.
func mustMarshalRaw(t *testing.T, event string) []byte {
	t.Helper()
	b := []byte{Version}
	for _, s := range []string{event, "", "", "", "", ""} {
		b = append(b, byte(len(s)>>8), byte(len(s)))
		b = append(b, s...)
	}
	return append(b, make([]byte, 9)...)
}

// FuzzUnmarshal: whatever decodes re-encodes to the same bytes (canonical),
// and nothing panics.
func FuzzUnmarshal(f *testing.F) {
	good, _ := sampleLeaf().Marshal()
	f.Add(good)
	f.Add(mustMarshalRaw(&testing.T{}, "e"))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := l.Marshal()
		if err != nil {
			t.Fatalf("decoded leaf does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("non-canonical encoding accepted:\n in  %x\n out %x", b, again)
		}
	})
}
