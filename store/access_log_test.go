package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The access log lists newest first, pages by id, filters by request, and
// refuses UPDATE and DELETE like the ledger.
func TestAccessLog_RecordListAndAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, db := newStore(t)
	clock := useClock(s)
	const req = "0b9f4c1e-8d8e-4d8a-9f3e-2f1a6f0c7b11"
	const ref = "5d2b8a3e-1c4f-4b7e-8a9d-3e6f1b2c4d55"
	for i, a := range []string{AccessExportDownload, AccessReceiptRead, AccessLedgerRead, AccessConsentEvidence, AccessReceiptRead} {
		e := AccessEntry{Actor: "dpo", Role: "dpo", Action: a, Reason: "chamado 42", CallRequestID: "call-" + a}
		if i%2 == 0 {
			e.RequestID, e.SubjectRef = req, ref
		}
		if err := s.RecordAccess(ctx, e); err != nil {
			t.Fatalf("record %s: %v", a, err)
		}
		clock.Advance(time.Second)
	}
	var all []AccessEntry
	tok := ""
	for page := 0; ; page++ {
		got, next, err := s.ListAccess(ctx, AccessFilter{PageSize: 2, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 2 || page > 3 {
			t.Fatalf("page %d: %d entries", page, len(got))
		}
		all = append(all, got...)
		if next == "" {
			break
		}
		tok = next
	}
	if len(all) != 5 {
		t.Fatalf("listed %d entries over the pages; want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID || all[i].At.After(all[i-1].At) {
			t.Errorf("entries %d and %d are not newest first: %+v, %+v", i-1, i, all[i-1], all[i])
		}
	}
	first := all[len(all)-1]
	if first.Action != AccessExportDownload || first.RequestID != req || first.SubjectRef != ref || first.Reason != "chamado 42" ||
		first.Actor != "dpo" || first.Role != "dpo" || first.CallRequestID != "call-export.download" ||
		!first.At.Equal(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("oldest entry = %+v", first)
	}
	byReq, next, err := s.ListAccess(ctx, AccessFilter{RequestID: req})
	if err != nil || next != "" || len(byReq) != 3 {
		t.Fatalf("entries of the request: %d, next %q, %v; want 3", len(byReq), next, err)
	}
	if _, _, err := s.ListAccess(ctx, AccessFilter{PageToken: "%%%"}); !errors.Is(err, ErrBadPageToken) {
		t.Errorf("bad page token: %v", err)
	}
	for _, bad := range []AccessEntry{
		{Role: "dpo", Action: AccessReceiptRead},
		{Actor: "dpo", Role: "dpo", Action: AccessReceiptRead, Reason: strings.Repeat("x", 501)},
		{Actor: "dpo", Role: "dpo", Action: AccessReceiptRead, RequestID: "not-a-uuid"},
	} {
		if err := s.RecordAccess(ctx, bad); !errors.Is(err, ErrBadAccessEntry) {
			t.Errorf("RecordAccess(%+v) = %v; want ErrBadAccessEntry", bad, err)
		}
	}
	for _, q := range []string{"UPDATE lgpd_access_log SET reason = 'x'", "DELETE FROM lgpd_access_log"} {
		_, err := db.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v; want the append-only trigger to refuse it", q, err)
		}
	}
}
