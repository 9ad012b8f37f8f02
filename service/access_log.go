package service

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// AccessReasonHeader is the metadata key (REST: the X-Access-Reason
// header) that carries why a caller reads an export, a receipt, ledger
// entries or consent evidence. HTTP and gRPC headers carry ASCII: UTF-8
// beyond it is sent percent-encoded ("solicita%C3%A7%C3%A3o"), and a
// literal '%' as %25.
const AccessReasonHeader = "x-access-reason"

// maxAccessReason bounds a reason, in bytes of UTF-8 once decoded.
const maxAccessReason = 500

// staffRoles are the roles the tenant's access_reason_required policy
// applies to. A titular reading their own records needs no reason.
var staffRoles = []string{config.RoleDPO, config.RoleBackend, config.RoleAuditor}

// access is one recordable read in progress: who reads, why, and in which
// call. Built before anything is read (accessFor), so a refused reason
// sends nothing; recorded before the data leaves (record).
type access struct {
	actor, role, reason, callID string
}

// accessFor reads and checks the caller's access reason for a read of
// tenant t's records. With the tenant's access_reason_required policy, a
// staff caller without one is refused.
func accessFor(ctx context.Context, t *tenant.Tenant) (access, error) {
	a := access{actor: "unknown", role: "unknown"}
	if p, ok := PrincipalFrom(ctx); ok && p != nil {
		a.actor, a.role = truncateUTF8(p.Name, 128), truncateUTF8(p.Role, 16)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	raw := ""
	if vs := md.Get(AccessReasonHeader); len(vs) > 0 {
		raw = strings.Join(vs, " ")
	}
	reason, err := url.PathUnescape(raw)
	if err != nil {
		return a, invalid("BAD_ACCESS_REASON", "the X-Access-Reason header must be percent-encoded UTF-8: write a literal '%%' as %%25")
	}
	reason = strings.TrimSpace(reason)
	switch {
	case len(reason) > maxAccessReason || !utf8.ValidString(reason):
		return a, invalid("BAD_ACCESS_REASON", "the X-Access-Reason header must be UTF-8 of at most %d bytes (percent-encoded beyond ASCII)", maxAccessReason)
	case strings.ContainsFunc(reason, unicode.IsControl):
		return a, invalid("BAD_ACCESS_REASON", "the X-Access-Reason header must hold no control characters")
	case personalData.MatchString(reason):
		return a, invalid("PERSONAL_DATA_IN_REASON", "the X-Access-Reason header must hold no personal data (it looks like an e-mail, CPF or phone number): give a ticket number or a purpose instead")
	case reason == "" && t.Config.Policy.AccessReasonRequired && isStaff(a.role):
		return a, errorf(codes.FailedPrecondition, "ACCESS_REASON_REQUIRED",
			"tenant %s records why staff read exports, receipts, ledger entries and consent evidence: send the reason in the X-Access-Reason header (gRPC metadata x-access-reason), e.g. a ticket number", t.Config.ID)
	}
	a.reason = reason
	a.callID = CallerRequestID(md)
	return a, nil
}

func isStaff(role string) bool {
	for _, r := range staffRoles {
		if r == role {
			return true
		}
	}
	return false
}

// record appends the read to the tenant's access log. Callers return its
// error before sending what was read: a read that cannot be recorded does
// not happen.
func (a access) record(ctx context.Context, t *tenant.Tenant, action, requestID, subjectRef string) error {
	return t.Store.RecordAccess(ctx, store.AccessEntry{
		Actor: a.actor, Role: a.role, Action: action, RequestID: requestID, SubjectRef: subjectRef,
		Reason: a.reason, CallRequestID: a.callID,
	})
}

// saneCallID is what a caller's x-request-id may look like to be logged
// or recorded: short, and only characters that cannot forge a log line.
var saneCallID = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,64}$`)

// longCallDigits is a run of digits as long as a CPF or a phone number: a
// request id like that is not kept, in case it is one.
var longCallDigits = regexp.MustCompile(`[0-9]{10,}`)

// CallerRequestID is the call's x-request-id when it is short and tame
// enough to log and record; empty otherwise (the server then logs one it
// made up, which the service does not see). The server's logging and the
// access log share this rule.
func CallerRequestID(md metadata.MD) string {
	for _, v := range md.Get("x-request-id") {
		if saneCallID.MatchString(v) && !longCallDigits.MatchString(v) {
			return v
		}
	}
	return ""
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ListAccessLog pages through the tenant's access log, newest first.
func (s *Requests) ListAccessLog(ctx context.Context, in *lgpdv1.ListAccessLogRequest) (*lgpdv1.ListAccessLogResponse, error) {
	size, err := pageSize(in.GetPageSize())
	if err != nil {
		return nil, err
	}
	if id := in.GetRequestId(); id != "" && !validID(id) {
		return nil, invalid("BAD_REQUEST_ID", "request_id must be a request id as returned by CreateRequest (a UUID)")
	}
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	entries, next, err := t.Store.ListAccess(ctx, store.AccessFilter{RequestID: in.GetRequestId(), PageSize: size, PageToken: in.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &lgpdv1.ListAccessLogResponse{NextPageToken: next}
	for _, e := range entries {
		out.Entries = append(out.Entries, &lgpdv1.AccessLogEntry{
			At: timestamppb.New(e.At), Actor: e.Actor, Role: e.Role, Action: e.Action, RequestId: e.RequestID,
			SubjectRef: e.SubjectRef, Reason: e.Reason, CallRequestId: e.CallRequestID,
		})
	}
	return out, nil
}
