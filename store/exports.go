package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/google/uuid"
	"github.com/titular/titular/internal/sqlq"
)

// ExportChunkSize is the plaintext size of one sealed chunk.
const ExportChunkSize = 1 << 20

// Export describes a stored export.
type Export struct {
	ID          string
	RequestID   string
	Format      string
	ContentType string
	Filename    string
	SizeBytes   int64
	SHA256      string
	ChunkCount  int
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// exportCipher derives the export's own AES-256-GCM key from the tenant's
// export key, so one leaked export key opens one export. Version 2 (every
// export written now) seals its last chunk as the last, over the digest of
// the whole file; version 1 exports, written before, did not, and are
// still read. The version is in the key: a version 2 chunk does not open
// as version 1, so an export cannot be passed off as an older one.
func exportCipher(tenantKey []byte, exportID string, version int) (cipher.AEAD, error) {
	if len(tenantKey) < 32 {
		return nil, errors.New("export key must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, tenantKey, []byte(exportID), fmt.Sprintf("titular export v%d", version), 32)
	if err != nil {
		return nil, fmt.Errorf("derive export key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("export cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the chunk's sequence number: unique per key because each
// export has its own key.
func chunkNonce(seq int) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], uint64(seq)) //nolint:gosec // G115: seq counts chunks from 0
	return n
}

func chunkAAD(exportID string, seq int) []byte {
	return fmt.Appendf(nil, "%s/%d", exportID, seq)
}

// exportVersion is the version new exports are written in.
const exportVersion = 2

// finalAAD is the associated data of a version 2 export's last chunk: it
// binds the chunk count and the whole file's digest, so an export cut
// short, or given another digest, fails authentication.
func finalAAD(exportID string, seq int, sha256Hex string) []byte {
	return fmt.Appendf(nil, "%s/%d/final/%s", exportID, seq, sha256Hex)
}

// ExportWriter streams an export into lgpd_export_chunks inside a
// transaction, sealing each 1 MiB chunk; memory stays at one chunk.
type ExportWriter struct {
	ctx  context.Context
	tx   *sql.Tx
	aead cipher.AEAD
	exp  Export
	buf  []byte
	sum  hash.Hash
	err  error
}

// NewExportWriter starts an export of a request in tx. Nothing is visible
// until tx commits, so a failed export leaves nothing behind.
func (s *Store) newExportWriter(ctx context.Context, tx *sql.Tx, tenantKey []byte, requestID, format, contentType, filename string, ttl time.Duration) (*ExportWriter, error) {
	id := uuid.NewString()
	aead, err := exportCipher(tenantKey, id, exportVersion)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &ExportWriter{
		ctx: ctx, tx: tx, aead: aead, sum: sha256.New(), buf: make([]byte, 0, ExportChunkSize),
		exp: Export{ID: id, RequestID: requestID, Format: format, ContentType: contentType, Filename: filename,
			CreatedAt: now, ExpiresAt: now.Add(ttl)},
	}, nil
}

// Write buffers p, sealing and storing every full chunk.
func (w *ExportWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	w.sum.Write(p)
	w.exp.SizeBytes += int64(n)
	for len(p) > 0 {
		// A full chunk is sealed only once more data follows: the last
		// chunk is sealed as the last, by Finish.
		if len(w.buf) == ExportChunkSize {
			if err := w.flush(chunkAAD(w.exp.ID, w.exp.ChunkCount)); err != nil {
				return 0, err
			}
		}
		take := min(ExportChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
	}
	return n, nil
}

func (w *ExportWriter) flush(aad []byte) error {
	seq := w.exp.ChunkCount
	sealed := w.aead.Seal(nil, chunkNonce(seq), w.buf, aad)
	if _, err := w.tx.ExecContext(w.ctx, "INSERT INTO lgpd_export_chunks (export_id, seq, data) VALUES (?, ?, ?)", w.exp.ID, seq, sealed); err != nil {
		w.err = fmt.Errorf("store export chunk: %w", err)
		return w.err
	}
	w.exp.ChunkCount++
	w.buf = w.buf[:0]
	return nil
}

// Finish stores the last chunk and the export's row, and returns it.
func (w *ExportWriter) Finish() (Export, error) {
	if w.err != nil {
		return Export{}, w.err
	}
	w.exp.SHA256 = hex.EncodeToString(w.sum.Sum(nil))
	if err := w.flush(finalAAD(w.exp.ID, w.exp.ChunkCount, w.exp.SHA256)); err != nil {
		return Export{}, err
	}
	e := w.exp
	_, err := w.tx.ExecContext(w.ctx, `INSERT INTO lgpd_exports
 (id, request_id, format, content_type, filename, size_bytes, sha256, chunk_count, created_at, expires_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.RequestID, e.Format, e.ContentType, e.Filename, e.SizeBytes, e.SHA256, e.ChunkCount, e.CreatedAt, e.ExpiresAt)
	if err != nil {
		if sqlq.IsDuplicate(err) {
			return Export{}, fmt.Errorf("%w: request already has a %s export", ErrConflict, e.Format)
		}
		return Export{}, fmt.Errorf("store export: %w", err)
	}
	return e, nil
}

// Exports lists a request's exports.
func (s *Store) Exports(ctx context.Context, requestID string) ([]Export, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, request_id, format, content_type, filename, size_bytes, sha256,
 chunk_count, created_at, expires_at FROM lgpd_exports WHERE request_id = ? ORDER BY format`, requestID)
	if err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	defer rows.Close()
	var out []Export
	for rows.Next() {
		var e Export
		if err := rows.Scan(&e.ID, &e.RequestID, &e.Format, &e.ContentType, &e.Filename, &e.SizeBytes, &e.SHA256,
			&e.ChunkCount, &e.CreatedAt, &e.ExpiresAt); err != nil {
			return nil, fmt.Errorf("list exports: %w", err)
		}
		e.CreatedAt, e.ExpiresAt = e.CreatedAt.UTC(), e.ExpiresAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErrExpired is returned for an export past its expiry.
var ErrExpired = errors.New("export expired")

// OpenExport returns a request's export of the given format, checked for
// expiry, and a function that yields its plaintext chunk by chunk. Each chunk
// is authenticated; a missing, reordered or altered chunk is an error.
func (s *Store) OpenExport(ctx context.Context, tenantKey []byte, requestID, format string) (Export, func(yield func([]byte) error) error, error) {
	exps, err := s.Exports(ctx, requestID)
	if err != nil {
		return Export{}, nil, err
	}
	var e *Export
	for i := range exps {
		if exps[i].Format == format {
			e = &exps[i]
		}
	}
	if e == nil {
		return Export{}, nil, ErrNotFound
	}
	if !s.now().Before(e.ExpiresAt) {
		return *e, nil, ErrExpired
	}
	exp := *e
	v2, err := exportCipher(tenantKey, e.ID, exportVersion)
	if err != nil {
		return Export{}, nil, err
	}
	v1, err := exportCipher(tenantKey, e.ID, 1)
	if err != nil {
		return Export{}, nil, err
	}
	chunks := func(yield func([]byte) error) error {
		var aead cipher.AEAD
		for seq := 0; seq < exp.ChunkCount; seq++ {
			var sealed []byte
			err := s.db.QueryRowContext(ctx, "SELECT data FROM lgpd_export_chunks WHERE export_id = ? AND seq = ?", exp.ID, seq).Scan(&sealed)
			if err != nil {
				return fmt.Errorf("read export chunk %d: %w", seq, err)
			}
			// Version 2 marks its last chunk. The first chunk says the
			// version: it opens under one key only.
			nonce, aad := chunkNonce(seq), chunkAAD(exp.ID, seq)
			if seq == exp.ChunkCount-1 && aead != v1 {
				aad = finalAAD(exp.ID, seq, exp.SHA256)
			}
			var plain []byte
			switch {
			case aead != nil:
				plain, err = aead.Open(sealed[:0], nonce, sealed, aad)
			default:
				if plain, err = v2.Open(nil, nonce, sealed, aad); err == nil {
					aead = v2
				} else if p, err1 := v1.Open(nil, nonce, sealed, chunkAAD(exp.ID, seq)); err1 == nil {
					aead, plain, err = v1, p, nil
				}
			}
			if err != nil {
				return fmt.Errorf("export chunk %d failed authentication (altered, reordered, or the export cut short): %w", seq, err)
			}
			if err := yield(plain); err != nil {
				return err
			}
		}
		return nil
	}
	return exp, chunks, nil
}
