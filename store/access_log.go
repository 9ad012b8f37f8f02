package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Actions recorded in the access log.
const (
	AccessExportDownload  = "export.download"
	AccessReceiptRead     = "receipt.read"
	AccessLedgerRead      = "ledger.read"
	AccessConsentEvidence = "consent_evidence.read"
)

// AccessEntry is one read recorded in lgpd_access_log: who (the
// credential's name and role), what (the action, and the request or
// titular's reference it concerned), why (the reason the caller gave) and
// which call (its x-request-id). It holds no identifier.
type AccessEntry struct {
	ID            int64
	At            time.Time
	Actor         string
	Role          string
	Action        string
	RequestID     string // empty when the read concerned no one request
	SubjectRef    string // empty when the read concerned no one titular
	Reason        string
	CallRequestID string
}

// ErrBadAccessEntry is returned for an entry missing its actor, role or
// action, or with a field longer than its column.
var ErrBadAccessEntry = errors.New("access log entry: actor, role and action are required and must fit their columns")

// RecordAccess appends e to the access log; At is the store's clock when
// zero. Fields are checked rather than truncated: a reason cut short would
// record something the caller did not say.
func (s *Store) RecordAccess(ctx context.Context, e AccessEntry) error {
	switch {
	case e.Actor == "" || e.Role == "" || e.Action == "",
		len(e.Actor) > 128, len(e.Role) > 16, len(e.Action) > 32, len(e.Reason) > 500, len(e.CallRequestID) > 64,
		e.RequestID != "" && len(e.RequestID) != 36, e.SubjectRef != "" && len(e.SubjectRef) != 36:
		return ErrBadAccessEntry
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO lgpd_access_log
 (at, actor, role, action, request_id, subject_ref, reason, call_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At, e.Actor, e.Role, e.Action, nullable(e.RequestID), nullable(e.SubjectRef), e.Reason, e.CallRequestID); err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// AccessFilter selects access log entries to list.
type AccessFilter struct {
	RequestID string // only the entries of this request, when set
	PageSize  int
	PageToken string
}

// ListAccess returns access log entries newest first, keyset-paged on id
// (ids grow with time: the log is append-only).
func (s *Store) ListAccess(ctx context.Context, f AccessFilter) ([]AccessEntry, string, error) {
	if f.PageSize <= 0 || f.PageSize > 1000 {
		f.PageSize = DefaultPageSize
	}
	q := "SELECT id, at, actor, role, action, request_id, subject_ref, reason, call_request_id FROM lgpd_access_log WHERE 1 = 1"
	var args []any
	if f.RequestID != "" {
		q += " AND request_id = ?"
		args = append(args, f.RequestID)
	}
	if f.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		if err != nil {
			return nil, "", ErrBadPageToken
		}
		after, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil || after <= 0 {
			return nil, "", ErrBadPageToken
		}
		q += " AND id < ?"
		args = append(args, after)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.PageSize+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list access log: %w", err)
	}
	out, err := collect(rows, "list access log", func(rows *sql.Rows) (AccessEntry, error) {
		var e AccessEntry
		var req, ref sql.NullString
		err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &req, &ref, &e.Reason, &e.CallRequestID)
		e.RequestID, e.SubjectRef = req.String, ref.String
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.PageSize {
		out = out[:f.PageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(out[len(out)-1].ID, 10)))
	}
	return out, next, nil
}
