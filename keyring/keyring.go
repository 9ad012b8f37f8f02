// Package keyring loads titular's secrets: from a file or an environment
// variable named in the config, or, in development only, from a key it
// generates once into the state directory (mode 0600) with a warning. Keys
// are never stored in a tenant database.
package keyring

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Source says where one secret comes from. At most one of File and Env is set.
type Source struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// Keyring hands out 32-byte secrets per tenant and purpose.
type Keyring struct {
	stateDir string
	log      *slog.Logger
}

// New returns a keyring whose generated keys live under stateDir.
func New(stateDir string, log *slog.Logger) *Keyring {
	return &Keyring{stateDir: stateDir, log: log}
}

// Key returns the secret for tenant and purpose (e.g. "export"). Configured
// sources hold 64 hex characters (32 bytes).
func (k *Keyring) Key(tenant, purpose string, src Source) ([]byte, error) {
	switch {
	case src.File != "" && src.Env != "":
		return nil, fmt.Errorf("tenant %s %s key: set file or env, not both", tenant, purpose)
	case src.Env != "":
		return decode(os.Getenv(src.Env), fmt.Sprintf("environment variable %s", src.Env))
	case src.File != "":
		b, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("tenant %s %s key: %w", tenant, purpose, err)
		}
		return decode(string(b), src.File)
	}
	return k.generated(tenant, purpose)
}

func decode(s, where string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("%s must hold at least 64 hex characters (32 random bytes: openssl rand -hex 32)", where)
	}
	return b, nil
}

// generated reads or creates <state_dir>/keys/<tenant>/<purpose>.key. The
// key is written to a temporary file and linked into place, which fails if
// the name exists: concurrent openers (serve opening tenants in the
// background while a command opens the same one) agree on one key and never
// read a half-written file.
func (k *Keyring) generated(tenant, purpose string) ([]byte, error) {
	dir := filepath.Join(k.stateDir, "keys", tenant)
	path := filepath.Join(dir, purpose+".key")
	if b, err := os.ReadFile(path); err == nil { //nolint:gosec // G304: under the configured state_dir; tenant ids are validated names, purposes constants
		return decode(string(b), path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read generated key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+purpose+".key-*")
	if err != nil {
		return nil, fmt.Errorf("write generated key: %w", err)
	}
	tmp := f.Name()
	// Once linked (or abandoned) the temporary name is not needed; failing to
	// remove it leaves a stray file beside the key, not a wrong key.
	defer func() { _ = os.Remove(tmp) }()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close() // the write error is the one to report
		return nil, fmt.Errorf("write generated key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write generated key: %w", err)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return k.generated(tenant, purpose)
	} else if err != nil {
		return nil, fmt.Errorf("write generated key: %w", err)
	}
	k.log.Warn("generated a development key; configure one for production", "tenant", tenant, "purpose", purpose, "path", path)
	return key, nil
}
