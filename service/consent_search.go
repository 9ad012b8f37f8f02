package service

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
)

func consentRecordToProto(c store.ConsentRecord, withEvidence bool) *lgpdv1.ConsentRecord {
	out := &lgpdv1.ConsentRecord{
		Purpose: c.PurposeID, Action: lgpdv1.ConsentAction(lgpdv1.ConsentAction_value[c.Action]),
		TermVersion: c.TermVersion, TermSha256: c.TermSHA256, At: ts(c.At), Channel: c.Channel, RequestId: c.RequestID,
	}
	if withEvidence {
		out.Evidence = &lgpdv1.ConsentEvidence{Channel: c.Channel, Ip: c.Evidence.IP, UserAgent: c.Evidence.UserAgent, CapturedBy: c.Evidence.CapturedBy}
		// A child's consent is the guardian's (Art. 14 §1): the DPO proving
		// it must see who gave it, under the same rule as the rest of the
		// evidence.
		if r := c.Evidence.Representative; r != nil {
			out.Evidence.Representative = &lgpdv1.Representative{Relation: r.Relation, Name: r.Name, DocumentRef: r.DocumentRef}
		}
	}
	return out
}

// SearchConsents returns a titular's current status per purpose and full
// history. The identifiers travel in the body; the evidence (IP, user agent,
// the guardian who gave a child's consent) is returned to the DPO only, who carries the burden of proof (Art. 8 §2).
func (c *Consent) SearchConsents(ctx context.Context, in *lgpdv1.SearchConsentsRequest) (*lgpdv1.SearchConsentsResponse, error) {
	p, _ := PrincipalFrom(ctx)
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	ids, err := subjectFor(ctx, in.GetSubject(), t)
	if err != nil {
		return nil, err
	}
	withEvidence := p.Role == config.RoleDPO
	var a access
	if withEvidence {
		if a, err = accessFor(ctx, t); err != nil {
			return nil, err
		}
	}
	refs, history, err := t.Store.ConsentHistoryFor(ctx, ids)
	if err != nil {
		return nil, err
	}
	if withEvidence && len(history) > 0 {
		// The evidence (IP, user agent) is the titular's personal data:
		// each titular whose evidence leaves is recorded first.
		for _, ref := range refs {
			if err := a.record(ctx, t, store.AccessConsentEvidence, "", ref); err != nil {
				return nil, err
			}
		}
	}
	out := &lgpdv1.SearchConsentsResponse{SubjectRefs: refs}
	for _, r := range store.CurrentConsents(history) {
		out.Current = append(out.Current, consentRecordToProto(r, withEvidence))
	}
	for _, r := range history {
		out.History = append(out.History, consentRecordToProto(r, withEvidence))
	}
	return out, nil
}

// pageSize reads a page size: 1..500, 0 meaning 50.
func pageSize(n int32) (int, error) {
	switch {
	case n < 0 || n > 500:
		return 0, invalid("BAD_PAGE_SIZE", "page_size must be between 1 and 500 (0 means 50)")
	case n == 0:
		return 50, nil
	}
	return int(n), nil
}

