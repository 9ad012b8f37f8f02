package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/titular/titular/api"
	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/authn"
	"github.com/titular/titular/config"
	"github.com/titular/titular/console"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/metrics"
	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// maxRequestBytes bounds a request body, over gRPC and REST alike.
const maxRequestBytes = 1 << 20

// server is titular's two listeners: gRPC, and REST through the gateway,
// which dials the gRPC server over an in-memory connection so every
// interceptor runs for REST calls too.
type server struct {
	log     *slog.Logger
	grpc    *grpc.Server
	http    *http.Server
	health  *health.Server
	inmem   *bufconn.Listener
	gateway *grpc.ClientConn
	tenants *tenant.Registry
	ledger  *service.Ledger
	metrics *metrics.Metrics
	// console is the DPO's web console at /console/.
	console http.Handler
	// maxConns caps the REST listener's open connections.
	maxConns int
}

func newServer(ctx context.Context, cfg *config.Config, tenants *tenant.Registry, counts *requestCounts,
	fleetState func() metrics.Fleet, wake func(string), log *slog.Logger) (*server, error) {
	tokens, err := authn.New(authn.Options{Issuers: cfg.Auth.OIDC, Tenant: tenants.TenantConfig, Log: log})
	if err != nil {
		return nil, err
	}
	auth := service.NewAuthenticator(cfg.Auth.APIKeys, tenants.Known).WithClientCerts(cfg.TLS.Clients).WithTokens(tokens)
	met, err := newMetrics(counts, fleetState)
	if err != nil {
		return nil, err
	}
	grpcCreds, httpTLS, err := listenerTLS(cfg.TLS, log)
	if err != nil {
		return nil, err
	}
	gs := grpc.NewServer(
		grpc.Creds(grpcCreds),
		grpc.ForceServerCodecV2(newDecodeCheckCodec()),
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.ChainUnaryInterceptor(recoverUnary(log), logUnary(log, tenants.Known), metricsUnary(met), auth.Unary(), service.ErrorUnary(log)),
		grpc.ChainStreamInterceptor(recoverStream(log), logStream(log, tenants.Known), metricsStream(met), auth.Stream(), service.ErrorStream(log)), //nolint:contextcheck // a stream interceptor has no ctx parameter: each uses its call's context, ss.Context(), not newServer's
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
	)
	led, err := newLedgerService(cfg, tenants, log)
	if err != nil {
		return nil, err
	}
	undecodable := func(method string) { met.ObserveRPC(method, codes.InvalidArgument.String(), 0) }
	requests := service.NewRequests(tenants, log, wake).WithLedger(led)
	consents := service.NewConsent(tenants)
	for _, svc := range []struct {
		desc *grpc.ServiceDesc
		impl any
	}{
		{&lgpdv1.RequestService_ServiceDesc, requests},
		{&lgpdv1.ConsentService_ServiceDesc, consents},
		{&lgpdv1.LedgerService_ServiceDesc, led},
		{&lgpdv1.IncidentService_ServiceDesc, service.NewIncidents(tenants)},
	} {
		gs.RegisterService(decodeErrors(svc.desc, log, undecodable), svc.impl) //nolint:contextcheck // a stream handler has no ctx parameter: it uses its call's, ss.Context(), not newServer's
	}
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	s := &server{log: log, grpc: gs, health: hs, inmem: bufconn.Listen(1 << 20), tenants: tenants, ledger: led, metrics: met}
	// The gateway's connection is a pipe inside this process: it never
	// reaches a network, so it carries no TLS, whatever the listeners do.
	conn, err := grpc.NewClient("passthrough:///titular-inmem",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.inmem.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	)
	if err != nil {
		return nil, fmt.Errorf("gateway connection: %w", err)
	}
	s.gateway = conn
	mux, err := newGateway(ctx, conn, log)
	if err != nil {
		return nil, err
	}
	con, err := console.New(console.Options{Auth: auth, Tokens: tokens, Issuers: cfg.Auth.OIDC, Requests: requests, Consents: consents, Ledger: led,
		Tenants: tenants.Configs, StateDir: cfg.StateDir, SessionKeyFile: cfg.Console.SessionKeyFile, Secure: httpTLS != nil || !loopbackAddr(cfg.HTTPAddr), Log: log,
		Record: consoleRecord(tenants), Cosigned: consoleCosigned(cfg, tenants), VerifyLedger: consoleVerifyLedger(cfg, tenants, led)})
	if err != nil {
		return nil, err
	}
	s.console = con
	s.http = &http.Server{Handler: s.routes(mux), TLSConfig: httpTLS, ErrorLog: httpErrorLog(log),
		ReadHeaderTimeout: min(httpReadHeaderTimeout, cfg.HTTP.ReadTimeout), ReadTimeout: cfg.HTTP.ReadTimeout, IdleTimeout: cfg.HTTP.IdleTimeout}
	s.maxConns = cfg.HTTP.MaxConnections
	return s, nil
}

