package datamap

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and returns either a Map or a
// non-empty Problems whose entries all carry a message and a fix; an accepted
// map orders every entity once and survives a MarshalYAML round trip.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "realestate.yaml")); err == nil {
		f.Add(data)
	}
	for _, s := range []string{tree, doc(root), "", "version: 1", "- a\n- b", "a: &x 1\nb: *x", "{", doc(root + "    fields:\n      x: {category: saude, anonymizer: {name: mask, params: {keep: 3}}}\n")} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.yaml", data)
		if (m == nil) == (err == nil) {
			t.Fatalf("Parse returned map %v and error %v", m != nil, err)
		}
		if err != nil {
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("error is not a non-empty Problems: %v", err)
			}
			for _, p := range probs {
				if p.Message == "" || p.Fix == "" {
					t.Fatalf("problem without message or fix: %+v", p)
				}
			}
			return
		}
		if got := len(m.Order()); got != len(m.Entities) {
			t.Fatalf("Order returned %d of %d entities", got, len(m.Entities))
		}
		roundTrip(t, m)
	})
}
