// Package service implements titular's gRPC API: authentication and
// authorization, validation, and the one place where domain errors become
// gRPC statuses; the workers of queued requests, the webhook dispatcher and
// the sweep. Each change is one transaction (store.ReadWriteTx) in which the
// service composes the CRM executor (package crm: what it did to the CRM's
// rows) with titular's records of it (store.Tx: the request's outcome and
// state, its event and ledger leaf, blocks, outbox rows), so both commit
// together or not at all. It never touches SQL itself.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/export"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Requests implements lgpd.v1.RequestService.
type Requests struct {
	tenants *tenant.Registry
	log     *slog.Logger
	// wake tells this process's workers that a tenant has new work.
	wake func(tenantID string)
	// ledger serves receipts; nil until WithLedger.
	ledger *Ledger
	// consents groups concurrent CONSENTs into shared transactions.
	consents *consentBatcher
}

// WithLedger lets the service answer GetReceipt from l.
func (s *Requests) WithLedger(l *Ledger) *Requests {
	s.ledger = l
	return s
}

var _ lgpdv1.RequestServiceServer = (*Requests)(nil)

// NewRequests returns the request service.
func NewRequests(tenants *tenant.Registry, log *slog.Logger, wake func(string)) *Requests {
	if wake == nil {
		wake = func(string) {}
	}
	return &Requests{tenants: tenants, log: log, wake: wake, consents: newConsentBatcher()}
}

// notLanded names the kinds whose issue has not landed, and what is missing.
var notLanded = map[lgpdv1.RequestKind]string{}