// downloadMarshaler writes HttpBody chunks as they are: grpc-gateway appends
// the marshaler's delimiter after every streamed message, which would
// corrupt a file, so this one has none. Only downloads stream.
type downloadMarshaler struct {
	runtime.HTTPBodyMarshaler
}

// Delimiter is empty: chunks are concatenated byte for byte.
func (downloadMarshaler) Delimiter() []byte { return nil }

func newGateway(ctx context.Context, conn *grpc.ClientConn, log *slog.Logger) (*runtime.ServeMux, error) {
	jsonPB := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
	mux := runtime.NewServeMux(
		runtime.WithErrorHandler(gatewayErrors(log)),
		runtime.WithRoutingErrorHandler(routingErrors),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &downloadMarshaler{runtime.HTTPBodyMarshaler{Marshaler: jsonPB}}),
		runtime.WithOutgoingHeaderMatcher(func(k string) (string, bool) {
			switch strings.ToLower(k) {
			case "content-disposition":
				return "Content-Disposition", true
			case "x-content-sha256":
				return "X-Content-Sha256", true
			case "x-request-id":
				return "X-Request-Id", true
			}
			return "", false
		}),
		runtime.WithIncomingHeaderMatcher(func(k string) (string, bool) {
			switch strings.ToLower(k) {
			case "authorization", "x-request-id", "x-access-reason":
				return strings.ToLower(k), true
			}
			return "", false
		}),
	)
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		lgpdv1.RegisterRequestServiceHandler,
		lgpdv1.RegisterConsentServiceHandler,
		lgpdv1.RegisterLedgerServiceHandler,
		lgpdv1.RegisterIncidentServiceHandler,
	} {
		if err := reg(ctx, mux, conn); err != nil {
			return nil, fmt.Errorf("register gateway: %w", err)
		}
	}
	return mux, nil
}

// routes adds the operational endpoints beside the API.
func (s *server) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.Handle("/console/", traceHTTP(observeConsole(s.console, s.log, s.tenants.Known, s.metrics)))
	// A person who opens the service's address lands on the console.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.Handle("/v1/", apiHeaders(traceHTTP(http.MaxBytesHandler(api, maxRequestBytes))))
	return mux
}

// loopbackAddr reports whether a listen address is on loopback, where a
// plaintext cookie never leaves the machine.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(api.OpenAPI)
}

// readyz reports whether this replica is serving: not while it opens the
// tenants it started with, then ready as long as one tenant is up (a fleet
// with a few tenants down must keep serving the rest). The text lists
// every tenant that is not up with the reason, and tenant files that could
// not be used; it never holds a DSN or password. It reads memory only: no
// database is asked per call.
func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	started, attempted, total := s.tenants.Started()
	health := s.tenants.Health()
	if !started {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "starting: %d of %d tenants opened\n", attempted, total)
		return
	}
	up := 0
	var lines []string
	for _, h := range health {
		if h.State == tenant.StateUp {
			up++
			continue
		}
		line := fmt.Sprintf("%s: %s", h.ID, h.State)
		if h.Reason != "" {
			line += ": " + h.Reason
		}
		if !h.RetryAt.IsZero() {
			line += fmt.Sprintf(" (retrying in %s)", time.Until(h.RetryAt).Round(time.Second))
		}
		lines = append(lines, line)
	}
	for _, p := range s.tenants.Problems() {
		lines = append(lines, "tenant file skipped: "+p)
	}
	if up == 0 && len(health) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, "ready: %d of %d tenants up\n", up, len(health))
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// serve runs both listeners until one fails or shutdown is called.
func (s *server) serve(grpcLis, httpLis net.Listener) error {
	errc := make(chan error, 3)
	go func() { errc <- s.grpc.Serve(grpcLis) }()
	go func() { errc <- s.grpc.Serve(inmemListener{s.inmem}) }()
	go func() {
		serve := s.http.Serve
		if s.http.TLSConfig != nil {
			serve = func(l net.Listener) error { return s.http.ServeTLS(l, "", "") }
		}
		if err := serve(limitConns(httpLis, s.maxConns)); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	return <-errc
}

// shutdown stops HTTP first (it rides on gRPC), then gRPC gracefully,
// falling back to a hard stop at ctx's deadline: calls still running then
// are cancelled.
func (s *server) shutdown(ctx context.Context) {
	s.health.Shutdown()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("http shutdown: closing the connections still active", "error", logsafe.Error(err))
		_ = s.http.Close()
	}
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
	_ = s.gateway.Close()
}
