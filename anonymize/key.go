package anonymize

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
)

// minKeyLen is the shortest tenant secret accepted: 256 bits.
const minKeyLen = 32

// Key is a tenant's anonymization secret. Each domain (an anonymizer's
// name, or hmac's domain param) gets its own subkey by HKDF, so outputs of
// different anonymizers never correlate; the same domain and input always
// give the same output. Safe for concurrent use.
type Key struct {
	secret []byte

	mu      sync.Mutex
	domains map[domainID]*domainKey
}

// domainID names one subkey.
type domainID struct {
	domain  string
	attempt int
}

// domainKey pools HMAC states of one subkey: building one costs two SHA-256
// blocks, resetting it nothing.
type domainKey struct{ pool sync.Pool }

// NewKey wraps a tenant's secret (at least 32 bytes, from the keyring's
// "anonymize" purpose).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < minKeyLen {
		return nil, errors.New("anonymize: the key must have at least 32 bytes")
	}
	return &Key{secret: append([]byte(nil), secret...), domains: map[domainID]*domainKey{}}, nil
}

// subkey returns the pooled HMAC states of domain at attempt. A retry after a
// UNIQUE collision draws from another subkey: the counter is part of the
// HKDF info, so each attempt is an independent function of the input.
func (k *Key) subkey(domain string, attempt int) (*domainKey, error) {
	id := domainID{domain, attempt}
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := k.domains[id]; ok {
		return d, nil
	}
	info := "titular/anonymize/v1/" + domain
	if attempt > 0 {
		info += "#" + strconv.Itoa(attempt)
	}
	sub, err := hkdf.Key(sha256.New, k.secret, nil, info, 32)
	if err != nil {
		return nil, err
	}
	d := &domainKey{}
	d.pool.New = func() any { return hmac.New(sha256.New, sub) }
	k.domains[id] = d
	return d, nil
}

// draw is a deterministic byte stream: HMAC(subkey, msg || block) for block
// 0, 1, 2, … It hands out integers for choosing fake values.
type draw struct {
	h     hash.Hash
	d     *domainKey
	msg   []byte
	block uint32
	buf   [sha256.Size]byte
	off   int
}

// stream starts the stream of domain and attempt over msg. Call close when
// done so the HMAC state returns to the pool.
func (k *Key) stream(domain string, attempt int, msg []byte) (*draw, error) {
	d, err := k.subkey(domain, attempt)
	if err != nil {
		return nil, err
	}
	s := &draw{h: d.pool.Get().(hash.Hash), d: d, msg: msg}
	s.refill()
	return s, nil
}

func (s *draw) refill() {
	s.h.Reset()
	s.h.Write(s.msg)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], s.block)
	s.h.Write(b[:])
	s.h.Sum(s.buf[:0])
	s.block++
	s.off = 0
}

func (s *draw) close() { s.d.pool.Put(s.h) }

// uint64 returns the next 8 bytes as a number.
func (s *draw) uint64() uint64 {
	if s.off+8 > len(s.buf) {
		s.refill()
	}
	v := binary.BigEndian.Uint64(s.buf[s.off:])
	s.off += 8
	return v
}

// intn returns a number in [0, n). The modulo bias is below 2^-40 for the
// small n used here, far under anything observable.
//
// n is always positive (a list's length, a constant, or max_days, which the
// parameters bound to 1..3650), so uint64(n) is exact and the result, below
// n, fits an int.
func (s *draw) intn(n int) int { return int(s.uint64() % uint64(n)) } //nolint:gosec // G115: 0 < n, result < n (above)

// sum returns the full HMAC of msg under domain and attempt.
func (k *Key) sum(domain string, attempt int, msg []byte) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	d, err := k.subkey(domain, attempt)
	if err != nil {
		return out, err
	}
	h := d.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	h.Sum(out[:0])
	d.pool.Put(h)
	return out, nil
}

// NewRequestKey returns a key drawn at random for one request (or one sweep
// of one titular) and never stored: outputs stay consistent within its use,
// so the same CPF becomes the same fake CPF in every table and joins hold,
// but once it is dropped no key titular keeps can recompute an output from a
// guessed input (Art. 12). A keyed hash of a CPF under a kept tenant key is
// pseudonymization (Art. 13): the CPF space is searched in hours.
func NewRequestKey() (*Key, error) {
	secret := make([]byte, minKeyLen)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("anonymize: draw a request key: %w", err)
	}
	return NewKey(secret)
}