// CreateRequest validates and records a request. Kinds with an inline
// runner (CONFIRM, CORRECT, CONSENT) are answered within the call, in the transaction
// that records them; the others are queued for the workers.
func (s *Requests) CreateRequest(ctx context.Context, in *lgpdv1.CreateRequestRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	kind := in.GetKind()
	if msg, ok := notLanded[kind]; ok {
		return nil, errorf(codes.Unimplemented, "KIND_NOT_IMPLEMENTED", "%s", msg)
	}
	if _, known := lgpdv1.RequestKind_name[int32(kind)]; !known || kind == lgpdv1.RequestKind_KIND_UNSPECIFIED {
		return nil, invalid("KIND_REQUIRED", "kind is required: one of EXTRACT, CONFIRM, CORRECT, DELETE, ANONYMIZE, CONSENT, BLOCK, REVIEW")
	}
	if k := in.GetIdempotencyKey(); len(k) > 200 || !utf8.ValidString(k) {
		return nil, invalid("BAD_IDEMPOTENCY_KEY", "idempotency_key must be valid UTF-8 of at most 200 bytes")
	}
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	ids, err := subjectFor(ctx, in.GetSubject(), t)
	if err != nil {
		return nil, err
	}
	representative, err := representativeOf(in.GetRepresentative())
	if err != nil {
		return nil, err
	}
	n := store.NewRequest{
		Kind: store.Kind(kind.String()), CreatedBy: p.Name, CreatedRole: p.Role, Representative: representative,
		IdempotencyKey: in.GetIdempotencyKey(),
		Subject:        ids, Deadline: t.Config.Policy.Deadline(),
	}
	if err := linkPerson(ctx, t, &n); err != nil {
		return nil, err
	}
	if n.MinorBand, err = minorBand(ctx, t, ids); err != nil {
		return nil, err
	}
	if kind == lgpdv1.RequestKind_CONSENT {
		// Recorded in one step, batched with concurrent ones.
		ch, err := validateConsent(in.GetConsent())
		if err != nil {
			return nil, err
		}
		if err := minorConsentRule(n, ch); err != nil {
			return nil, err
		}
		ch.evidence.Representative = n.Representative
		n.Payload = ch.payload()
		req, err := s.createConsent(ctx, t, n, ch)
		if err != nil {
			return nil, err
		}
		return toProto(t.Config.ID, req, nil), nil
	}
	inline, payload, err := inlineRunner(kind, in, t, p.Name)
	if err != nil {
		return nil, err
	}
	n.Payload = payload
	var req *store.Request
	var created bool
	err = t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		r, isNew, err := tx.InsertRequest(ctx, n)
		if err != nil {
			return err
		}
		req, created = r, isNew
		switch {
		case created && inline != nil:
			req, err = inline(ctx, tx, r)
		case created && needsVerification(ctx, t, r):
			// Workers take RECEIVED requests only: this one waits until a
			// DPO has verified who asked (Art. 18 §3).
			req, err = tx.Transition(ctx, r.ID, []store.Status{store.StatusReceived}, store.StatusAwaitingVerification, p.Name,
				"waiting for the titular's identity to be verified (tenant policy, Art. 18 §3)")
		case created && t.Config.Policy.NeedsApproval(string(r.Kind)):
			// Workers take RECEIVED requests only: this one waits for the DPO.
			req, err = tx.Transition(ctx, r.ID, []store.Status{store.StatusReceived}, store.StatusAwaitingApproval, p.Name,
				"waiting for the DPO's approval (tenant policy)")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if req.Status == store.StatusReceived {
		s.wake(t.Config.ID)
	}
	if created {
		// Only a worker writes exports: a request just created has none.
		out := toProto(t.Config.ID, req, nil)
		if err := withDecision(ctx, t, req, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return s.withExports(ctx, t, req)
}

// inlineFunc runs a request within the transaction that created it.
type inlineFunc func(ctx context.Context, tx *store.Tx, r *store.Request) (*store.Request, error)

// inlineRunner validates a kind's parameters and returns how it runs within
// the call, or nil for kinds the workers process, and what the request asks
// beyond kind and titular (store.NewRequest.Payload).
func inlineRunner(kind lgpdv1.RequestKind, in *lgpdv1.CreateRequestRequest, t *tenant.Tenant, actor string) (inlineFunc, string, error) {
	switch kind {
	case lgpdv1.RequestKind_CONFIRM:
		return func(ctx context.Context, tx *store.Tx, r *store.Request) (*store.Request, error) {
			return confirm(ctx, t, tx, r, actor)
		}, "", nil
	case lgpdv1.RequestKind_CORRECT:
		values, err := correctionValues(t.Map, in.GetCorrection())
		if err != nil {
			return nil, "", err
		}
		payload, err := json.Marshal(values) // keys sorted: canonical
		if err != nil {
			return nil, "", err
		}
		return func(ctx context.Context, tx *store.Tx, r *store.Request) (*store.Request, error) {
			// A correction runs in the call: rather than wait behind a long
			// DELETE or ANONYMIZE of the titular, it is refused (ABORTED,
			// SUBJECT_BUSY) and the caller retries with the same key.
			if err := tx.TryLockSubject(ctx, r.SubjectRef, r.ID); err != nil {
				return nil, err
			}
			return correct(ctx, t, tx, r, actor, values)
		}, string(payload), nil
	case lgpdv1.RequestKind_ANONYMIZE:
		return nil, "", checkAnonymizable(t)
	case lgpdv1.RequestKind_REVIEW:
		return reviewRunner(in, t, actor)
	}
	return nil, "", nil
}

func (s *Requests) withExports(ctx context.Context, t *tenant.Tenant, r *store.Request) (*lgpdv1.Request, error) {
	exps, err := t.Store.Exports(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	out := toProto(t.Config.ID, r, exps)
	if err := withBlock(ctx, t, r, out); err != nil {
		return nil, err
	}
	if err := withDecision(ctx, t, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetRequest returns one request.
func (s *Requests) GetRequest(ctx context.Context, in *lgpdv1.GetRequestRequest) (*lgpdv1.Request, error) {
	t, r, err := s.lookup(ctx, in.GetTenant(), in.GetId())
	if err != nil {
		return nil, err
	}
	return s.withExports(ctx, t, r)
}

func (s *Requests) lookup(ctx context.Context, tenantID, id string) (*tenant.Tenant, *store.Request, error) {
	if !validID(id) {
		return nil, nil, invalid("BAD_REQUEST_ID", "id must be a request id as returned by CreateRequest (a UUID)")
	}
	t, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	r, err := t.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := visible(ctx, r); err != nil {
		return nil, nil, err
	}
	return t, r, nil
}

func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		dash := i == 8 || i == 13 || i == 18 || i == 23
		if dash != (c == '-') || (!dash && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
			return false
		}
	}
	return true
}

// ListRequests pages through a tenant's requests, newest first or by due
// date (queueFilters).
func (s *Requests) ListRequests(ctx context.Context, in *lgpdv1.ListRequestsRequest) (*lgpdv1.ListRequestsResponse, error) {
	size, err := pageSize(in.GetPageSize())
	if err != nil {
		return nil, err
	}
	f := store.ListFilter{PageSize: size, PageToken: in.GetPageToken()}
	if in.GetStatus() != lgpdv1.RequestStatus_STATUS_UNSPECIFIED {
		f.Status = store.Status(in.GetStatus().String())
	}
	if in.GetKind() != lgpdv1.RequestKind_KIND_UNSPECIFIED {
		f.Kind = store.Kind(in.GetKind().String())
	}
	if err := queueFilters(in, &f); err != nil {
		return nil, err
	}
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	reqs, next, err := listPage(ctx, t, f)
	if err != nil {
		return nil, err
	}
	return &lgpdv1.ListRequestsResponse{Requests: reqs, NextPageToken: next}, nil
}

// listPage is one page of f as the caller may see it: scoped to a
// titular's own requests for a titular-bound caller, with the decisions
// of the REVIEWs listed.
func listPage(ctx context.Context, t *tenant.Tenant, f store.ListFilter) ([]*lgpdv1.Request, string, error) {
	if err := scopeList(ctx, t, &f); err != nil {
		return nil, "", err
	}
	reqs, next, err := t.Store.ListRequests(ctx, f)
	if err != nil {
		return nil, "", err
	}
	out := make([]*lgpdv1.Request, 0, len(reqs))
	for _, r := range reqs {
		if visible(ctx, r) != nil {
			continue // under the titular's reference, with an identifier the token did not verify
		}
		// Exports are listed on GetRequest; a page stays one query.
		out = append(out, toProto(t.Config.ID, r, nil))
	}
	if err := withDecisions(ctx, t, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// pending are the states a DPO or the backend may still stop.
var pending = []store.Status{store.StatusReceived, store.StatusAwaitingVerification, store.StatusAwaitingApproval}

// CancelRequest cancels a request that has not started processing.
func (s *Requests) CancelRequest(ctx context.Context, in *lgpdv1.CancelRequestRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	if len(in.GetNote()) > 500 {
		return nil, invalid("NOTE_TOO_LONG", "note must be at most 500 bytes")
	}
	return s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, t *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		return tx.Transition(ctx, in.GetId(), pending, store.StatusCanceled, p.Name, in.GetNote())
	})
}

// DenyRequest denies a pending request, with the reasons the titular is owed
// (Art. 18 §4). The reasons are stored before the final transition, so its
// ledger leaf commits to them.
func (s *Requests) DenyRequest(ctx context.Context, in *lgpdv1.DenyRequestRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	if len(in.GetReasons()) == 0 {
		return nil, invalid("REASONS_REQUIRED", "a denial needs at least one reason with a message (LGPD art. 18 §4)")
	}
	if len(in.GetReasons()) > maxDenyReasons {
		// Each reason holds up to 2.5 KB; the request's record holds 64 KiB.
		return nil, invalid("TOO_MANY_REASONS", "a denial holds at most %d reasons; group related ones under one code", maxDenyReasons)
	}
	var reasons []store.Reason
	for i, r := range in.GetReasons() {
		switch {
		case r.GetMessage() == "" || r.GetCode() == "":
			return nil, invalid("REASONS_REQUIRED", "reasons[%d]: code and message are required", i)
		case !reasonCode.MatchString(r.GetCode()):
			return nil, invalid("BAD_REASON", "reasons[%d].code must be upper-case letters, digits and '_' (at most 64), e.g. IDENTITY_NOT_CONFIRMED", i)
		case len(r.GetMessage()) > 2000 || len(r.GetLegalReference()) > 500 || !utf8.ValidString(r.GetMessage()+r.GetLegalReference()):
			return nil, invalid("BAD_REASON", "reasons[%d]: message holds at most 2000 bytes and legal_reference 500, of UTF-8", i)
		}
		reasons = append(reasons, store.Reason{Code: r.GetCode(), Message: r.GetMessage(), LegalReference: r.GetLegalReference(), Entity: r.GetEntity()})
	}
	return s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, t *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		if err := tx.SetOutcome(ctx, in.GetId(), nil, reasons); err != nil {
			return nil, err
		}
		r, err := tx.Transition(ctx, in.GetId(), pending, store.StatusDenied, p.Name, "")
		if err != nil {
			return nil, err
		}
		r.Reasons = reasons
		return r, nil
	})
}

// maxDenyReasons bounds a denial's reasons so they fit the request's record.
const maxDenyReasons = 20

// reasonCode is the shape of a reason's machine-readable code.
var reasonCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

func (s *Requests) transition(ctx context.Context, tenantID, id string, fn func(context.Context, *tenant.Tenant, *store.Tx) (*store.Request, error)) (*lgpdv1.Request, error) {
	t, _, err := s.lookup(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	var r *store.Request
	if err := t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		r, err = fn(ctx, t, tx)
		return err
	}); err != nil {
		return nil, err
	}
	return s.withExports(ctx, t, r)
}

// ApproveRequest lets a request the tenant's policy held for the DPO go on:
// AWAITING_APPROVAL -> RECEIVED, where the workers take it. The note, when
// given, is kept in the request's history.
func (s *Requests) ApproveRequest(ctx context.Context, in *lgpdv1.ApproveRequestRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	note := in.GetNote()
	if len(note) > 500 || !utf8.ValidString(note) {
		return nil, invalid("NOTE_TOO_LONG", "note must be UTF-8 of at most 500 bytes")
	}
	if note == "" {
		note = "approved"
	}
	out, err := s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, t *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		r, err := tx.Transition(ctx, in.GetId(), []store.Status{store.StatusAwaitingApproval}, store.StatusReceived, p.Name, note)
		if err != nil {
			return nil, err
		}
		return r, notReview(r)
	})
	if err != nil {
		return nil, err
	}
	s.wake(in.GetTenant())
	return out, nil
}

