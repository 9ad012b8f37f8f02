package server

import (
	"context"
	"crypto/tls"
	stdlog "log"
	"log/slog"
	"net"
	"regexp"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/titular/titular/config"
	"github.com/titular/titular/internal/tlsfiles"
)

// listenerTLS builds the gRPC server's transport credentials and the REST
// listener's TLS configuration from cfg. Without TLS configured both are
// plaintext (config validation has already refused that off loopback
// unless allow_plaintext says a proxy in front terminates TLS). Client
// certificates are asked for on gRPC only: the CRM backend calls over
// gRPC, browsers and the portal over REST.
func listenerTLS(cfg config.TLS, log *slog.Logger) (credentials.TransportCredentials, *tls.Config, error) {
	if !cfg.Enabled() {
		return insecure.NewCredentials(), nil, nil
	}
	auth := tls.VerifyClientCertIfGiven
	if cfg.ClientAuth == config.ClientAuthRequire {
		auth = tls.RequireAndVerifyClientCert
	}
	src, err := tlsfiles.New(tlsfiles.Options{CertFile: cfg.CertFile, KeyFile: cfg.KeyFile,
		ClientCAFile: cfg.ClientCAFile, ClientAuth: auth}, log)
	if err != nil {
		return nil, nil, err
	}
	grpcTLS := credentials.NewTLS(src.Config(true, "h2"))
	return exceptInMemory{grpcTLS}, src.Config(false, "h2", "http/1.1"), nil
}

// inmemListener marks the connections of the gateway's in-process pipe, so
// the transport credentials can tell them from network connections by
// type, which no connection from outside can have.
type inmemListener struct{ net.Listener }

type inmemConn struct{ net.Conn }

func (l inmemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return inmemConn{c}, nil
}

// exceptInMemory secures every network connection with TLS and takes the
// gateway's in-process pipe as it is: that pipe never leaves the process.
type exceptInMemory struct {
	credentials.TransportCredentials
}

func (c exceptInMemory) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, ok := conn.(inmemConn); ok {
		return insecure.NewCredentials().ServerHandshake(conn)
	}
	return c.TransportCredentials.ServerHandshake(conn)
}

func (c exceptInMemory) Clone() credentials.TransportCredentials {
	return exceptInMemory{c.TransportCredentials.Clone()}
}

// clientAddr matches an IPv4 or bracketed IPv6 address with its port.
var clientAddr = regexp.MustCompile(`(\[[0-9A-Fa-f:.%]+\]|\b\d{1,3}(\.\d{1,3}){3})(:\d+)?`)

// httpErrorLog carries net/http's own messages (failed TLS handshakes,
// accept errors, panics) into the structured log without the client's
// address, which is personal data. Failed handshakes are what scanners and
// misconfigured clients cause all day: logged at info.
func httpErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(httpLogWriter{log}, "", 0)
}

type httpLogWriter struct{ log *slog.Logger }

func (w httpLogWriter) Write(p []byte) (int, error) {
	msg := clientAddr.ReplaceAllString(strings.TrimSpace(string(p)), "<client>")
	lvl := slog.LevelWarn
	if strings.Contains(msg, "TLS handshake error") {
		lvl = slog.LevelInfo
	}
	w.log.Log(context.Background(), lvl, "http server", "message", msg)
	return len(p), nil
}
