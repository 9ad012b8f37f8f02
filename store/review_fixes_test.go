package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// Tests of the defects a review of the store found by reading; each fails
// on the code before its fix.

// TestCollectReportsAnErrorMidRead: a read the server ends with an error
// after some rows (here a function that fails on the fourth row) is an
// error, not a shorter result. Every row loop of the records goes through
// collect: the delivery claim, the due blocks, the erasures to complete
// and the request rules that decide to forget a titular for good.
func TestCollectReportsAnErrorMidRead(t *testing.T) {
	_, db := newStore(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE nums (n INT PRIMARY KEY)",
		"INSERT INTO nums VALUES (1), (2), (3), (4), (5)",
		`CREATE FUNCTION fail_on_four(n INT) RETURNS INT DETERMINISTIC
BEGIN
  IF n = 4 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'failed at row 4'; END IF;
  RETURN n;
END`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	read := func() (*sql.Rows, error) {
		return db.QueryContext(ctx, "SELECT fail_on_four(n) FROM nums ORDER BY n")
	}
	// What the loops did before: scan until Next is false, check only Close.
	rows, err := read() //nolint:rowserrcheck,sqlclosecheck // the old loop, shown failing on purpose
	if err != nil {
		t.Fatal(err)
	}
	var partial []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		partial = append(partial, n)
	}
	if err := rows.Close(); err != nil || len(partial) != 3 { //nolint:sqlclosecheck // the old loop, shown failing on purpose
		t.Fatalf("the old loop: %v, %v; the premise is that it truncates silently to 3 rows", partial, err)
	}
	rows, err = read()
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(rows, "numbers", func(rows *sql.Rows) (int, error) {
		var n int
		return n, rows.Scan(&n)
	})
	if err == nil || !strings.Contains(err.Error(), "failed at row 4") {
		t.Fatalf("collect returned %v, %v; want the error that ended the read", got, err)
	}
}

// TestListPagesOfSizeZero: a page size of 0 (or less) reaching the store
// past the service's check lists a default page; it used to panic.
func TestListPagesOfSizeZero(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for range 3 {
		enqueue(t, s, EventConsentRevoked, "a")
	}
	for i := range 3 {
		r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("z%d@example.com", i)}})
		consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant, Channel: "crm", RequestID: r.ID})
	}
	for _, size := range []int{0, -1} {
		ds, next, err := s.ListDeliveries(ctx, []string{DeliveryPending}, size, "")
		if err != nil || len(ds) != 3 || next != "" {
			t.Errorf("ListDeliveries(size %d): %d deliveries, next %q, %v; want all 3 on one page", size, len(ds), next, err)
		}
		refs, next, err := s.ConsentSubjects(ctx, "marketing_email", ConsentGrant, size, "")
		if err != nil || len(refs) != 3 || next != "" {
			t.Errorf("ConsentSubjects(size %d): %d subjects, next %q, %v; want all 3 on one page", size, len(refs), next, err)
		}
	}
}
