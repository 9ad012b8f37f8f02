package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// insert runs InsertRequest in its own transaction and returns all it said.
func insert(t *testing.T, s *Store, n NewRequest) (*Request, bool, error) {
	t.Helper()
	var (
		r       *Request
		created bool
	)
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		r, created, err = tx.InsertRequest(ctx, n)
		return err
	})
	return r, created, err
}

func transition(s *Store, id string, allowed []Status, to Status, actor, note string) (*Request, error) {
	var r *Request
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		r, err = tx.Transition(ctx, id, allowed, to, actor, note)
		return err
	})
	return r, err
}

func TestInsertRequest_StoresRowAndEvent(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	clk := useClock(s)
	subj := Identifiers{CPF: "52998224725", Email: "ana@example.com", Phone: "+5511987654321"}
	r, created, err := insert(t, s, NewRequest{Kind: KindDelete, CreatedBy: "crm-backend", IdempotencyKey: "k-1",
		Subject: subj, Deadline: 15 * 24 * time.Hour})
	if err != nil || !created {
		t.Fatalf("InsertRequest = created %v, err %v", created, err)
	}
	if r.Status != StatusReceived || len(r.ID) != 36 || len(r.SubjectRef) != 36 || r.SubjectRef == r.ID {
		t.Errorf("new request = %+v", r)
	}
	if !r.ReceivedAt.Equal(clk.Now()) || !r.DueAt.Equal(clk.Now().Add(15*24*time.Hour)) {
		t.Errorf("received %v due %v; want now and now+15d", r.ReceivedAt, r.DueAt)
	}
	got, err := s.GetRequest(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindDelete || got.Status != StatusReceived || got.CreatedBy != "crm-backend" ||
		got.IdempotencyKey != "k-1" || got.Subject != subj || got.SubjectRef != r.SubjectRef ||
		!got.ReceivedAt.Equal(r.ReceivedAt) || !got.DueAt.Equal(r.DueAt) || got.CompletedAt != nil ||
		got.Attempts != 0 || got.Result != nil || got.Reasons != nil {
		t.Errorf("stored request = %+v\nwant what InsertRequest returned: %+v", got, r)
	}
	if got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt location = %v, want UTC", got.ReceivedAt.Location())
	}
	evs, err := s.Events(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].From != "" || evs[0].To != StatusReceived || evs[0].Actor != "crm-backend" || !evs[0].At.Equal(clk.Now()) {
		t.Errorf("events = %+v, want one RECEIVED event by crm-backend", evs)
	}
}

func TestGetRequest_NotFound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	if _, err := s.GetRequest(context.Background(), "00000000-0000-0000-0000-000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestInsertRequest_Idempotency(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	subj := Identifiers{CPF: "52998224725"}
	n := NewRequest{Kind: KindExtract, CreatedBy: "backend", IdempotencyKey: "same", Subject: subj, Deadline: time.Hour}
	first, created, err := insert(t, s, n)
	if err != nil || !created {
		t.Fatalf("first insert: created %v err %v", created, err)
	}

	again, created, err := insert(t, s, n)
	if err != nil || created || again.ID != first.ID || again.SubjectRef != first.SubjectRef {
		t.Fatalf("repeat = %v created %v err %v; want request %s, created=false", again, created, err, first.ID)
	}

	other := n
	other.Kind = KindDelete
	if _, _, err := insert(t, s, other); !errors.Is(err, ErrIdempotencyKeyReused) {
		t.Errorf("same key, different kind: err = %v, want ErrIdempotencyKeyReused", err)
	}
	other = n
	other.Subject = Identifiers{CPF: "11144477735"}
	if _, _, err := insert(t, s, other); !errors.Is(err, ErrIdempotencyKeyReused) {
		t.Errorf("same key, different titular: err = %v, want ErrIdempotencyKeyReused", err)
	}

	other = n
	other.CreatedBy = "portal"
	third, created, err := insert(t, s, other)
	if err != nil || !created || third.ID == first.ID {
		t.Errorf("another caller reusing the key: %v created %v err %v; want a new request", third, created, err)
	}

	// Without a key every call is a new request (NULL keys never collide).
	noKey := NewRequest{Kind: KindConfirm, CreatedBy: "backend", Subject: subj, Deadline: time.Hour}
	a, ca, errA := insert(t, s, noKey)
	b, cb, errB := insert(t, s, noKey)
	if errA != nil || errB != nil || !ca || !cb || a.ID == b.ID {
		t.Errorf("two keyless inserts: %v/%v %v/%v; want two requests", ca, errA, cb, errB)
	}

	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_requests"); n != 4 {
		t.Errorf("lgpd_requests rows = %d, want 4", n)
	}
	if got := eventTos(t, s, first.ID); !slices.Equal(got, []Status{StatusReceived}) {
		t.Errorf("events of the idempotent request = %v, want exactly one RECEIVED", got)
	}
}

