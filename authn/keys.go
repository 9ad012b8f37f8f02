package authn

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/titular/titular/internal/filereload"
	"github.com/titular/titular/internal/logsafe"
)

// keySet verifies a token's signature with an issuer's public keys and
// returns its payload (oidc.KeySet).
type keySet interface {
	VerifySignature(ctx context.Context, jwt string) ([]byte, error)
}

// errKeysUnavailable marks a failure to get the keys, as opposed to keys
// that do not verify the token.
var errKeysUnavailable = errors.New("the issuer's keys are unavailable")

// fileKeys are the keys of a PEM or JWKS file, read again when the file
// changes (filereload: looked at no more than once a second), so a
// portal's key is rotated by rewriting the file. A file that stops parsing
// keeps the last good keys, with a warning.
type fileKeys struct {
	keys *filereload.Value[*oidc.StaticKeySet]
}

func newFileKeys(what, path string, read func(string) ([]crypto.PublicKey, error), log *slog.Logger) (*fileKeys, error) {
	keys, err := filereload.New([]string{path}, func() (*oidc.StaticKeySet, error) {
		keys, err := read(path)
		if err != nil {
			return nil, err
		}
		return &oidc.StaticKeySet{PublicKeys: keys}, nil
	}, filereload.Options{
		OnError: func(err error) {
			log.Warn("token keys: the changed key file is not usable; keeping the keys read before", "issuer", what, "error", logsafe.Error(err))
		},
		OnReload: func() { log.Info("token keys: key file reloaded", "issuer", what) },
	})
	if err != nil {
		return nil, err
	}
	return &fileKeys{keys: keys}, nil
}

// VerifySignature implements keySet.
func (f *fileKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	return f.keys.Get().VerifySignature(ctx, jwt)
}

// remoteKeys are the keys of a JWKS URL, through go-oidc's RemoteKeySet:
// fetched on first use, cached, fetched again when a token's key id is not
// among them (key rotation). The whole set is dropped after maxAge, so a
// key the issuer removed stops verifying within it. Without a URL, the
// JWKS is the one the issuer's discovery document names, found on first
// use.
type remoteKeys struct {
	what, discoverFrom string
	client             *http.Client
	fetch              *fetchTransport
	maxAge             time.Duration

	mu   sync.Mutex
	url  string
	set  *oidc.RemoteKeySet
	born time.Time
}

func newRemoteKeys(what, jwksURL, discoverFrom string, opts Options) *remoteKeys {
	tr := &fetchTransport{base: opts.Transport, every: opts.MinRefetch, what: what, log: opts.Log}
	return &remoteKeys{what: what, discoverFrom: discoverFrom, url: jwksURL, fetch: tr, maxAge: opts.MaxKeyAge,
		client: &http.Client{Transport: tr, Timeout: fetchTimeout}}
}

func (r *remoteKeys) keySet(ctx context.Context) (*oidc.RemoteKeySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set != nil && time.Since(r.born) < r.maxAge {
		return r.set, nil
	}
	if r.url == "" {
		u, err := r.discover(ctx)
		if err != nil {
			r.fetch.log.Warn("token keys: discovery failed", "issuer", r.what, "error", logsafe.Error(err))
			return nil, errKeysUnavailable
		}
		r.url = u
	}
	// The context only carries the HTTP client: go-oidc fetches in the
	// background, bounded by the client's timeout, for every later call;
	// the first caller's context (its values) must not live that long.
	r.set = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), r.client), r.url) //nolint:contextcheck // a configuration bag for the key set's lifetime, not this call's
	r.born = time.Now()
	return r.set, nil
}

// discover reads the jwks_uri of the issuer's discovery document.
func (r *remoteKeys) discover(ctx context.Context) (string, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, r.client), r.discoverFrom)
	if err != nil {
		return "", err
	}
	var d struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&d); err != nil {
		return "", err
	}
	u, err := url.Parse(d.JWKS)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return "", fmt.Errorf("the discovery document's jwks_uri is not an https URL")
	}
	return d.JWKS, nil
}

// VerifySignature implements keySet.
func (r *remoteKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	set, err := r.keySet(ctx)
	if err != nil {
		return nil, err
	}
	before := r.fetch.failures()
	payload, err := set.VerifySignature(ctx, jwt)
	if err != nil && r.fetch.failures() != before {
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	return payload, err
}

// loopback reports whether host is a loopback name or address.
func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// maxDocumentBytes bounds a JWKS or discovery document.
const maxDocumentBytes = 1 << 20

// fetchTransport fetches an issuer's documents: it logs failures (the
// caller only learns the keys are unavailable), counts them, and answers a
// fetch of the same URL within every of the last good one with that
// response, so tokens with unknown key ids cannot make titular hammer the
// identity provider.
type fetchTransport struct {
	base  http.RoundTripper
	every time.Duration
	what  string
	log   *slog.Logger

	mu     sync.Mutex
	last   map[string]cached
	failed uint64
}

type cached struct {
	at     time.Time
	header http.Header
	body   []byte
}

func (t *fetchTransport) failures() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *fetchTransport) fail(u string, err error) {
	t.mu.Lock()
	t.failed++
	t.mu.Unlock()
	t.log.Warn("token keys: fetch failed", "issuer", t.what, "url", u, "error", logsafe.Error(err))
}

// RoundTrip implements http.RoundTripper.
func (t *fetchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	t.mu.Lock()
	c, ok := t.last[u]
	t.mu.Unlock()
	if ok && time.Since(c.at) < t.every {
		return replay(req, c), nil
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.fail(u, err)
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		t.fail(u, err)
		return nil, err
	case len(body) > maxDocumentBytes:
		err = errors.New("the document is larger than 1 MiB")
		t.fail(u, err)
		return nil, err
	case resp.StatusCode != http.StatusOK:
		t.fail(u, fmt.Errorf("HTTP status %d", resp.StatusCode))
		return replay(req, cached{header: resp.Header, body: body, at: time.Now()}, resp.StatusCode), nil
	}
	c = cached{at: time.Now(), header: resp.Header.Clone(), body: body}
	t.mu.Lock()
	if t.last == nil {
		t.last = map[string]cached{}
	}
	t.last[u] = c
	t.mu.Unlock()
	return replay(req, c), nil
}

func replay(req *http.Request, c cached, code ...int) *http.Response {
	status := http.StatusOK
	if len(code) > 0 {
		status = code[0]
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: c.header.Clone(), Request: req,
		Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body))}
}
