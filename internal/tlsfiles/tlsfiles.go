// Package tlsfiles serves TLS from a certificate, a key and an optional
// client CA bundle kept in files, re-reading them when they change: a
// certificate rotated on disk (by cert-manager, certbot, an operator) is
// picked up at the next handshake without a restart, and a rotation caught
// half-written keeps the last good pair until the files are whole again.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/titular/titular/internal/filereload"
	"github.com/titular/titular/internal/logsafe"
)

// Options says where the files are and how clients are asked for
// certificates.
type Options struct {
	CertFile, KeyFile string
	// ClientCAFile, when set, is a PEM bundle of the CAs whose client
	// certificates are verified (mutual TLS).
	ClientCAFile string
	// ClientAuth is what is asked of clients when ClientCAFile is set:
	// tls.VerifyClientCertIfGiven or tls.RequireAndVerifyClientCert.
	ClientAuth tls.ClientAuthType
}

// Source holds the current certificate and client CAs.
type Source struct {
	opts  Options
	files *filereload.Value[loaded]
}

// loaded is one parse of the files.
type loaded struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

// New loads the files once; an error here is a configuration error, so it
// says which file and why.
func New(opts Options, log *slog.Logger) (*Source, error) {
	if opts.CertFile == "" || opts.KeyFile == "" {
		return nil, errors.New("tls: both cert_file and key_file are needed")
	}
	s := &Source{opts: opts}
	files, err := filereload.New([]string{opts.CertFile, opts.KeyFile, opts.ClientCAFile}, func() (loaded, error) { return s.load(log) },
		filereload.Options{
			OnError: func(err error) {
				log.Warn("tls: the changed certificate files could not be used; still serving the previous certificate", "error", logsafe.Error(err))
			},
			OnReload: func() { log.Info("tls: certificate reloaded", "file", opts.CertFile) },
		})
	if err != nil {
		return nil, err
	}
	s.files = files
	return s, nil
}

func (s *Source) load(log *slog.Logger) (loaded, error) {
	cert, err := tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		return loaded{}, fmt.Errorf("tls: loading cert_file %s and key_file %s: %w", s.opts.CertFile, s.opts.KeyFile, err)
	}
	if cert.Leaf != nil && time.Now().After(cert.Leaf.NotAfter) {
		log.Warn("tls: the certificate has expired; clients will refuse it", "file", s.opts.CertFile, "not_after", cert.Leaf.NotAfter)
	}
	if s.opts.ClientCAFile == "" {
		return loaded{cert: &cert}, nil
	}
	pem, err := os.ReadFile(s.opts.ClientCAFile)
	if err != nil {
		return loaded{}, fmt.Errorf("tls: reading client_ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return loaded{}, fmt.Errorf("tls: client_ca_file %s holds no PEM certificate", s.opts.ClientCAFile)
	}
	return loaded{cert: &cert, pool: pool}, nil
}

// Config is a server configuration for a listener speaking the given
// application protocols (ALPN: "h2" for gRPC, "h2" and "http/1.1" for
// REST). TLS 1.2 is the minimum; Go prefers 1.3 whenever the client speaks
// it. clientCerts says whether this listener asks for client certificates.
func (s *Source) Config(clientCerts bool, nextProtos ...string) *tls.Config {
	build := func() *tls.Config {
		cur := s.files.Get()
		c := &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*cur.cert},
			NextProtos:   nextProtos,
		}
		if clientCerts && cur.pool != nil {
			c.ClientCAs, c.ClientAuth = cur.pool, s.opts.ClientAuth
		}
		return c
	}
	base := build()
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return build(), nil }
	return base
}