func TestTransition(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	clk := useClock(s)
	ctx := context.Background()
	r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})

	clk.Advance(time.Minute)
	got, err := transition(s, r.ID, []Status{StatusReceived}, StatusProcessing, "worker", "")
	if err != nil || got.Status != StatusProcessing || got.CompletedAt != nil {
		t.Fatalf("RECEIVED -> PROCESSING = %+v, %v", got, err)
	}
	stored, _ := s.GetRequest(ctx, r.ID)
	if stored.Status != StatusProcessing || stored.CompletedAt != nil || !stored.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("after PROCESSING: %+v", stored)
	}

	// From a state not allowed: ErrConflict, and nothing changes.
	if _, err := transition(s, r.ID, []Status{StatusReceived}, StatusCanceled, "dpo", ""); !errors.Is(err, ErrConflict) {
		t.Errorf("cancel a PROCESSING request allowed only from RECEIVED: err = %v, want ErrConflict", err)
	}
	if stored, _ := s.GetRequest(ctx, r.ID); stored.Status != StatusProcessing {
		t.Errorf("status after a refused transition = %s", stored.Status)
	}
	if _, err := transition(s, "00000000-0000-0000-0000-000000000000", []Status{StatusReceived}, StatusProcessing, "worker", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown request: err = %v, want ErrNotFound", err)
	}

	// A transition whose transaction rolls back leaves neither change nor event.
	boom := errors.New("boom")
	err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.Transition(ctx, r.ID, []Status{StatusProcessing}, StatusFailed, "worker", ""); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled back tx: %v", err)
	}
	if stored, _ := s.GetRequest(ctx, r.ID); stored.Status != StatusProcessing {
		t.Errorf("status after a rolled-back transition = %s", stored.Status)
	}

	clk.Advance(time.Minute)
	done, err := transition(s, r.ID, []Status{StatusProcessing}, StatusCompleted, "worker", "all rows exported")
	if err != nil || done.CompletedAt == nil || !done.CompletedAt.Equal(clk.Now()) {
		t.Fatalf("PROCESSING -> COMPLETED = %+v, %v", done, err)
	}
	stored, _ = s.GetRequest(ctx, r.ID)
	if stored.Status != StatusCompleted || stored.CompletedAt == nil || !stored.CompletedAt.Equal(clk.Now()) {
		t.Errorf("completed request = %+v", stored)
	}

	evs, err := s.Events(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{From: "", To: StatusReceived, Actor: "backend"},
		{From: StatusReceived, To: StatusProcessing, Actor: "worker"},
		{From: StatusProcessing, To: StatusCompleted, Actor: "worker", Note: "all rows exported"},
	}
	if len(evs) != len(want) {
		t.Fatalf("events = %+v, want %d", evs, len(want))
	}
	for i := range want {
		e := evs[i]
		e.At = time.Time{}
		if e != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, evs[i], want[i])
		}
		if i > 0 && evs[i].At.Before(evs[i-1].At) {
			t.Errorf("event %d is older than event %d", i, i-1)
		}
	}
}

