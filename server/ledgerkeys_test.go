//go:build unix

package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/titular/titular/ledger"
)

// TestWriteLedgerKeyPairRemovesPartialKey: when the secret key cannot be
// written in full, no truncated key file is left for the next start to take
// for the key. The write is made to fail in a child process whose file size
// limit (RLIMIT_FSIZE) is below the key's length; Go ignores SIGXFSZ, so the
// write returns EFBIG after a short write.
func TestWriteLedgerKeyPairRemovesPartialKey(t *testing.T) {
	if prefix := os.Getenv("TITULAR_TEST_PARTIAL_KEY"); prefix != "" {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 8, Max: lim.Max}); err != nil {
			t.Fatal(err)
		}
		skey, vkey, err := ledger.GenerateKey("titular.test")
		if err != nil {
			t.Fatal(err)
		}
		err = WriteLedgerKeyPair(prefix, skey, vkey)
		if serr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); serr != nil {
			t.Fatal(serr)
		}
		if err == nil {
			t.Fatal("WriteLedgerKeyPair succeeded under an 8-byte file size limit")
		}
		return
	}
	prefix := filepath.Join(t.TempDir(), "ledger-signing")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteLedgerKeyPairRemovesPartialKey$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TITULAR_TEST_PARTIAL_KEY="+prefix)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := os.Stat(prefix + ".key"); !os.IsNotExist(err) {
		t.Fatalf("partial signing key left behind (stat: %v)", err)
	}
	if _, err := os.Stat(prefix + ".pub"); !os.IsNotExist(err) {
		t.Fatalf("verifier key written without its signing key (stat: %v)", err)
	}
}
