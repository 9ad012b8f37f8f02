package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Witness cosignatures follow C2SP tlog-cosignature (cosignature/v1): an
// Ed25519 signature over "cosignature/v1\ntime T\n" and the checkpoint's
// text, encoded as T (8 bytes, big-endian Unix seconds) then the signature,
// under a key of algorithm 0x04. The witness asserts, at time T, that it saw
// this checkpoint and that it extends every earlier one it cosigned: a
// ledger later rolled back below it, or rewritten at its size, is caught.

const (
	algEd25519              = 0x01
	algEd25519CosignatureV1 = 0x04
)

// cosignatureV1Message is what a cosignature/v1 signs.
func cosignatureV1Message(t uint64, text []byte) []byte {
	return append(fmt.Appendf(nil, "cosignature/v1\ntime %d\n", t), text...)
}

func cosignKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write([]byte{algEd25519CosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v cosigVerifier) Name() string    { return v.name }
func (v cosigVerifier) KeyHash() uint32 { return v.hash }
func (v cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(v.pub, cosignatureV1Message(binary.BigEndian.Uint64(sig), msg), sig[8:])
}

// NewCosignatureVerifier parses a witness's public key ("name+hash+key"),
// of algorithm 0x04 (cosignature/v1) or 0x01 (a plain Ed25519 note key,
// taken as the same key for cosignatures, as C2SP tlog-witness allows).
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, pub, err := parseWitnessKey(strings.TrimSpace(vkey), false)
	if err != nil {
		return nil, err
	}
	return cosigVerifier{name: name, hash: cosignKeyHash(name, pub), pub: pub}, nil
}

type cosigSigner struct {
	cosigVerifier
	key ed25519.PrivateKey
	now func() time.Time
}

func (s cosigSigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(s.now().Unix()) //nolint:gosec // G115: a time after 1970
	sig := binary.BigEndian.AppendUint64(nil, t)
	return append(sig, ed25519.Sign(s.key, cosignatureV1Message(t, msg))...), nil
}

// NewCosigner returns a cosignature/v1 signer for a witness's secret key
// ("PRIVATE+KEY+name+hash+key", as note.GenerateKey writes). titular itself
// never cosigns; its tests' witness does.
func NewCosigner(skey string, now func() time.Time) (note.Signer, error) {
	name, seed, err := parseWitnessKey(strings.TrimSpace(skey), true)
	if err != nil {
		return nil, err
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	return cosigSigner{cosigVerifier: cosigVerifier{name: name, hash: cosignKeyHash(name, pub), pub: pub}, key: key, now: now}, nil
}

// CosignatureVerifierKey is the cosignature/v1 form (algorithm 0x04) of a
// witness's plain Ed25519 verifier key.
func CosignatureVerifierKey(vkey string) (string, error) {
	name, pub, err := parseWitnessKey(strings.TrimSpace(vkey), false)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s+%08x+%s", name, cosignKeyHash(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algEd25519CosignatureV1}, pub...))), nil
}

// parseWitnessKey returns a key's name and raw key: the Ed25519 public key,
// or with secret set the seed of "PRIVATE+KEY+…".
func parseWitnessKey(k string, secret bool) (string, []byte, error) {
	what, size := "witness public key", ed25519.PublicKeySize
	if secret {
		what, size = "witness secret key", ed25519.SeedSize
		rest, ok := strings.CutPrefix(k, "PRIVATE+KEY+")
		if !ok {
			return "", nil, fmt.Errorf("%s: must start with PRIVATE+KEY+", what)
		}
		k = rest
	}
	parts := strings.SplitN(k, "+", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 {
		return "", nil, fmt.Errorf("%s: expected name+hash+key (the witness's note verifier key)", what)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+size {
		return "", nil, fmt.Errorf("%s: the key part is not a base64 Ed25519 key", what)
	}
	if raw[0] != algEd25519 && raw[0] != algEd25519CosignatureV1 {
		return "", nil, errors.New(what + ": not an Ed25519 key (algorithm 0x01 or 0x04)")
	}
	return parts[0], raw[1:], nil
}
