package keyring

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGeneratedKeyIsStableAndPrivate(t *testing.T) {
	dir := t.TempDir()
	k := New(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a, err := k.Key("demo", "export", Source{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(dir, slog.New(slog.NewTextHandler(io.Discard, nil))).Key("demo", "export", Source{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("generated key not stable: %x vs %x", a, b)
	}
	fi, err := os.Stat(filepath.Join(dir, "keys", "demo", "export.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	other, err := k.Key("other", "export", Source{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, other) {
		t.Fatal("two tenants got the same key")
	}
}

func TestConfiguredKeys(t *testing.T) {
	k := New(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	hexKey := strings.Repeat("ab", 32)
	t.Setenv("TITULAR_TEST_KEY", hexKey)
	got, err := k.Key("demo", "export", Source{Env: "TITULAR_TEST_KEY"})
	if err != nil || len(got) != 32 || got[0] != 0xab {
		t.Fatalf("env key: %x, %v", got, err)
	}
	f := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(f, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Key("demo", "export", Source{File: f}); err != nil || len(got) != 32 {
		t.Fatalf("file key: %x, %v", got, err)
	}
	t.Setenv("TITULAR_TEST_KEY", "short")
	if _, err := k.Key("demo", "export", Source{Env: "TITULAR_TEST_KEY"}); err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Fatalf("short key accepted or unhelpful error: %v", err)
	}
	if _, err := k.Key("demo", "export", Source{Env: "A", File: "b"}); err == nil {
		t.Fatal("both sources accepted")
	}
}