// ListConsentSubjects pages through the titulares whose current status for a
// purpose is the given one (GRANT when unset), for the CRM's marketing jobs.
// It returns subject references only, never identifiers: the CRM keeps the
// reference each CONSENT request returned beside its own record of the
// titular and joins on it, so the list leaks no personal data to whoever
// reads it and stays correct after a titular's data is deleted.
func (c *Consent) ListConsentSubjects(ctx context.Context, in *lgpdv1.ListConsentSubjectsRequest) (*lgpdv1.ListConsentSubjectsResponse, error) {
	if err := checkPurposeID(in.GetPurpose()); err != nil {
		return nil, err
	}
	size, err := pageSize(in.GetPageSize())
	if err != nil {
		return nil, err
	}
	action := in.GetStatus()
	if action == lgpdv1.ConsentAction_CONSENT_ACTION_UNSPECIFIED {
		action = lgpdv1.ConsentAction_GRANT
	}
	if _, ok := lgpdv1.ConsentAction_name[int32(action)]; !ok {
		return nil, invalid("BAD_STATUS", "status must be GRANT, REFUSE or REVOKE")
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	refs, next, err := t.Store.ConsentSubjects(ctx, in.GetPurpose(), action.String(), size, in.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &lgpdv1.ListConsentSubjectsResponse{SubjectRefs: refs, NextPageToken: next}, nil
}

// ListDeliveries lists webhook deliveries for the DPO: pending and failed
// ones unless a state is asked for.
func (c *Consent) ListDeliveries(ctx context.Context, in *lgpdv1.ListDeliveriesRequest) (*lgpdv1.ListDeliveriesResponse, error) {
	size, err := pageSize(in.GetPageSize())
	if err != nil {
		return nil, err
	}
	var states []string
	switch in.GetState() {
	case lgpdv1.DeliveryState_DELIVERY_STATE_UNSPECIFIED:
		states = []string{store.DeliveryPending, store.DeliveryFailed}
	case lgpdv1.DeliveryState_DELIVERY_PENDING:
		states = []string{store.DeliveryPending}
	case lgpdv1.DeliveryState_DELIVERY_DELIVERED:
		states = []string{store.DeliveryDelivered}
	case lgpdv1.DeliveryState_DELIVERY_FAILED:
		states = []string{store.DeliveryFailed}
	default:
		return nil, invalid("BAD_STATE", "state must be DELIVERY_PENDING, DELIVERY_DELIVERED or DELIVERY_FAILED")
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	ds, next, err := t.Store.ListDeliveries(ctx, states, size, in.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &lgpdv1.ListDeliveriesResponse{NextPageToken: next}
	for _, d := range ds {
		pd := &lgpdv1.Delivery{
			EventId: d.Event.ID, Seq: d.Event.Seq, Type: d.Event.Type, Endpoint: d.Endpoint,
			State:      lgpdv1.DeliveryState(lgpdv1.DeliveryState_value["DELIVERY_"+d.State]),
			SubjectRef: d.Event.SubjectRef, RequestId: d.Event.RequestID, Attempts: int32(d.Attempts), //nolint:gosec // G115: attempts are bounded by max_attempts
			CreatedAt: ts(d.Event.CreatedAt), NextAttemptAt: ts(d.NextAttemptAt), LastError: d.LastError,
			Recipient: d.Recipient, IdentifiersSent: d.IdentifiersSent,
		}
		if d.DeliveredAt != nil {
			pd.DeliveredAt = ts(*d.DeliveredAt)
			pd.NextAttemptAt = nil
		}
		out.Deliveries = append(out.Deliveries, pd)
	}
	return out, nil
}

// maxRetryEvents bounds the event ids one RetryDeliveries names.
const maxRetryEvents = 500

// RetryDeliveries requeues failed deliveries for the DPO once an endpoint
// is fixed or back. The endpoint, when named, must be configured for the
// tenant: a delivery to one that is not would only fail again.
func (c *Consent) RetryDeliveries(ctx context.Context, in *lgpdv1.RetryDeliveriesRequest) (*lgpdv1.RetryDeliveriesResponse, error) {
	ids := in.GetEventIds()
	if len(ids) > maxRetryEvents {
		return nil, invalid("TOO_MANY_EVENTS", "event_ids holds at most %d ids; send several calls, or none to retry every failed delivery", maxRetryEvents)
	}
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			return nil, invalid("BAD_EVENT_ID", "event_ids must be event ids as ListDeliveries returns them (UUIDs)")
		}
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	if ep := in.GetEndpoint(); ep != "" && !slices.ContainsFunc(t.Config.Webhooks, func(w config.Webhook) bool { return w.Name == ep }) {
		return nil, errorf(codes.NotFound, "ENDPOINT_NOT_FOUND", "endpoint %q is not in this tenant's webhook configuration; name one of its webhooks, or none", ep)
	}
	n, err := t.Store.RetryFailedDeliveries(ctx, in.GetEndpoint(), ids)
	if err != nil {
		return nil, err
	}
	return &lgpdv1.RetryDeliveriesResponse{Requeued: n}, nil
}
