package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var (
	tenantKey = bytes.Repeat([]byte{0x42}, 32)
	otherKey  = bytes.Repeat([]byte{0x43}, 32)
)

// writeExport stores data as an export in one transaction, writing it in
// pieces of step bytes so chunk boundaries fall inside writes.
func writeExport(t *testing.T, s *Store, requestID, format string, data []byte, step int, ttl time.Duration) (Export, error) {
	t.Helper()
	var e Export
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		w, err := tx.NewExportWriter(ctx, tenantKey, requestID, format, "application/json", "titular."+format, ttl)
		if err != nil {
			return err
		}
		for p := data; len(p) > 0; {
			n := min(step, len(p))
			if k, err := w.Write(p[:n]); err != nil || k != n {
				return errors.Join(err, errors.New("short write"))
			}
			p = p[n:]
		}
		e, err = w.Finish()
		return err
	})
	return e, err
}

// readExport opens an export and returns its plaintext and chunk sizes.
func readExport(s *Store, key []byte, requestID, format string) (Export, []byte, []int, error) {
	e, chunks, err := s.OpenExport(context.Background(), key, requestID, format)
	if err != nil {
		return e, nil, nil, err
	}
	var buf bytes.Buffer
	var sizes []int
	err = chunks(func(b []byte) error {
		sizes = append(sizes, len(b))
		buf.Write(b)
		return nil
	})
	return e, buf.Bytes(), sizes, err
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{1, 2, 3}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestExport_RoundTrip(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	data := randomBytes(5 * ExportChunkSize / 2) // 2.5 MiB
	sum := sha256.Sum256(data)

	e, err := writeExport(t, s, req.ID, "json", data, 7777, time.Hour)
	if err != nil {
		t.Fatalf("write export: %v", err)
	}
	if e.SizeBytes != int64(len(data)) || e.ChunkCount != 3 || e.SHA256 != hex.EncodeToString(sum[:]) ||
		e.RequestID != req.ID || e.Format != "json" || e.Filename != "titular.json" || e.ContentType != "application/json" {
		t.Errorf("export = %+v", e)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_export_chunks WHERE export_id = ?", e.ID); n != 3 {
		t.Errorf("%d chunk rows, want 3", n)
	}

	list, err := s.Exports(context.Background(), req.ID)
	if err != nil || len(list) != 1 || list[0].ID != e.ID || list[0].SHA256 != e.SHA256 || !list[0].ExpiresAt.Equal(e.ExpiresAt) {
		t.Fatalf("Exports = %+v, %v", list, err)
	}

	got, plain, sizes, err := readExport(s, tenantKey, req.ID, "json")
	if err != nil {
		t.Fatalf("read export: %v", err)
	}
	if got.ID != e.ID || got.SizeBytes != e.SizeBytes || got.SHA256 != e.SHA256 {
		t.Errorf("opened export = %+v, want %+v", got, e)
	}
	if !bytes.Equal(plain, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(plain), len(data))
	}
	if rs := sha256.Sum256(plain); hex.EncodeToString(rs[:]) != got.SHA256 {
		t.Errorf("SHA-256 of the bytes read does not match the export's")
	}
	if want := []int{ExportChunkSize, ExportChunkSize, ExportChunkSize / 2}; len(sizes) != 3 || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Errorf("chunk sizes = %v, want %v", sizes, want)
	}

	if _, _, err := s.OpenExport(context.Background(), tenantKey, req.ID, "xlsx"); !errors.Is(err, ErrNotFound) {
		t.Errorf("format never written: err = %v, want ErrNotFound", err)
	}
}

func TestExport_ChunkBoundaries(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	for _, c := range []struct {
		name   string
		size   int
		chunks int
	}{{"empty", 0, 1}, {"one byte", 1, 1}, {"exactly one chunk", ExportChunkSize, 1}, {"exactly two chunks", 2 * ExportChunkSize, 2}, {"two chunks and a byte", 2*ExportChunkSize + 1, 3}} {
		t.Run(c.name, func(t *testing.T) {
			req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
			data := randomBytes(c.size)
			e, err := writeExport(t, s, req.ID, "json", data, ExportChunkSize, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if e.ChunkCount != c.chunks || e.SizeBytes != int64(c.size) {
				t.Errorf("export of %d bytes: %d chunks, size %d; want %d chunks", c.size, e.ChunkCount, e.SizeBytes, c.chunks)
			}
			_, plain, _, err := readExport(s, tenantKey, req.ID, "json")
			if err != nil || !bytes.Equal(plain, data) {
				t.Errorf("read back %d bytes, err %v; want the %d written", len(plain), err, c.size)
			}
		})
	}
}

func TestExport_RollbackLeavesNothing(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	boom := errors.New("rendering failed")
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		w, err := tx.NewExportWriter(ctx, tenantKey, req.ID, "json", "application/json", "t.json", time.Hour)
		if err != nil {
			return err
		}
		if _, err := w.Write(randomBytes(3 * ExportChunkSize / 2)); err != nil {
			return err
		}
		if _, err := w.Finish(); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("tx err = %v", err)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_exports"); n != 0 {
		t.Errorf("%d export rows after rollback", n)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_export_chunks"); n != 0 {
		t.Errorf("%d chunk rows after rollback", n)
	}
	if _, _, err := s.OpenExport(context.Background(), tenantKey, req.ID, "json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenExport after rollback: err = %v, want ErrNotFound", err)
	}
}

