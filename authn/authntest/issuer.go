// Package authntest is a token issuer for tests: keys of every accepted
// algorithm, a JWKS and discovery endpoint on loopback, and signed (or
// deliberately broken) tokens.
package authntest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a signing key with its key id and algorithm.
type Key struct {
	ID      string
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
}

var keyCount atomic.Int64

// NewKey makes a key for alg: RS256 (RSA 2048), ES256 (P-256) or EdDSA
// (Ed25519).
func NewKey(t testing.TB, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("authntest: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Key{ID: fmt.Sprintf("key-%d", keyCount.Add(1)), Alg: alg, Private: k}
}

// JWK is the key's public half as a JSON Web Key.
func (k Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// JWKS is a JWKS document of the keys' public halves.
func JWKS(t testing.TB, keys ...Key) []byte {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// PublicPEM is the key's public half as a PEM PUBLIC KEY block.
func (k Key) PublicPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Sign signs claims with the key, naming its key id in the header.
func (k Key) Sign(t testing.TB, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, claims)
}

func sign(t testing.TB, s jose.Signer, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SignHS256 signs claims with HMAC-SHA256 keyed by secret: the confusion
// attack, with a public key as the secret.
func SignHS256(t testing.TB, secret []byte, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, claims)
}

// Unsigned is claims under alg none, with an empty signature.
func Unsigned(t testing.TB, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + "."
}

// Issuer is an identity provider on loopback: its URL is the issuer
// (iss), it serves a discovery document and its JWKS, and its published
// keys can be rotated.
type Issuer struct {
	URL string
	srv *httptest.Server

	mu   sync.Mutex
	keys []Key
	// Fetches counts the JWKS fetches served.
	Fetches atomic.Int64
}

// NewIssuer starts an issuer publishing one new key of alg.
func NewIssuer(t testing.TB, alg jose.SignatureAlgorithm) *Issuer {
	t.Helper()
	is := &Issuer{keys: []Key{NewKey(t, alg)}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		is.Fetches.Add(1)
		is.mu.Lock()
		keys := append([]Key(nil), is.keys...)
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(JWKS(t, keys...))
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.URL, "jwks_uri": is.JWKSURL(),
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"}})
	})
	is.srv = httptest.NewServer(mux)
	is.URL = is.srv.URL
	t.Cleanup(is.srv.Close)
	return is
}

// JWKSURL is where the issuer serves its keys.
func (is *Issuer) JWKSURL() string { return is.URL + "/keys" }

// Key is the key the issuer signs with now (the last published).
func (is *Issuer) Key() Key {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[len(is.keys)-1]
}

// Rotate publishes a new key of alg in place of every old one and returns
// it.
func (is *Issuer) Rotate(t testing.TB, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	k := NewKey(t, alg)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = []Key{k}
	return k
}

// Sign signs claims with the issuer's current key.
func (is *Issuer) Sign(t testing.TB, claims any) string {
	t.Helper()
	return is.Key().Sign(t, claims)
}
