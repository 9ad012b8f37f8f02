package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cookieName holds the sealed session.
const cookieName = "titular_console"

// Session lifetimes: a visitor's (only a CSRF token, for the sign-in
// form) and a signed-in DPO's. A session cannot be extended: sign in again.
const (
	anonymousTTL = time.Hour
	signedInTTL  = 8 * time.Hour
)

// session is what the sealed cookie holds: who signed in, with which role
// and tenants, and the CSRF token of every form. Never the API key nor the
// identity provider's token.
type session struct {
	Name    string   `json:"n,omitempty"`
	Role    string   `json:"r,omitempty"`
	Tenants []string `json:"t,omitempty"`
	All     bool     `json:"a,omitempty"`
	CSRF    string   `json:"c"`
	// KeySHA256 is, for a session opened with an API key, the key's
	// SHA-256 (as configured in auth.api_keys, never the key): each page
	// checks the key is still configured and takes its current role.
	KeySHA256 string `json:"k,omitempty"`
	Expires   int64  `json:"e"`
}

func (s *session) signedIn() bool { return s != nil && s.Role != "" }

// sealer seals sessions with AES-256-GCM: a cookie that was altered or
// sealed with another key does not open.
type sealer struct {
	aead   cipher.AEAD
	secure bool
}

func newSealer(key []byte, secure bool) (*sealer, error) {
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, secure: secure}, nil
}

// seal encrypts v for the cookie name (bound as additional data, so one
// cookie's value cannot be replayed as another's).
func (s *sealer) seal(name string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, b, []byte(name))), nil
}

// unseal decrypts the cookie name of r into dst; false when it is absent
// or does not open.
func (s *sealer) unseal(r *http.Request, name string, dst any) bool {
	c, err := r.Cookie(name)
	if err != nil {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return false
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(name))
	return err == nil && json.Unmarshal(plain, dst) == nil
}

// open returns the request's session, or nil when it has none, it does not
// open, or it has expired.
func (s *sealer) open(r *http.Request) *session {
	var sess session
	if !s.unseal(r, cookieName, &sess) || sess.CSRF == "" || time.Now().Unix() >= sess.Expires {
		return nil
	}
	return &sess
}

// write sets the session cookie: HttpOnly, SameSite=Strict, Secure unless
// the console is served over plaintext loopback.
func (s *sealer) write(w http.ResponseWriter, sess *session) error {
	v, err := s.seal(cookieName, sess)
	if err != nil {
		return err
	}
	//nolint:gosec // G124: HttpOnly and Strict always; Secure unless the console is plaintext on loopback
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: v, Path: "/console/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, Expires: time.Unix(sess.Expires, 0)})
	return nil
}

// clear deletes the session cookie.
func (s *sealer) clear(w http.ResponseWriter) {
	//nolint:gosec // G124: deletes the session cookie, with the attributes it was set with
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// newToken is a random CSRF token.
func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfOK reports whether a form's token matches the session's.
func csrfOK(sess *session, r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return sess != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// sessionKey reads the configured session key file, or generates one into
// <state_dir>/console/session.key (mode 0600) on first use, as titular
// does for its other development secrets.
func sessionKey(file, stateDir string) ([]byte, error) {
	if file == "" {
		file = filepath.Join(stateDir, "console", "session.key")
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("console session key: %w", err)
		}
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: under the configured state_dir
		switch {
		case err == nil:
			_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, fmt.Errorf("console session key: %w", werr)
			}
			return k, nil
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("console session key: %w", err)
		}
	}
	b, err := os.ReadFile(file) //nolint:gosec // G304: the configured key file or one under state_dir
	if err != nil {
		return nil, fmt.Errorf("console session key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 32 {
		return nil, fmt.Errorf("console session key %s must hold 64 hex characters (openssl rand -hex 32)", file)
	}
	return k, nil
}
