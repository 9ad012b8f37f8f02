package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/internal/tlstest"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// tlsEnv is titular serving one seeded tenant over TLS, with client
// certificates of ca mapped to roles.
type tlsEnv struct {
	app      *App
	ca       *tlstest.CA
	certDir  string
	https    *http.Client
	logs     *lockedBuffer
	scenario seed.Scenario
}

func newTLSEnv(t *testing.T) *tlsEnv {
	t.Helper()
	ctx := context.Background()
	db, dsn := storetest.NewDatabase(t)
	sum, err := seed.Seed(ctx, db, seed.Options{Subjects: 20, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	mapPath, err := filepath.Abs("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "titular test CA")
	certDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca.Server(t).Write(t, certDir)
	if err := os.WriteFile(filepath.Join(dir, "clients.pem"), ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
grpc_addr: 127.0.0.1:0
http_addr: 127.0.0.1:0
state_dir: state
tls:
  cert_file: tls/cert.pem
  key_file: tls/key.pem
  client_ca_file: clients.pem
  clients:
    - {name: crm-backend, subject: crm-backend.example, role: backend, tenants: [demo]}
tenants:
  - {id: demo, dsn: %q, datamap: %q}
auth:
  api_keys:
    - {name: dpo, role: dpo, tenants: [demo], key_sha256: %s}
`, dsn, mapPath, sha(keyDPO))
	cfgPath := filepath.Join(dir, "titular.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := Start(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Stop()
		assertNoPersonalData(t, logs.String(), sum.Scenarios)
	})
	e := &tlsEnv{app: a, ca: ca, certDir: certDir, logs: logs, scenario: sum.Scenarios[0],
		https: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}}}
	until := time.Now().Add(deadline)
	for {
		resp, err := e.https.Get("https://" + a.HTTPAddr() + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.HasPrefix(string(b), "ready: 1 of 1") {
				break
			}
		}
		if time.Now().After(until) {
			t.Fatalf("not ready over TLS: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

// grpcClient dials the gRPC listener over TLS presenting certs.
func (e *tlsEnv) grpcClient(t *testing.T, certs ...tls.Certificate) lgpdv1.RequestServiceClient {
	t.Helper()
	creds := credentials.NewTLS(&tls.Config{RootCAs: e.ca.Pool(), Certificates: certs, MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(e.app.GRPCAddr(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return lgpdv1.NewRequestServiceClient(conn)
}

func TestTLSListeners(t *testing.T) {
	e := newTLSEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list := &lgpdv1.ListRequestsRequest{Tenant: "demo"}

	t.Run("REST over TLS 1.3 and HTTP/2", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+e.app.HTTPAddr()+"/v1/tenants/demo/requests", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+keyDPO)
		resp, err := e.https.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 || resp.ProtoMajor != 2 {
			t.Errorf("served over %s %s, want TLS 1.3 and HTTP/2", tls.VersionName(resp.TLS.Version), resp.Proto)
		}
	})

	t.Run("plaintext refused on both listeners", func(t *testing.T) {
		resp, err := http.Get("http://" + e.app.HTTPAddr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Error("the REST listener answered plaintext HTTP")
			}
		}
		// The failed handshake is logged without the client's address
		// (by the server's connection goroutine, after the client gave up).
		logs := e.logs.String()
		for until := time.Now().Add(5 * time.Second); !strings.Contains(logs, "TLS handshake error") && time.Now().Before(until); {
			time.Sleep(10 * time.Millisecond)
			logs = e.logs.String()
		}
		if !strings.Contains(logs, "TLS handshake error from <client>") || strings.Contains(logs, "127.0.0.1:") {
			t.Errorf("the HTTP server's handshake error is not logged, or logged with the client's address:\n%s", logs)
		}
		conn, err := grpc.NewClient(e.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = lgpdv1.NewRequestServiceClient(conn).ListRequests(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+keyDPO), list)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("plaintext gRPC: %v, want the connection refused (Unavailable)", err)
		}
	})

	t.Run("TLS 1.1 refused", func(t *testing.T) {
		for _, addr := range []string{e.app.GRPCAddr(), e.app.HTTPAddr()} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
				&tls.Config{RootCAs: e.ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, NextProtos: []string{"h2"}}) //nolint:gosec // G402: TLS 1.1 on purpose, to see it refused
			if err == nil {
				c.Close()
				t.Errorf("%s accepted TLS 1.1", addr)
			}
		}
	})

	t.Run("client certificate is a credential", func(t *testing.T) {
		client := e.grpcClient(t, e.ca.Client(t, "crm-backend.example").TLS)
		if _, err := client.ListRequests(ctx, list); err != nil {
			t.Fatalf("mapped client certificate refused: %v", err)
		}
		// The request records the certificate's client as its author.
		r, err := client.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
			Subject: &lgpdv1.Subject{Cpf: e.scenario.CPF}})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetCreatedBy() != "crm-backend" {
			t.Errorf("created_by %q, want the client's configured name crm-backend", r.GetCreatedBy())
		}
		// The backend role still may not approve.
		_, err = e.grpcClient(t, e.ca.Client(t, "crm-backend.example").TLS).ApproveRequest(ctx, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000"})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("backend certificate approving: %v, want PermissionDenied", err)
		}
	})

	t.Run("unknown client refused", func(t *testing.T) {
		// Signed by the trusted CA but mapped to no client: no rights.
		_, err := e.grpcClient(t, e.ca.Client(t, "stranger.example").TLS).ListRequests(ctx, list)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "client certificate") {
			t.Errorf("unmapped certificate: %v, want Unauthenticated naming client certificates", err)
		}
		// Signed by a CA titular does not trust: the handshake fails.
		// The client is made to send it even though the server's list of
		// acceptable CAs does not name its issuer.
		other := tlstest.NewCA(t, "someone else's CA").Client(t, "crm-backend.example").TLS
		creds := credentials.NewTLS(&tls.Config{RootCAs: e.ca.Pool(), MinVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &other, nil }})
		conn, err := grpc.NewClient(e.app.GRPCAddr(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = lgpdv1.NewRequestServiceClient(conn).ListRequests(ctx, list)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("certificate from an unknown CA: %v, want the connection refused (Unavailable)", err)
		}
		// No certificate and no key: told how to authenticate.
		_, err = e.grpcClient(t).ListRequests(ctx, list)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("no credential: %v, want Unauthenticated", err)
		}
		// A key over TLS without a certificate still works (client_auth: optional).
		if _, err := e.grpcClient(t).ListRequests(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+keyDPO), list); err != nil {
			t.Errorf("API key over TLS: %v", err)
		}
	})

	t.Run("rotated certificate picked up", func(t *testing.T) {
		next := e.ca.Server(t)
		time.Sleep(1100 * time.Millisecond) // the files are looked at once a second
		next.Write(t, e.certDir)
		for _, addr := range []string{e.app.GRPCAddr(), e.app.HTTPAddr()} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
				&tls.Config{RootCAs: e.ca.Pool(), MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}})
			if err != nil {
				t.Fatal(err)
			}
			got := c.ConnectionState().PeerCertificates[0].SerialNumber
			c.Close()
			if got.Cmp(next.Serial) != 0 {
				t.Errorf("%s serves serial %v after rotation, want %v", addr, got, next.Serial)
			}
		}
	})
}
