package store

import "context"

// ErasureActor is who records the revocations an erasure makes: a DELETE or
// ANONYMIZE ends every consent of the person (Art. 8 §5, 18 VI, 16), and the
// CONSENT requests that record it are titular's own, not the titular
// returning (ErasureCompletable skips them).
const ErasureActor = "titular:erasure"

// ConsentChannelErasure is the channel of a revocation by erasure.
const ConsentChannelErasure = "erasure"

// CurrentConsentsOf returns the person behind ref's current consent per
// purpose, across every reference of theirs (merged ones included), and the
// person's current reference.
func (r Reads) CurrentConsentsOf(ctx context.Context, ref string) (string, []ConsentRecord, error) {
	refs, err := personRefs(ctx, r.q, ref)
	if err != nil {
		return "", nil, err
	}
	history, err := r.ConsentHistory(ctx, refs)
	if err != nil {
		return "", nil, err
	}
	return refs[0], CurrentConsents(history), nil
}
