package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestCosignedCheckpoints: the latest cosigned checkpoint is a witness's
// largest; saving a size again keeps the first copy; the table refuses
// UPDATE and DELETE, like the ledger's own.
func TestCosignedCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.LatestCosigned(ctx, "w1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no cosignature yet: %v, want ErrNotFound", err)
	}
	root := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	for _, c := range []Cosigned{
		{Witness: "w1", Size: 5, Root: root(5), Note: "five"},
		{Witness: "w1", Size: 9, Root: root(9), Note: "nine"},
		{Witness: "w1", Size: 7, Root: root(7), Note: "seven"},
		{Witness: "w2", Size: 12, Root: root(12), Note: "twelve"},
		{Witness: "w1", Size: 9, Root: root(1), Note: "nine again"},
	} {
		if err := s.SaveCosigned(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LatestCosigned(ctx, "w1")
	if err != nil || got.Size != 9 || got.Note != "nine" || !bytes.Equal(got.Root, root(9)) {
		t.Errorf("latest of w1: %+v %v, want the first copy of size 9", got, err)
	}
	for _, q := range []string{"UPDATE lgpd_ledger_cosignatures SET size = 100", "DELETE FROM lgpd_ledger_cosignatures"} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only trigger's refusal", q, err)
		}
	}
}
