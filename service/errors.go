package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// errorDomain is the ErrorInfo domain of every titular error.
const errorDomain = "titular.lgpd.v1"

// Error is a domain error with its canonical gRPC code and a stable reason.
// Messages say what was wrong and how to fix it, and never echo personal data.
type Error struct {
	Code   codes.Code
	Reason string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// GRPCStatus renders the error with an ErrorInfo detail.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(e.Code, e.Msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: e.Reason, Domain: errorDomain}); err == nil {
		return d
	}
	return st
}

func errorf(code codes.Code, reason, format string, args ...any) error {
	return &Error{Code: code, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

func invalid(reason, format string, args ...any) error {
	return errorf(codes.InvalidArgument, reason, format, args...)
}

// toStatus translates any error a handler returns into a gRPC status, once,
// at the edge. Unknown errors become INTERNAL without their text, which may
// carry SQL or data; the full error goes to the log.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	kind, st := statusOf(err)
	switch kind {
	case tenantDown:
		// The reason is logged and shown on /readyz; it is the operator's.
		log.WarnContext(ctx, "tenant unavailable", "method", method, "error", logsafe.Error(err))
	case databaseDown:
		log.WarnContext(ctx, "database unavailable", "method", method, "error", logsafe.Error(err))
	case internal:
		log.ErrorContext(ctx, "internal error", "method", method, "error", logsafe.Error(err))
	}
	return st
}

// What the log is told about an error statusOf maps.
const (
	mapped = iota
	tenantDown
	databaseDown
	internal
)

// statusOf maps an error to the status the API answers, and says what
// the operator's log should hear of it.
func statusOf(err error) (logAs int, st error) {
	if err == nil {
		return mapped, nil
	}
	var de *Error
	switch {
	case errors.As(err, &de):
		return mapped, de.GRPCStatus().Err()
	case errors.Is(err, context.Canceled):
		return mapped, status.Error(codes.Canceled, "the call was canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return mapped, status.Error(codes.DeadlineExceeded, "the call ran out of time; retry with a longer deadline")
	case errors.Is(err, tenant.ErrUnknown):
		return mapped, (&Error{codes.NotFound, "TENANT_NOT_FOUND", "tenant is not configured; check the tenant id"}).GRPCStatus().Err()
	case errors.Is(err, tenant.ErrUnavailable):
		return tenantDown, (&Error{codes.Unavailable, "TENANT_UNAVAILABLE", "the tenant's database is not available now; retry later"}).GRPCStatus().Err()
	case errors.Is(err, store.ErrNotFound):
		return mapped, (&Error{codes.NotFound, "NOT_FOUND", "not found in this tenant; check the id"}).GRPCStatus().Err()
	case errors.Is(err, store.ErrBadPageToken):
		return mapped, (&Error{codes.InvalidArgument, "BAD_PAGE_TOKEN", store.ErrBadPageToken.Error()}).GRPCStatus().Err()
	case errors.Is(err, store.ErrExpired):
		return mapped, (&Error{codes.FailedPrecondition, "EXPORT_EXPIRED", "the export has expired; create a new EXTRACT request"}).GRPCStatus().Err()
	case errors.Is(err, store.ErrIdempotencyKeyReused):
		return mapped, (&Error{codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED", err.Error()}).GRPCStatus().Err()
	case errors.Is(err, store.ErrSubjectBusy):
		return mapped, (&Error{codes.Aborted, "SUBJECT_BUSY", err.Error()}).GRPCStatus().Err()
	case errors.Is(err, store.ErrConflict):
		return mapped, (&Error{codes.FailedPrecondition, "CONFLICT", err.Error()}).GRPCStatus().Err()
	case errors.Is(err, brdoc.ErrInvalid):
		return mapped, (&Error{codes.InvalidArgument, "INVALID_IDENTIFIER", err.Error()}).GRPCStatus().Err()
	}
	if _, ok := status.FromError(err); ok {
		return mapped, err
	}
	if store.IsTransient(err) {
		return databaseDown, (&Error{codes.Unavailable, "DATABASE_UNAVAILABLE", "the tenant's database did not answer or was busy; retry in a few seconds"}).GRPCStatus().Err()
	}
	return internal, status.Error(codes.Internal, "internal error; the operator has the details in the log under this call's request id")
}

// ErrorUnary maps handler errors to statuses.
func ErrorUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		return resp, toStatus(ctx, log, info.FullMethod, err)
	}
}

// ErrorStream maps streaming handler errors to statuses.
func ErrorStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return toStatus(ss.Context(), log, info.FullMethod, h(srv, ss))
	}
}

// Code is the gRPC code the API answers for err, mapped as at the edge
// (toStatus): callers in process, such as the console, get the service's
// sentinel errors untranslated and read them through it. It logs nothing.
func Code(err error) codes.Code {
	_, st := statusOf(err)
	return status.Code(st)
}
