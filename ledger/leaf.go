// Package ledger is titular's tamper-evident record of processing operations
// (LGPD Art. 37): an RFC 6962 Merkle tree per tenant over canonical binary
// leaves, Ed25519-signed checkpoints in the C2SP tlog-checkpoint format,
// inclusion and consistency proofs, and a verifier that recomputes
// everything from the leaves alone. It holds no SQL: the store persists what
// this package computes, and this package checks what the store returns.
//
// # Leaf encoding, version 1
//
// A leaf is the service's own bytes, hashed as stored; it is never rebuilt
// from JSON read back from the database. All integers are big-endian; a str
// is a uint16 length followed by that many bytes of UTF-8 (at most
// MaxFieldLen). Fields, in this fixed order:
//
//	u8     version      1
//	str    event        what happened, e.g. "request.status"
//	str    kind         the request kind ("EXTRACT", …) or empty
//	str    request_id   the request's id, or empty
//	str    subject_ref  the titular's random reference, or empty
//	str    from         state before the change, or empty
//	str    to           state after the change, or empty
//	i64    at           when it happened, Unix microseconds (UTC)
//	u8     n            number of digests (at most MaxDigests)
//	n ×    str name, 32 bytes SHA-256   digests, names strictly ascending
//
// Nothing else may follow. The encoding is canonical: a byte string decodes
// only if encoding the result gives the same bytes back, so two leaves with
// the same meaning cannot hash differently. A leaf holds no personal data:
// the titular appears only as a random subject reference, whose mapping to
// identifiers lives in a deletable index outside the ledger.
//
// Beside each leaf (not inside it) the store keeps an HMAC-SHA256 of the
// leaf under a per-tenant key held outside the database (see MAC), so a
// forged entry is detected even if the forger recomputes the whole tree.
package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Version is the leaf encoding this package writes.
const Version = 1

// Limits of the version-1 encoding.
const (
	MaxFieldLen = 1024
	MaxDigests  = 16
)

// EventRequestStatus is a request's state change.
const EventRequestStatus = "request.status"

// Leaf is one ledger entry, decoded.
type Leaf struct {
	Event      string
	Kind       string
	RequestID  string
	SubjectRef string
	From, To   string
	At         time.Time
	Digests    []Digest
}

// Digest is a named SHA-256, e.g. of an export file ("export.json").
type Digest struct {
	Name   string
	SHA256 [32]byte
}

// ErrBadLeaf marks bytes that are not a canonical leaf.
var ErrBadLeaf = errors.New("not a canonical ledger leaf")

// Marshal encodes l canonically. Digests must be sorted by name, with
// unique names.
func (l Leaf) Marshal() ([]byte, error) {
	if l.Event == "" {
		return nil, fmt.Errorf("%w: event is required", ErrBadLeaf)
	}
	if len(l.Digests) > MaxDigests {
		return nil, fmt.Errorf("%w: %d digests, at most %d", ErrBadLeaf, len(l.Digests), MaxDigests)
	}
	b := make([]byte, 0, 128+len(l.Digests)*48)
	b = append(b, Version)
	var err error
	for _, s := range []string{l.Event, l.Kind, l.RequestID, l.SubjectRef, l.From, l.To} {
		if b, err = appendStr(b, s); err != nil {
			return nil, err
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(l.At.UnixMicro()))
	b = append(b, byte(len(l.Digests))) //nolint:gosec // G115: at most MaxDigests (16), checked above
	for i, d := range l.Digests {
		if i > 0 && d.Name <= l.Digests[i-1].Name {
			return nil, fmt.Errorf("%w: digest names must be unique and ascending", ErrBadLeaf)
		}
		if d.Name == "" {
			return nil, fmt.Errorf("%w: digest name is required", ErrBadLeaf)
		}
		if b, err = appendStr(b, d.Name); err != nil {
			return nil, err
		}
		b = append(b, d.SHA256[:]...)
	}
	return b, nil
}

func appendStr(b []byte, s string) ([]byte, error) {
	if len(s) > MaxFieldLen || !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: a field is longer than %d bytes or not UTF-8", ErrBadLeaf, MaxFieldLen)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s))) //nolint:gosec // G115: at most MaxFieldLen (1024), checked above
	return append(b, s...), nil
}

// Unmarshal decodes a canonical leaf, rejecting anything Marshal would not
// produce.
func Unmarshal(b []byte) (Leaf, error) {
	var l Leaf
	err := decode(b, &l)
	return l, err
}

// Check reports whether b is a canonical leaf, without allocating: the
// verifier runs it on every entry.
func Check(b []byte) error { return decode(b, nil) }

// decode walks b once; it fills l when l is not nil.
func decode(b []byte, l *Leaf) error {
	d := decoder{b: b}
	if v := d.byte(); v != Version {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("%w: unknown version %d", ErrBadLeaf, v)
	}
	event := d.str()
	var fields [5][]byte
	for i := range fields {
		fields[i] = d.str()
	}
	at := int64(d.u64()) //nolint:gosec // G115: the field is an i64 sent as its two's-complement bits (Marshal's uint64 of UnixMicro)
	n := int(d.byte())
	if d.err == nil && n > MaxDigests {
		d.fail("too many digests")
	}
	var prev []byte
	for i := 0; i < n && d.err == nil; i++ {
		name := d.str()
		sum := d.take(32)
		if d.err == nil && (len(name) == 0 || i > 0 && string(name) <= string(prev)) {
			d.fail("digest names must be non-empty, unique and ascending")
		}
		prev = name
		if l != nil && d.err == nil {
			dg := Digest{Name: string(name)}
			copy(dg.SHA256[:], sum)
			l.Digests = append(l.Digests, dg)
		}
	}
	switch {
	case d.err != nil:
		return d.err
	case len(d.b) != 0:
		return fmt.Errorf("%w: %d trailing bytes", ErrBadLeaf, len(d.b))
	case len(event) == 0:
		return fmt.Errorf("%w: event is empty", ErrBadLeaf)
	}
	if l != nil {
		l.Event, l.Kind, l.RequestID, l.SubjectRef = string(event), string(fields[0]), string(fields[1]), string(fields[2])
		l.From, l.To, l.At = string(fields[3]), string(fields[4]), time.UnixMicro(at).UTC()
	}
	return nil
}

// decoder reads fields, remembering the first error so callers check once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrBadLeaf, msg)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) str() []byte {
	lb := d.take(2)
	if lb == nil {
		return nil
	}
	n := int(binary.BigEndian.Uint16(lb))
	if n > MaxFieldLen {
		d.fail("field too long")
		return nil
	}
	s := d.take(n)
	if s != nil && !utf8.Valid(s) {
		d.fail("field is not UTF-8")
		return nil
	}
	return s
}