func TestTransition_EveryFinalStateSetsCompletedAt(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	for _, final := range []Status{StatusCompleted, StatusDenied, StatusFailed, StatusCanceled} {
		r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
		got, err := transition(s, r.ID, []Status{StatusReceived}, final, "dpo", "")
		if err != nil {
			t.Fatalf("%s: %v", final, err)
		}
		stored, _ := s.GetRequest(context.Background(), r.ID)
		if got.CompletedAt == nil || stored.CompletedAt == nil || stored.Status != final {
			t.Errorf("%s: completed_at not set: %+v", final, stored)
		}
	}
}

func TestSetOutcome_RoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	r := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}})
	until := time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)
	res := &Result{
		Extract: &ExtractResult{Entities: []EntityCount{{Entity: "pessoa", Rows: 1}, {Entity: "lead", Rows: 3}}, TotalRows: 4},
		Confirm: &ConfirmResult{HasPersonalData: true, Categories: []string{"contato", "identificacao"}, Entities: []string{"pessoa"}},
	}
	reasons := []Reason{
		{Code: "RETENTION_HOLD", Message: "mantido por obrigação legal", LegalReference: "Lei 9.613/1998 art. 10", Entity: "reserva", Until: &until},
		{Code: "PARTIAL", Message: "ç ã é ü \"quoted\""},
	}
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.SetOutcome(ctx, r.ID, res, reasons)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Result, res) {
		t.Errorf("result = %+v / %+v, want %+v / %+v", got.Result.Extract, got.Result.Confirm, res.Extract, res.Confirm)
	}
	if len(got.Reasons) != 2 || got.Reasons[0].Until == nil || !got.Reasons[0].Until.Equal(until) {
		t.Fatalf("reasons = %+v", got.Reasons)
	}
	got.Reasons[0].Until, reasons[0].Until = nil, nil
	if !reflect.DeepEqual(got.Reasons, reasons) {
		t.Errorf("reasons = %+v, want %+v", got.Reasons, reasons)
	}

	// nil clears both.
	if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.SetOutcome(ctx, r.ID, nil, nil)
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetRequest(ctx, r.ID)
	if got.Result != nil || got.Reasons != nil {
		t.Errorf("after clearing: result %+v reasons %+v", got.Result, got.Reasons)
	}
}