func TestExport_WrongKey(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	if _, err := writeExport(t, s, req.ID, "json", []byte(`{"nome":"Ana"}`), 1024, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, plain, _, err := readExport(s, otherKey, req.ID, "json")
	if err == nil || !strings.Contains(err.Error(), "authentication") || len(plain) != 0 {
		t.Errorf("read with another tenant's key: %d bytes, err %v; want an authentication error and no bytes", len(plain), err)
	}
	if _, _, err := s.OpenExport(context.Background(), []byte("short"), req.ID, "json"); err == nil {
		t.Error("a key shorter than 32 bytes was accepted")
	}
	var werr error
	_ = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		_, werr = tx.NewExportWriter(ctx, []byte("short"), req.ID, "xlsx", "x", "x", time.Hour)
		return nil
	})
	if werr == nil {
		t.Error("NewExportWriter accepted a key shorter than 32 bytes")
	}
}

func TestExport_TamperedChunks(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	data := randomBytes(5 * ExportChunkSize / 2)
	e, err := writeExport(t, s, req.ID, "json", data, ExportChunkSize, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(seq int) []byte {
		var b []byte
		if err := db.QueryRow("SELECT data FROM lgpd_export_chunks WHERE export_id = ? AND seq = ?", e.ID, seq).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("one byte flipped", func(t *testing.T) {
		before := chunk(1)
		if _, err := db.Exec(`UPDATE lgpd_export_chunks
 SET data = CONCAT(SUBSTRING(data, 1, 999), CHAR(ASCII(SUBSTRING(data, 1000, 1)) ^ 1), SUBSTRING(data, 1001))
 WHERE export_id = ? AND seq = 1`, e.ID); err != nil {
			t.Fatal(err)
		}
		after := chunk(1)
		diff := 0
		for i := range min(len(before), len(after)) {
			if before[i] != after[i] {
				diff++
			}
		}
		if len(after) != len(before) || diff != 1 {
			t.Fatalf("tampering changed %d bytes and length %d -> %d; want one byte", diff, len(before), len(after))
		}
		_, plain, sizes, err := readExport(s, tenantKey, req.ID, "json")
		if err == nil || !strings.Contains(err.Error(), "chunk 1") {
			t.Errorf("read of a tampered export: err = %v, want an authentication error on chunk 1", err)
		}
		if len(sizes) != 1 || !bytes.Equal(plain, data[:ExportChunkSize]) {
			t.Errorf("yielded %v before the bad chunk; want only the intact chunk 0", sizes)
		}
		if _, err := db.Exec("UPDATE lgpd_export_chunks SET data = ? WHERE export_id = ? AND seq = 1", before, e.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("chunks swapped", func(t *testing.T) {
		if _, err := db.Exec("UPDATE lgpd_export_chunks SET seq = CASE seq WHEN 0 THEN 100 WHEN 1 THEN 0 END WHERE export_id = ? AND seq IN (0, 1)", e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE lgpd_export_chunks SET seq = 1 WHERE export_id = ? AND seq = 100", e.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := readExport(s, tenantKey, req.ID, "json"); err == nil {
			t.Error("reordered chunks were accepted")
		}
	})

	t.Run("chunk missing", func(t *testing.T) {
		if _, err := db.Exec("DELETE FROM lgpd_export_chunks WHERE export_id = ? AND seq = 2", e.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := readExport(s, tenantKey, req.ID, "json"); err == nil {
			t.Error("an export with a missing chunk was accepted")
		}
	})
}

func TestExport_Expired(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	if _, err := writeExport(t, s, req.ID, "json", []byte("{}"), 1024, -time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenExport(context.Background(), tenantKey, req.ID, "json"); !errors.Is(err, ErrExpired) {
		t.Errorf("negative TTL: err = %v, want ErrExpired", err)
	}

	// With a clock: readable until the instant it expires, not at it.
	clk := useClock(s)
	if _, err := writeExport(t, s, req.ID, "xlsx", []byte("PK"), 1024, time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour - time.Microsecond)
	if _, plain, _, err := readExport(s, tenantKey, req.ID, "xlsx"); err != nil || string(plain) != "PK" {
		t.Errorf("just before expiry: %q, %v", plain, err)
	}
	clk.Advance(time.Microsecond)
	if _, _, err := s.OpenExport(context.Background(), tenantKey, req.ID, "xlsx"); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: err = %v, want ErrExpired", err)
	}
}

func TestExport_DuplicateFormat(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	first, err := writeExport(t, s, req.ID, "json", []byte(`{"v":1}`), 1024, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeExport(t, s, req.ID, "json", []byte(`{"v":2}`), 1024, time.Hour); !errors.Is(err, ErrConflict) {
		t.Errorf("second json export: err = %v, want ErrConflict", err)
	}
	if _, err := writeExport(t, s, req.ID, "xlsx", []byte("PK"), 1024, time.Hour); err != nil {
		t.Errorf("xlsx beside json: %v", err)
	}
	other := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "b@example.com"}})
	if _, err := writeExport(t, s, other.ID, "json", []byte(`{"v":3}`), 1024, time.Hour); err != nil {
		t.Errorf("json export of another request: %v", err)
	}
	// The refused export's chunks rolled back with it; the first is intact.
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_export_chunks"); n != 3 {
		t.Errorf("%d chunk rows, want 3 (one per stored export)", n)
	}
	e, plain, _, err := readExport(s, tenantKey, req.ID, "json")
	if err != nil || e.ID != first.ID || string(plain) != `{"v":1}` {
		t.Errorf("json export after the refused duplicate: %q, %v", plain, err)
	}
}

func TestExport_EncryptedAtRest(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	marker := []byte(`{"nome":"Maria Synthetica","cpf":"529.982.247-25","email":"maria@example.com"}` + "\n")
	data := bytes.Repeat(marker, (ExportChunkSize+5000)/len(marker))
	reqA := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	reqB := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "b@example.com"}})
	ea, err := writeExport(t, s, reqA.ID, "json", data, 4096, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := writeExport(t, s, reqB.ID, "json", data, 4096, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]byte{}
	rows, err := db.Query("SELECT export_id, seq, data FROM lgpd_export_chunks ORDER BY export_id, seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		var id string
		var seq int
		var b []byte
		if err := rows.Scan(&id, &seq, &b); err != nil {
			t.Fatal(err)
		}
		total += len(b)
		for _, needle := range [][]byte{[]byte("529.982.247-25"), []byte("maria@example.com"), []byte("Synthetica")} {
			if bytes.Contains(b, needle) {
				t.Errorf("chunk %s/%d holds %q in clear", id, seq, needle)
			}
		}
		if seq == 0 {
			stored[id] = b
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Each sealed chunk is the plaintext plus the 16-byte GCM tag.
	if want := 2 * (len(data) + 2*16); total != want {
		t.Errorf("stored %d bytes of chunks, want %d", total, want)
	}
	if bytes.Equal(stored[ea.ID], stored[eb.ID]) {
		t.Error("two exports of the same bytes stored the same ciphertext; each export must have its own key")
	}
}

// TestExport_CutShortIsDetected: the stored row says how many chunks and
// which digest; one who can write the table lowers the count (and fixes
// size and digest) to deliver a truncated file, or swaps the digest. The
// last chunk is sealed as the last over the whole file's digest, so both
// fail authentication. Exports written before (version 1) still read.
func TestExport_CutShortIsDetected(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	req := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	data := randomBytes(5 * ExportChunkSize / 2)
	e, err := writeExport(t, s, req.ID, "json", data, ExportChunkSize, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short := sha256.Sum256(data[:2*ExportChunkSize])
	if _, err := db.Exec("UPDATE lgpd_exports SET chunk_count = 2, size_bytes = ?, sha256 = ? WHERE id = ?",
		2*ExportChunkSize, hex.EncodeToString(short[:]), e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := readExport(s, tenantKey, req.ID, "json"); err == nil || !strings.Contains(err.Error(), "chunk 1") {
		t.Errorf("an export cut to two chunks: err = %v, want an authentication error on chunk 1", err)
	}
	other := sha256.Sum256([]byte("another file"))
	if _, err := db.Exec("UPDATE lgpd_exports SET chunk_count = 3, size_bytes = ?, sha256 = ? WHERE id = ?",
		len(data), hex.EncodeToString(other[:]), e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := readExport(s, tenantKey, req.ID, "json"); err == nil {
		t.Error("an export whose digest was replaced was accepted")
	}

	// A version 1 export (sealed before the last chunk was marked) reads.
	legacy := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "b@example.com"}})
	old, err := writeExport(t, s, legacy.ID, "json", data, ExportChunkSize, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := exportCipher(tenantKey, old.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	for seq := range old.ChunkCount {
		plain := data[seq*ExportChunkSize : min((seq+1)*ExportChunkSize, len(data))]
		sealed := v1.Seal(nil, chunkNonce(seq), plain, chunkAAD(old.ID, seq))
		if _, err := db.Exec("UPDATE lgpd_export_chunks SET data = ? WHERE export_id = ? AND seq = ?", sealed, old.ID, seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, plain, _, err := readExport(s, tenantKey, legacy.ID, "json"); err != nil || !bytes.Equal(plain, data) {
		t.Errorf("a version 1 export: err %v, %d bytes of %d", err, len(plain), len(data))
	}
}
