package store

import (
	"errors"
	"testing"
	"time"
)

// TestDueTokens: a by-due-date token round-trips, and neither kind of
// token is accepted by the other order's decoder, so a token carried from
// one order to the other is refused instead of silently skipping rows.
func TestDueTokens(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891000, time.UTC)
	id := "0b7f5c2e-3d4a-4c1e-9f00-1234567890ab"
	for part := range 2 {
		p, gotAt, gotID, err := decodeDueToken(encodeDueToken(part, at, id))
		if err != nil || p != part || !gotAt.Equal(at) || gotID != id {
			t.Errorf("part %d: decoded %d %v %q %v", part, p, gotAt, gotID, err)
		}
		if _, _, err := decodePageToken(encodeDueToken(part, at, id)); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("a due-date token decoded as a newest-first one: %v", err)
		}
	}
	if _, _, _, err := decodeDueToken(encodePageToken(at, id)); !errors.Is(err, ErrBadPageToken) {
		t.Errorf("a newest-first token decoded as a due-date one: %v", err)
	}
	for _, bad := range []string{"", "!!", "ZDJ8MXwy", encodeDueToken(0, at, "short")} {
		if _, _, _, err := decodeDueToken(bad); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("token %q: %v, want ErrBadPageToken", bad, err)
		}
	}
}