// GetReceipt returns the request's ledger receipt: its latest leaf (the
// final one once the request is done), a signed checkpoint and the inclusion
// proof between them, for a titular to verify offline.
func (s *Requests) GetReceipt(ctx context.Context, in *lgpdv1.GetReceiptRequest) (*lgpdv1.Receipt, error) {
	if s.ledger == nil {
		return nil, errorf(codes.Unimplemented, "NOT_IMPLEMENTED", "receipts need the ledger, which this server was started without")
	}
	t, r, err := s.lookup(ctx, in.GetTenant(), in.GetId())
	if err != nil {
		return nil, err
	}
	a, err := accessFor(ctx, t)
	if err != nil {
		return nil, err
	}
	rc, err := s.ledger.Receipt(ctx, t, r.ID)
	if err != nil {
		return nil, err
	}
	// Recorded before the receipt leaves: a read the access log cannot
	// record is refused.
	if err := a.record(ctx, t, store.AccessReceiptRead, r.ID, r.SubjectRef); err != nil {
		return nil, err
	}
	return rc, nil
}

// DownloadExport streams a completed request's export. Everything is checked
// before the first chunk: an error after it would reach a REST client as a
// 200 with JSON glued to the file.
func (s *Requests) DownloadExport(in *lgpdv1.DownloadExportRequest, stream grpc.ServerStreamingServer[httpbody.HttpBody]) error {
	ctx := stream.Context()
	format := in.GetFormat()
	if !slices.Contains(export.Formats(), format) {
		return invalid("BAD_FORMAT", "format must be json, xlsx or pdf")
	}
	t, r, err := s.lookup(ctx, in.GetTenant(), in.GetId())
	if err != nil {
		return err
	}
	if r.Status != store.StatusCompleted {
		return errorf(codes.FailedPrecondition, "NOT_READY", "request is %s; exports exist once it is COMPLETED", r.Status)
	}
	a, err := accessFor(ctx, t)
	if err != nil {
		return err
	}
	exp, chunks, err := t.Store.OpenExport(ctx, t.ExportKey, r.ID, format)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codes.NotFound, "NO_EXPORT", "this request has no %s export (only EXTRACT requests have exports)", format)
	}
	if err != nil {
		return err
	}
	// The access is recorded before the first byte, not after the last:
	// a stream the caller breaks off has still delivered what it sent, and
	// a failure to record refuses the download while it can still be an
	// error. RecordDelivery, below, is the other record: the ledger's, of a
	// complete delivery and its digest.
	if err := a.record(ctx, t, store.AccessExportDownload, r.ID, r.SubjectRef); err != nil {
		return err
	}
	if err := stream.SendHeader(metadata.Pairs(
		"content-disposition", `attachment; filename="`+exp.Filename+`"`,
		"x-content-sha256", exp.SHA256,
	)); err != nil {
		return err
	}
	ct := export.ContentType(format)
	if err := chunks(func(b []byte) error {
		return stream.Send(&httpbody.HttpBody{ContentType: ct, Data: b})
	}); err != nil {
		return err
	}
	// The ledger records each complete delivery with the digest of the bytes
	// sent. The file has already reached the caller: a failure here is
	// logged, not returned, since it would only glue an error to the body.
	if err := t.Store.RecordDelivery(context.WithoutCancel(ctx), r.ID, r.SubjectRef, format, exp.SHA256); err != nil {
		s.log.Error("download: recording the delivery in the ledger failed", "tenant", t.Config.ID, "request_id", r.ID, "error", logsafe.Error(err))
	}
	return nil
}
