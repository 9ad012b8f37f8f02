package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

// The latest cosigned checkpoint of each tenant and witness is also kept
// in a file (config ledger.witnessed_dir): the cosignatures table lives in
// the tenant's database and goes back with it when an older copy is
// restored; the file does not, and an operator can back it up apart.

// ReadWitnessedFile returns the cosigned checkpoint kept in path, its
// cosignature checked with the witness's key and its origin with origin,
// or nil when there is no file yet.
func ReadWitnessedFile(path string, witness note.Verifier, origin string) ([]byte, *ledger.Checkpoint, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the path is built from the configured witnessed_dir, a validated tenant id and witness name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	// A file that does not check is a verification failure (a Problem);
	// one that cannot be read is the host's error, passed on as it is.
	cp, err := ledger.OpenCosigned(b, witness)
	if err != nil {
		return nil, nil, &ledger.Problem{Entry: -1, Msg: fmt.Sprintf("%s: %v", path, err)}
	}
	if cp.Origin != origin {
		return nil, nil, &ledger.Problem{Entry: -1, Msg: fmt.Sprintf("%s: a checkpoint of %s, not of this ledger (%s)", path, cp.Origin, origin)}
	}
	return b, cp, nil
}

// writeWitnessedFile replaces the file at path with cosigned, a checkpoint
// of size size, unless it already holds a larger one: the file only moves
// forward. It writes a temporary file and renames it, so a crash leaves
// the old file or the new, never half of one.
func writeWitnessedFile(path string, witness note.Verifier, origin string, size uint64, cosigned []byte) error {
	_, kept, err := ReadWitnessedFile(path, witness, origin)
	if err != nil {
		return fmt.Errorf("the kept cosigned checkpoint: %w; move the file aside to start it again", err)
	}
	if kept != nil && kept.Size >= size {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cosigned-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(cosigned); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
