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
	"sync"
	"time"
)

// checkEvery bounds how often the files are looked at (one stat each), so
// a burst of handshakes does not become a burst of system calls.
const checkEvery = time.Second

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
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	pool    *x509.CertPool
	stamps  [3]stamp
	checked time.Time
}

// stamp identifies a version of a file without reading it.
type stamp struct {
	mod  time.Time
	size int64
}

// New loads the files once; an error here is a configuration error, so it
// says which file and why.
func New(opts Options, log *slog.Logger) (*Source, error) {
	if opts.CertFile == "" || opts.KeyFile == "" {
		return nil, errors.New("tls: both cert_file and key_file are needed")
	}
	s := &Source{opts: opts, log: log}
	stamps := s.stat()
	cert, pool, err := s.load()
	if err != nil {
		return nil, err
	}
	s.cert, s.pool, s.stamps, s.checked = cert, pool, stamps, time.Now()
	return s, nil
}

func (s *Source) files() [3]string {
	return [3]string{s.opts.CertFile, s.opts.KeyFile, s.opts.ClientCAFile}
}

func (s *Source) stat() [3]stamp {
	var out [3]stamp
	for i, f := range s.files() {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			out[i] = stamp{fi.ModTime(), fi.Size()}
		}
	}
	return out
}

func (s *Source) load() (*tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: loading cert_file %s and key_file %s: %w", s.opts.CertFile, s.opts.KeyFile, err)
	}
	if cert.Leaf != nil && time.Now().After(cert.Leaf.NotAfter) {
		s.log.Warn("tls: the certificate has expired; clients will refuse it", "file", s.opts.CertFile, "not_after", cert.Leaf.NotAfter)
	}
	if s.opts.ClientCAFile == "" {
		return &cert, nil, nil
	}
	pem, err := os.ReadFile(s.opts.ClientCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: reading client_ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("tls: client_ca_file %s holds no PEM certificate", s.opts.ClientCAFile)
	}
	return &cert, pool, nil
}

// refresh re-reads the files when one of them changed since the last look.
// A failed reload keeps serving the last good certificate and is logged
// once per change of the files.
func (s *Source) refresh() (*tls.Certificate, *x509.CertPool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.checked) < checkEvery {
		return s.cert, s.pool
	}
	s.checked = time.Now()
	stamps := s.stat()
	if stamps == s.stamps {
		return s.cert, s.pool
	}
	s.stamps = stamps
	cert, pool, err := s.load()
	if err != nil {
		s.log.Warn("tls: the changed certificate files could not be used; still serving the previous certificate", "error", err)
		return s.cert, s.pool
	}
	s.cert, s.pool = cert, pool
	s.log.Info("tls: certificate reloaded", "file", s.opts.CertFile)
	return cert, pool
}

// Config is a server configuration for a listener speaking the given
// application protocols (ALPN: "h2" for gRPC, "h2" and "http/1.1" for
// REST). TLS 1.2 is the minimum; Go prefers 1.3 whenever the client speaks
// it. clientCerts says whether this listener asks for client certificates.
func (s *Source) Config(clientCerts bool, nextProtos ...string) *tls.Config {
	build := func() *tls.Config {
		cert, pool := s.refresh()
		c := &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*cert},
			NextProtos:   nextProtos,
		}
		if clientCerts && pool != nil {
			c.ClientCAs, c.ClientAuth = pool, s.opts.ClientAuth
		}
		return c
	}
	base := build()
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return build(), nil }
	return base
}
