package tlsfiles

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/titular/titular/internal/filereload"
	"github.com/titular/titular/internal/tlstest"
)

// serve accepts TLS connections on loopback with cfg, completing each
// handshake, until the test ends.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return l.Addr().String()
}

func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	// A client certificate refused by the server under TLS 1.3 surfaces
	// at the first read, after the handshake returned.
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return tls.ConnectionState{}, err
		}
	}
	return c.ConnectionState(), nil
}

func TestVersionsAndRotation(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	dir := t.TempDir()
	first := ca.Server(t)
	certFile, keyFile := first.Write(t, dir)
	src, err := New(Options{CertFile: certFile, KeyFile: keyFile}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, src.Config(false, "http/1.1"))
	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}

	st, err := dial(addr, client)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != tls.VersionTLS13 {
		t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(st.Version))
	}
	if got := st.PeerCertificates[0].SerialNumber; got.Cmp(first.Serial) != 0 {
		t.Fatalf("served serial %v, want %v", got, first.Serial)
	}
	if _, err := dial(addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("a TLS 1.1 client was accepted")
	}
	st, err = dial(addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
	if err != nil || st.Version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 client: version %x, err %v", st.Version, err)
	}

	// A rotation caught half-written keeps the previous certificate.
	time.Sleep(filereload.CheckEvery + 100*time.Millisecond)
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = dial(addr, client); err != nil || st.PeerCertificates[0].SerialNumber.Cmp(first.Serial) != 0 {
		t.Fatalf("during a broken rotation: err %v; want the previous certificate still served", err)
	}

	// The finished rotation is picked up without a restart.
	second := ca.Server(t)
	time.Sleep(filereload.CheckEvery + 100*time.Millisecond)
	second.Write(t, dir)
	if st, err = dial(addr, client); err != nil {
		t.Fatal(err)
	}
	if got := st.PeerCertificates[0].SerialNumber; got.Cmp(second.Serial) != 0 {
		t.Errorf("after rotation served serial %v, want the new %v", got, second.Serial)
	}
}

func TestClientCertificates(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	other := tlstest.NewCA(t, "someone else's CA")
	dir := t.TempDir()
	certFile, keyFile := ca.Server(t).Write(t, dir)
	caFile := filepath.Join(dir, "clients.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := New(Options{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile, ClientAuth: tls.RequireAndVerifyClientCert},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, src.Config(true, "h2"))
	with := func(c ...tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: c, NextProtos: []string{"h2"}}
	}
	if _, err := dial(addr, with()); err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if _, err := dial(addr, with(other.Client(t, "crm-backend").TLS)); err == nil {
		t.Error("a client certificate from an unknown CA was accepted")
	}
	st, err := dial(addr, with(ca.Client(t, "crm-backend").TLS))
	if err != nil {
		t.Fatalf("a known client was refused: %v", err)
	}
	if st.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN %q, want h2", st.NegotiatedProtocol)
	}

	// The same source without client certificates (the REST listener) asks
	// for none.
	plain := serve(t, src.Config(false, "h2", "http/1.1"))
	if _, err := dial(plain, with()); err != nil {
		t.Errorf("REST-style listener asked for a client certificate: %v", err)
	}
}

func TestNewSaysWhichFile(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: filepath.Join(dir, "missing.key")}, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("missing files accepted")
	}
	if _, err := New(Options{CertFile: "x"}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a certificate without a key accepted")
	}
}