func TestListRequests_FiltersAndOrder(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	clk := useClock(s)
	ctx := context.Background()
	var ids []string
	kinds := []Kind{KindExtract, KindDelete, KindExtract, KindConfirm, KindExtract}
	for _, k := range kinds {
		clk.Advance(time.Second)
		ids = append(ids, createRequest(t, s, NewRequest{Kind: k, Subject: Identifiers{Email: "a@example.com"}}).ID)
	}
	if _, err := transition(s, ids[2], []Status{StatusReceived}, StatusProcessing, "worker", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := transition(s, ids[3], []Status{StatusReceived}, StatusDenied, "dpo", ""); err != nil {
		t.Fatal(err)
	}

	listIDs := func(f ListFilter) []string {
		t.Helper()
		f.PageSize = 100
		got, next, err := s.ListRequests(ctx, f)
		if err != nil || next != "" {
			t.Fatalf("ListRequests(%+v): next %q err %v", f, next, err)
		}
		out := make([]string, len(got))
		for i, r := range got {
			out[i] = r.ID
			if f.Kind != "" && r.Kind != f.Kind || f.Status != "" && r.Status != f.Status {
				t.Errorf("ListRequests(%+v) returned %s/%s", f, r.Kind, r.Status)
			}
		}
		return out
	}
	cases := []struct {
		f    ListFilter
		want []string
	}{
		{ListFilter{}, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{ListFilter{Kind: KindExtract}, []string{ids[4], ids[2], ids[0]}},
		{ListFilter{Status: StatusReceived}, []string{ids[4], ids[1], ids[0]}},
		{ListFilter{Status: StatusReceived, Kind: KindExtract}, []string{ids[4], ids[0]}},
		{ListFilter{Status: StatusDenied}, []string{ids[3]}},
		{ListFilter{Kind: KindAnonymize}, []string{}},
	}
	for _, c := range cases {
		if got := listIDs(c.f); !slices.Equal(got, c.want) {
			t.Errorf("ListRequests(%+v) = %v, want %v (newest first)", c.f, got, c.want)
		}
	}
}

// 120 requests, several sharing one received_at (the id breaks ties), paged
// by 50: every request exactly once, newest first, and three pages.
func TestListRequests_KeysetPaging(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	clk := useClock(s)
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 120 {
		if i%4 == 0 {
			clk.Advance(time.Millisecond)
		}
		want[createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}}).ID] = true
	}
	seen := map[string]bool{}
	var all []*Request
	var sizes []int
	token := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		got, next, err := s.ListRequests(ctx, ListFilter{PageSize: 50, PageToken: token})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		sizes = append(sizes, len(got))
		for _, r := range got {
			if seen[r.ID] {
				t.Errorf("request %s returned twice", r.ID)
			}
			seen[r.ID] = true
			all = append(all, r)
		}
		if next == "" {
			break
		}
		token = next
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("page sizes = %v, want [50 50 20]", sizes)
	}
	if len(seen) != len(want) {
		t.Errorf("paged through %d distinct requests, want %d", len(seen), len(want))
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("request %s never listed", id)
		}
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.ReceivedAt.Before(b.ReceivedAt) || a.ReceivedAt.Equal(b.ReceivedAt) && a.ID < b.ID {
			t.Errorf("position %d: (%v, %s) listed before (%v, %s); want newest first, id descending", i, a.ReceivedAt, a.ID, b.ReceivedAt, b.ID)
		}
	}

	// An exact multiple of the page size has no empty trailing page.
	got, next, err := s.ListRequests(ctx, ListFilter{PageSize: 120})
	if err != nil || len(got) != 120 || next != "" {
		t.Errorf("page of exactly all rows: %d rows, next %q, err %v; want 120 and no token", len(got), next, err)
	}
}

func TestListRequests_BadPageToken(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	for _, tok := range []string{"!!!not base64!!!", "Zm9v", "MTIzfGFiYw", "eHh4fDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"} {
		if _, _, err := s.ListRequests(context.Background(), ListFilter{PageSize: 10, PageToken: tok}); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("token %q: err = %v, want ErrBadPageToken", tok, err)
		}
	}
}

// A zero page size (a caller that did not set one) must not panic.
func TestListRequests_ZeroPageSize(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("ListRequests with PageSize 0 panicked: %v", p)
		}
	}()
	got, _, err := s.ListRequests(context.Background(), ListFilter{})
	if err == nil && len(got) == 0 {
		t.Errorf("PageSize 0 returned no rows and no error; want a default page size or an error")
	}
}

// Callers retrying at once with one key get one request between them.
func TestInsertRequest_ConcurrentSameKey(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	db.SetMaxOpenConns(16)
	const callers = 8
	n := NewRequest{Kind: KindDelete, CreatedBy: "backend", IdempotencyKey: "retry-storm",
		Subject: Identifiers{CPF: "52998224725"}, Deadline: time.Hour}
	type out struct {
		r       *Request
		created bool
		err     error
	}
	results := make([]out, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start
			r, created, err := insert(t, s, n)
			results[i] = out{r, created, err}
		})
	}
	close(start)
	wg.Wait()
	created, id := 0, ""
	for i, o := range results {
		if o.err != nil {
			t.Errorf("caller %d: %v", i, o.err)
			continue
		}
		if o.created {
			created++
		}
		if id == "" {
			id = o.r.ID
		} else if o.r.ID != id {
			t.Errorf("caller %d got request %s, another got %s", i, o.r.ID, id)
		}
	}
	if created != 1 {
		t.Errorf("%d callers were told they created the request, want 1", created)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_requests"); c != 1 {
		t.Errorf("%d requests stored, want 1", c)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_request_events"); c != 1 {
		t.Errorf("%d events stored, want 1", c)
	}
}
