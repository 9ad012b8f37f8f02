package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/titular/titular/service"
)

// Interceptor order, outermost first: recovery, request id + logging, metrics, auth,
// error mapping (innermost, so logging sees the final status).

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return h(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return h(srv, ss)
	}
}

// requestID takes the caller's x-request-id when sane, else makes one, and
// returns it in the response headers.
func requestID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if id := service.CallerRequestID(md); id != "" {
		return id
	}
	return uuid.NewString()
}

// loggedTenant is the tenant a call names as it may be logged: a
// configured tenant's id, else a placeholder (an unknown name is input,
// and could be anything).
func loggedTenant(known func(string) bool, id string) string {
	if known(id) {
		return id
	}
	return "(unknown)"
}

// logUnary logs one line per call: method, code, duration, tenant and
// request id. Never the request body: it holds personal data.
func logUnary(log *slog.Logger, known func(string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		id := requestID(ctx)
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", id))
		start := time.Now()
		resp, err := h(ctx, req)
		logCall(ctx, log, known, info.FullMethod, id, req, start, err)
		return resp, err
	}
}

func logStream(log *slog.Logger, known func(string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		id := requestID(ss.Context())
		_ = ss.SetHeader(metadata.Pairs("x-request-id", id))
		start := time.Now()
		err := h(srv, ss)
		logCall(ss.Context(), log, known, info.FullMethod, id, nil, start, err)
		return err
	}
}

func logCall(ctx context.Context, log *slog.Logger, known func(string) bool, method, id string, req any, start time.Time, err error) {
	code := status.Code(err)
	attrs := []any{"method", method, "code", code.String(), "request_id", id, "duration_ms", time.Since(start).Milliseconds()}
	if t, ok := req.(interface{ GetTenant() string }); ok {
		attrs = append(attrs, "tenant", loggedTenant(known, t.GetTenant()))
	}
	lvl := slog.LevelInfo
	if code == codes.Internal || code == codes.Unknown || code == codes.DataLoss {
		lvl = slog.LevelError
	}
	if err != nil && lvl == slog.LevelInfo {
		// The status message is ours and holds no personal data.
		attrs = append(attrs, "error", status.Convert(err).Message())
	}
	log.Log(ctx, lvl, "rpc", attrs...)
}
