package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

// Claim takes the oldest request of one of kinds that is waiting, or whose
// worker's lease expired, for owner until lease from now. Claims use
// SELECT … FOR UPDATE SKIP LOCKED, so any number of titular processes share a
// tenant's queue without taking the same request. A destructive request
// (DestructiveKinds) is passed over while another destructive request of the
// same titular is PROCESSING under a live lease, or while another claim or
// worker holds the titular's lock row: one titular's destructive requests
// run one after the other, across replicas. It returns ErrNotFound when
// nothing can be taken.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration, kinds []Kind) (*Request, error) {
	if len(kinds) == 0 {
		return nil, errors.New("claim: name at least one kind")
	}
	var claimed *Request
	err := s.readCommittedTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.now()
		r, err := s.claimable(ctx, tx, kinds, now)
		if err != nil {
			return err
		}
		note := ""
		if r.Status == StatusProcessing {
			note = "lease of a stopped worker expired; claimed again"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lgpd_requests SET status = ?, lease_owner = ?, lease_until = ?,
 attempts = attempts + 1, updated_at = ? WHERE id = ?`, StatusProcessing, owner, now.Add(lease), now, r.ID); err != nil {
			return fmt.Errorf("claim request: %w", err)
		}
		if err := s.addEvent(ctx, tx, r.ID, r.Status, StatusProcessing, "worker", note, now); err != nil {
			return err
		}
		r.Status, r.LeaseOwner, r.Attempts, r.UpdatedAt = StatusProcessing, owner, r.Attempts+1, now
		claimed = r
		return nil
	})
	return claimed, err
}

// maxPassedOver bounds the candidates one claim passes over because their
// titular is busy; the next claim looks again.
const maxPassedOver = 50

// claimable finds and locks the request Claim takes: waiting requests first
// (lease_until on a RECEIVED row is a retry backoff), then the PROCESSING
// ones of a worker that died mid-request (its lease expired). Destructive
// requests whose titular is busy are passed over; their rows stay locked
// until the claim commits, which other claims skip.
func (s *Store) claimable(ctx context.Context, tx *sql.Tx, kinds []Kind, now time.Time) (*Request, error) {
	var passed []any
	for _, phase := range []struct {
		status Status
		lease  string
	}{
		{StatusReceived, "(lease_until IS NULL OR lease_until <= ?)"},
		{StatusProcessing, "lease_until <= ?"},
	} {
		for len(passed) <= maxPassedOver {
			args := []any{phase.status}
			for _, k := range kinds {
				args = append(args, k)
			}
			args = append(args, now)
			q := `SELECT id FROM lgpd_requests WHERE status = ? AND kind IN (` + sqlq.Placeholders(len(kinds)) + `) AND ` + phase.lease
			if len(passed) > 0 {
				q += ` AND id NOT IN (` + sqlq.Placeholders(len(passed)) + `)`
				args = append(args, passed...)
			}
			id, err := firstID(ctx, tx, q+` ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED`, args...)
			if errors.Is(err, ErrNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			r, err := s.getRequest(ctx, tx, id, true)
			if err != nil {
				return nil, err
			}
			if !r.Kind.Destructive() {
				return r, nil
			}
			err = s.tryLockSubject(ctx, tx, r.SubjectRef, r.ID)
			if errors.Is(err, ErrSubjectBusy) {
				passed = append(passed, id)
				continue
			}
			return r, err
		}
	}
	return nil, ErrNotFound
}

func firstID(ctx context.Context, tx *sql.Tx, query string, args ...any) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("claim request: %w", err)
	}
	return id, nil
}

// checkLease is CheckLease returning the request it locked.
func (s *Store) checkLease(ctx context.Context, tx *sql.Tx, id, owner string) (*Request, error) {
	r, err := s.getRequest(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if r.Status != StatusProcessing || r.LeaseOwner != owner {
		return nil, fmt.Errorf("%w: the lease on request was lost (now %s)", ErrConflict, r.Status)
	}
	return r, nil
}

// Release gives a claimed request back after a failed attempt: it waits for
// backoff and becomes claimable again, or is FAILED with reason once it has
// had maxAttempts. errClass must not contain personal data.
func (s *Store) Release(ctx context.Context, id, owner, errClass string, backoff time.Duration, maxAttempts int) error {
	return s.readWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		r, err := s.checkLease(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if r.Attempts >= maxAttempts {
			reasons := []Reason{{Code: "PROCESSING_FAILED", Message: "processing failed after " +
				strconv.Itoa(r.Attempts) + " attempts (" + errClass + "); the DPO has been notified through the failed-requests list"}}
			if err := s.setOutcome(ctx, tx, id, nil, reasons); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE lgpd_requests SET last_error = ? WHERE id = ?", sqlq.Truncate(errClass, 500), id); err != nil {
				return fmt.Errorf("release request: %w", err)
			}
			r.Reasons = reasons // read before they were stored; the FAILED event names them
			_, err := s.transition(ctx, tx, r, []Status{StatusProcessing}, StatusFailed, "worker", sqlq.Truncate(errClass, 500))
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE lgpd_requests SET status = ?, lease_owner = NULL, lease_until = ?,
 last_error = ?, updated_at = ? WHERE id = ?`, StatusReceived, now.Add(backoff), sqlq.Truncate(errClass, 500), now, id); err != nil {
			return fmt.Errorf("release request: %w", err)
		}
		return s.addEvent(ctx, tx, id, StatusProcessing, StatusReceived, "worker", "attempt failed; retrying: "+sqlq.Truncate(errClass, 400), now)
	})
}

