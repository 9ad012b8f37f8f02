package store

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/titular/titular/ledger"
)

// Age bands of a titular under 18 (LGPD art. 14; ECA art. 2).
const (
	// MinorChild is a titular under 12: a consent for them is a parent's
	// or legal guardian's (Art. 14 §1).
	MinorChild = "crianca"
	// MinorAdolescent is a titular aged 12 to 17.
	MinorAdolescent = "adolescente"
)

// representationDigests are what a request's first ledger leaf says about
// who acted for the titular: "minor.<band>" when the titular is under 18,
// and "representative.<relation>" with a keyed digest of the
// representative's relation, name and document reference when one acted.
// The leaf names no one: the relation and the band are no personal data,
// and the digest is keyed with the tenant's subject key, since a plain hash
// of a name is found by trying names. The DPO, holding the key, can show
// which representative the leaf committed to.
func (s *Store) representationDigests(band string, rep *Representative) []ledger.Digest {
	var out []ledger.Digest
	if band != "" {
		out = append(out, ledger.Digest{Name: "minor." + band, SHA256: sha256.Sum256([]byte("minor\x00" + band))})
	}
	if rep != nil {
		d := ledger.Digest{Name: "representative." + rep.Relation}
		m := hmac.New(sha256.New, s.subjectKey)
		m.Write([]byte("representative\x00" + rep.Relation + "\x00" + rep.Name + "\x00" + rep.DocumentRef))
		copy(d.SHA256[:], m.Sum(nil))
		out = append(out, d)
	}
	return out
}

// RepresentationDigests is representationDigests for tests and audits:
// what a request's first leaf should carry for band and rep.
func (s *Store) RepresentationDigests(band string, rep *Representative) []ledger.Digest {
	return s.representationDigests(band, rep)
}
