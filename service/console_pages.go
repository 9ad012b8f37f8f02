package service

import (
	"context"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
)

// RequestEvent is one recorded state change of a request, for the
// console's timeline: from and to statuses, the credential that made it
// (a staff credential's name, "worker" or the like), its note and when.
type RequestEvent struct {
	From, To, Actor, Note string
	At                    time.Time
}

// RequestEvents returns a request's history, oldest first, from the
// events written in the same transaction as each state change. The
// console calls it after authorizing GetRequest (the same roles and
// tenant): no proto RPC carries the history, and the console shows it.
func (s *Requests) RequestEvents(ctx context.Context, tenantID, id string) ([]RequestEvent, error) {
	t, r, err := s.lookup(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	evs, err := t.Store.Events(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	out := make([]RequestEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, RequestEvent{From: string(e.From), To: string(e.To), Actor: e.Actor, Note: e.Note, At: e.At})
	}
	return out, nil
}

// titularRequestsMax bounds the requests the console lists for one
// titular.
const titularRequestsMax = 500

// TitularRequests returns the requests of the person the identifiers
// name, newest first, at most titularRequestsMax, and whether there were
// more. The identifiers are looked up as the subject index's HMACs: a
// titular whose erasure completed was forgotten there and is not found.
// The console calls it after authorizing ListRequests for the tenant.
func (s *Requests) TitularRequests(ctx context.Context, tenantID string, subject *lgpdv1.Subject) ([]*lgpdv1.Request, bool, error) {
	t, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, false, err
	}
	ids, err := subjectFor(ctx, subject, t)
	if err != nil {
		return nil, false, err
	}
	refs, err := t.Store.SubjectRefs(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	out, next, err := listPage(ctx, t, store.ListFilter{PageSize: titularRequestsMax, BySubject: true, SubjectRefs: refs})
	return out, next != "", err
}
