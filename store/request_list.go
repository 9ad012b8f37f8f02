package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

// overdueClause selects open requests past their deadline at now; its
// arguments follow it.
func overdueClause(now time.Time) (string, []any) {
	args := make([]any, 0, len(openStatuses)+1)
	for _, st := range openStatuses {
		args = append(args, st)
	}
	return "(status IN (" + sqlq.Placeholders(len(openStatuses)) + ") AND due_at < ?)", append(args, now)
}

// dateFilters adds the overdue and date bounds of f to where and args.
func (f ListFilter) dateFilters(now time.Time, where []string, args []any) ([]string, []any) {
	if f.Overdue {
		c, a := overdueClause(now)
		where, args = append(where, c), append(args, a...)
	}
	if !f.DueBefore.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, f.DueBefore.UTC())
	}
	if !f.ReceivedAfter.IsZero() {
		where, args = append(where, "received_at >= ?"), append(args, f.ReceivedAfter.UTC())
	}
	if !f.ReceivedBefore.IsZero() {
		where, args = append(where, "received_at < ?"), append(args, f.ReceivedBefore.UTC())
	}
	return where, args
}

// listByDue pages the DPO's queue: first the overdue requests (open, past
// due_at), then the others, each part by (due_at, id), earliest first. The
// page token names the part and the last (due_at, id) read. Overdue-ness is
// taken at each page's time: a request that falls due between two pages
// may be listed in the first part of a later page and not at all before it.
func (s *Store) listByDue(ctx context.Context, f ListFilter, where []string, args []any) ([]*Request, string, error) {
	part, at, id := 0, time.Time{}, ""
	if f.PageToken != "" {
		var err error
		if part, at, id, err = decodeDueToken(f.PageToken); err != nil {
			return nil, "", err
		}
	}
	now := s.now()
	var out []*Request
	var parts []int // the part each of out was read in
	for ; part < 2 && len(out) <= f.PageSize; part++ {
		if part == 1 && f.Overdue {
			break // the filter keeps only the first part
		}
		w, a := append([]string(nil), where...), append([]any(nil), args...)
		c, ca := overdueClause(now)
		if part == 1 {
			c = "NOT " + c
		}
		w, a = append(w, c), append(a, ca...)
		if id != "" {
			w, a = append(w, "(due_at > ? OR (due_at = ? AND id > ?))"), append(a, at, at, id)
			id = "" // the next part starts at its beginning
		}
		// A deferred join: the page's ids are sorted from the index
		// (status, due_at, id) alone, and only the page's rows are read —
		// ten times faster than sorting whole rows when thousands are overdue.
		//nolint:gosec // G202: only placeholders and column names are concatenated; every value is a bound parameter
		q := "SELECT " + requestColumns + " FROM lgpd_requests JOIN (SELECT id FROM lgpd_requests WHERE " + strings.Join(w, " AND ") +
			" ORDER BY due_at, id LIMIT ?) page USING (id) ORDER BY due_at, id"
		rows, err := s.queryRequests(ctx, q, append(a, f.PageSize+1-len(out)))
		if err != nil {
			return nil, "", err
		}
		for _, r := range rows {
			out, parts = append(out, r), append(parts, part)
		}
	}
	if len(out) <= f.PageSize {
		return out, "", nil
	}
	out = out[:f.PageSize]
	last := out[len(out)-1]
	return out, encodeDueToken(parts[len(out)-1], last.DueAt, last.ID), nil
}

func (s *Store) queryRequests(ctx context.Context, q string, args []any) ([]*Request, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	defer rows.Close()
	var out []*Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// encodeDueToken spells a due-order token "d<part>|<due_at µs>|<id>": a
// newest-first token (encodePageToken) never decodes as one, nor the
// reverse.
func encodeDueToken(part int, at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("d" + strconv.Itoa(part) + "|" + strconv.FormatInt(at.UnixMicro(), 10) + "|" + id))
}

func decodeDueToken(tok string) (int, time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, time.Time{}, "", ErrBadPageToken
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || (parts[0] != "d0" && parts[0] != "d1") || len(parts[2]) != 36 {
		return 0, time.Time{}, "", ErrBadPageToken
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return 0, time.Time{}, "", ErrBadPageToken
	}
	return int(parts[0][1] - '0'), time.UnixMicro(us).UTC(), parts[2], nil
}