// Abandon gives back a claimed request its worker stopped before finishing
// because the process is shutting down: it is claimable again at once, by
// this process's next start or another replica, and the attempt does not
// count, so a shutdown never turns a request's last attempt into FAILED.
func (s *Store) Abandon(ctx context.Context, id, owner string) error {
	return s.readWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.checkLease(ctx, tx, id, owner); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE lgpd_requests SET status = ?, lease_owner = NULL, lease_until = NULL,
 attempts = GREATEST(attempts - 1, 0), updated_at = ? WHERE id = ?`, StatusReceived, now, id); err != nil {
			return fmt.Errorf("abandon request: %w", err)
		}
		return s.addEvent(ctx, tx, id, StatusProcessing, StatusReceived, "worker", "worker stopped (shutdown); claimable again", now)
	})
}

// ListFilter selects requests to list.
type ListFilter struct {
	Status    Status
	Kind      Kind
	PageSize  int
	PageToken string
	// BySubject keeps only requests under one of SubjectRefs (none when
	// SubjectRefs is empty): a titular's own requests.
	BySubject   bool
	SubjectRefs []string
	// Overdue keeps only open requests past their due_at.
	Overdue bool
	// DueBefore, ReceivedAfter and ReceivedBefore bound due_at and
	// received_at (after: inclusive; before: exclusive) when not zero.
	DueBefore, ReceivedAfter, ReceivedBefore time.Time
	// ByDue orders the DPO's queue: overdue requests first, then the rest,
	// each by due_at then id (listByDue), instead of newest first.
	ByDue bool
}

// ErrBadPageToken is returned for a page token this store did not issue.
var ErrBadPageToken = errors.New("invalid page token; pass the next_page_token of the previous page, unchanged")

// ListRequests returns requests newest first, keyset-paged on (received_at,
// id), or by due date when f.ByDue.
func (s *Store) ListRequests(ctx context.Context, f ListFilter) ([]*Request, string, error) {
	if f.PageSize <= 0 || f.PageSize > 1000 {
		f.PageSize = DefaultPageSize
	}
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.BySubject {
		if len(f.SubjectRefs) == 0 {
			return nil, "", nil
		}
		where = append(where, "subject_ref IN ("+sqlq.Placeholders(len(f.SubjectRefs))+")")
		for _, ref := range f.SubjectRefs {
			args = append(args, ref)
		}
	}
	where, args = f.dateFilters(s.now(), where, args)
	if f.ByDue {
		return s.listByDue(ctx, f, where, args)
	}
	if f.PageToken != "" {
		at, id, err := decodePageToken(f.PageToken)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(received_at < ? OR (received_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	q := "SELECT " + requestColumns + " FROM lgpd_requests"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ") //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
	}
	q += " ORDER BY received_at DESC, id DESC LIMIT ?"
	args = append(args, f.PageSize+1)
	out, err := s.queryRequests(ctx, q, args)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.PageSize {
		out = out[:f.PageSize]
		last := out[len(out)-1]
		next = encodePageToken(last.ReceivedAt, last.ID)
	}
	return out, next, nil
}

func encodePageToken(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "|" + id))
}

func decodePageToken(tok string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, "", ErrBadPageToken
	}
	us, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || len(id) != 36 {
		return time.Time{}, "", ErrBadPageToken
	}
	return time.UnixMicro(n).UTC(), id, nil
}
