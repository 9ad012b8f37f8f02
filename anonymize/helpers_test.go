package anonymize

import (
	"bytes"
	"testing"
)

// defaultParams are the params each built-in needs to be constructed; the
// others take none or have defaults.
var defaultParams = map[string]map[string]any{
	"constant":          {"value": "0"},
	"generalize.bucket": {"size": 500},
}

func testKey(tb testing.TB, b byte) *Key {
	tb.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustNew(tb testing.TB, name string, params map[string]any) Anonymizer {
	tb.Helper()
	if params == nil {
		params = defaultParams[name]
	}
	a, err := NewRegistry().New(name, params)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return a
}

func apply(tb testing.TB, a Anonymizer, k *Key, col Column, v any) any {
	tb.Helper()
	out, err := a.Apply(k, col, v, 0)
	if err != nil {
		tb.Fatalf("%s.Apply: %v", a.Name(), err)
	}
	return out
}
