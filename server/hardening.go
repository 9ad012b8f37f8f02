package server

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// retryAfterSeconds is what a 503 tells the client to wait.
const retryAfterSeconds = "5"

// httpReadHeaderTimeout bounds reading a request's headers; config's
// http.read_timeout bounds the whole request. Downloads stream for as long
// as they need: there is no write timeout.
const httpReadHeaderTimeout = 10 * time.Second

// limitConns caps the REST listener's open connections.
var limitConns = netutil.LimitListener

// apiHeaders marks every API response and download as not to be sniffed
// or cached: they carry personal data.
func apiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// fieldName finds the field or parameter a decoding error is about.
var fieldName = regexp.MustCompile(`(?:field|parameter:?) "?([A-Za-z_][A-Za-z0-9_.]*)`)

// apiFields are the field names (proto and JSON) of the API's messages.
var apiFields = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	var walk func(protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			for j := range m.Fields().Len() {
				f := m.Fields().Get(j)
				names[string(f.Name())], names[f.JSONName()] = true, true
			}
			walk(m.Messages())
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		walk(fd.Messages())
		return true
	})
	return names
})

// gatewayErrors is the REST error handler. Errors the gateway makes itself
// (a body that is not valid JSON, a wrong type, a bad path or query
// parameter) quote the offending input, which may be a CPF: they are
// rewritten to name only the field, if any. A 503 carries Retry-After.
func gatewayErrors(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		st := status.Convert(err)
		if st.Code() == codes.Internal && strings.Contains(st.Message(), "invalid UTF-8") {
			// A path or query parameter that is not UTF-8 fails when the
			// gateway encodes it for gRPC.
			st = status.New(codes.InvalidArgument, "")
		}
		if st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
			msg := "the request could not be read: send UTF-8 JSON and parameters with the documented names and types"
			// Only a name the API defines is repeated: an unknown one is
			// input, and may be personal data.
			if f := fieldName.FindStringSubmatch(st.Message()); f != nil && apiFields()[f[1]] {
				msg = "the request could not be read: field " + f[1] + " is malformed or of the wrong type; see the API documentation"
			}
			log.InfoContext(ctx, "rest: unreadable request", "path_pattern", r.Pattern, "code", "InvalidArgument")
			err = status.Error(codes.InvalidArgument, msg)
		}
		if st.Code() == codes.Unavailable {
			w.Header().Set("Retry-After", retryAfterSeconds)
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
}

// undecodable holds the lgpd.v1 request messages that did not decode,
// between the codec (which reports them here instead of failing: grpc-go
// answers a codec failure with INTERNAL before any code of ours runs) and
// the handler wrappers below, which answer INVALID_ARGUMENT. Entries live
// for one receive.
var undecodable sync.Map

// apiPackage is the protobuf package whose messages the wrappers check.
const apiPackage = "lgpd.v1"

// routingErrors answers a known path with a method it does not take with
// 405, not the gateway's 501 (Unimplemented), which says the server
// lacks a feature. The method is not repeated: it is input.
func routingErrors(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	if code == http.StatusMethodNotAllowed {
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: code,
			Err: status.Error(codes.Unimplemented, "this path does not take that method; see the API documentation")})
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, code)
}

// decodeCheckCodec is the proto codec with that one change.
type decodeCheckCodec struct{ encoding.CodecV2 }

func newDecodeCheckCodec() decodeCheckCodec {
	return decodeCheckCodec{encoding.GetCodecV2(grpcproto.Name)}
}

func (c decodeCheckCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok || m.ProtoReflect().Descriptor().ParentFile().Package() != apiPackage {
		return err
	}
	proto.Reset(m)
	undecodable.Store(m, struct{}{})
	return nil
}

// decodeErrors wraps every method of desc so a request message that does
// not decode answers INVALID_ARGUMENT, logged and counted, instead of
// INTERNAL. The decoder's error is not returned: it may quote the input.
func decodeErrors(desc *grpc.ServiceDesc, log *slog.Logger, count func(method string)) *grpc.ServiceDesc {
	d := *desc
	refuse := func(ctx context.Context, method string) error {
		log.InfoContext(ctx, "rpc", "method", method, "code", codes.InvalidArgument.String(), "error", "the request message does not decode")
		count(method)
		return status.Error(codes.InvalidArgument, "the request message could not be decoded; check that the client uses this API's .proto")
	}
	d.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		h, method := m.Handler, "/"+desc.ServiceName+"/"+m.MethodName
		m.Handler = func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, func(v any) error {
				err := dec(v)
				if _, bad := undecodable.LoadAndDelete(v); bad {
					return refuse(ctx, method)
				}
				return err
			}, icpt)
		}
		d.Methods[i] = m
	}
	d.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, sd := range desc.Streams {
		h, method := sd.Handler, "/"+desc.ServiceName+"/"+sd.StreamName
		sd.Handler = func(srv any, ss grpc.ServerStream) error {
			return h(srv, checkedStream{ss, func() error { return refuse(ss.Context(), method) }})
		}
		d.Streams[i] = sd
	}
	return &d
}

type checkedStream struct {
	grpc.ServerStream
	refuse func() error
}

func (s checkedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if _, bad := undecodable.LoadAndDelete(m); bad {
		return s.refuse()
	}
	return err
}
