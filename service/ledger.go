package service

import (
	"context"
	"errors"
	"log/slog"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// maxEntriesPerCall bounds ListEntries.
const maxEntriesPerCall = 1000

// Ledger implements lgpd.v1.LedgerService and the sequencer and checkpoint
// steps the fleet scheduler runs for each tenant.
type Ledger struct {
	tenants  *tenant.Registry
	signer   note.Signer
	verifier note.Verifier
	previous []note.Verifier
	host     string
	log      *slog.Logger
	// vkey and previousKeys are the encoded verifier keys GetPublicKey
	// serves (see PublishKeys).
	vkey         string
	previousKeys []string
	// OnSize, when set before use, is told a tenant's tree size after an
	// integration that grew it (the ledger-size metric).
	OnSize func(tenant string, size int64)
}

var _ lgpdv1.LedgerServiceServer = (*Ledger)(nil)

// NewLedger returns the ledger service. signer signs checkpoints of origin
// "<host>/ledger/<tenant>"; verifier is its public half, and previous the
// verifiers of signing keys rotated out, whose checkpoints it extends.
func NewLedger(tenants *tenant.Registry, signer note.Signer, verifier note.Verifier, previous []note.Verifier, host string, log *slog.Logger) *Ledger {
	return &Ledger{tenants: tenants, signer: signer, verifier: verifier, previous: previous, host: host, log: log}
}

// Origin is the checkpoint origin of a tenant's ledger.
func (l *Ledger) Origin(tenantID string) string { return ledger.Origin(l.host, tenantID) }

// Checkpoint integrates pending leaves and returns a signed checkpoint of
// the tenant's current tree, writing one when the tree grew.
func (l *Ledger) Checkpoint(ctx context.Context, t *tenant.Tenant) (store.StoredCheckpoint, error) {
	cp, err := t.Store.Checkpoint(ctx, l.signer, l.verifier, l.Origin(t.Config.ID), l.previous...)
	if errors.Is(err, store.ErrLedgerInconsistent) {
		l.log.ErrorContext(ctx, "ledger: refusing to sign a checkpoint", "tenant", t.Config.ID, "error", logsafe.Error(err))
		return cp, errorf(codes.DataLoss, "LEDGER_INCONSISTENT", "the tenant's ledger does not extend its last signed checkpoint; the operator must run titular ledger verify")
	}
	return cp, err
}

// covering returns a stored checkpoint that includes entry index, signing a
// new one when the latest is older than the entry.
func (l *Ledger) covering(ctx context.Context, t *tenant.Tenant, index uint64) (store.StoredCheckpoint, error) {
	cp, err := t.Store.LatestCheckpoint(ctx)
	if err == nil && cp.Size > index {
		return cp, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return cp, err
	}
	return l.Checkpoint(ctx, t)
}

func checkpointProto(origin string, cp store.StoredCheckpoint) *lgpdv1.Checkpoint {
	return &lgpdv1.Checkpoint{Origin: origin, Size: cp.Size, RootHash: cp.Root, Note: cp.Note, CreatedAt: timestamppb.New(cp.CreatedAt)}
}

// GetCheckpoint returns the latest signed checkpoint, current as of the call.
func (l *Ledger) GetCheckpoint(ctx context.Context, in *lgpdv1.GetCheckpointRequest) (*lgpdv1.Checkpoint, error) {
	t, err := l.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	cp, err := l.Checkpoint(ctx, t)
	if err != nil {
		return nil, err
	}
	return checkpointProto(l.Origin(t.Config.ID), cp), nil
}

// ListEntries returns the entries in [start, end); end 0 means up to 100
// entries, at most to the end of the ledger. The read is recorded in the
// access log (ledger.read); GetInclusionProof, GetConsistencyProof and
// GetCheckpoint return hashes only and are not.
func (l *Ledger) ListEntries(ctx context.Context, in *lgpdv1.ListEntriesRequest) (*lgpdv1.ListEntriesResponse, error) {
	t, head, err := l.head(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	a, err := accessFor(ctx, t)
	if err != nil {
		return nil, err
	}
	start, end := in.GetStart(), in.GetEnd()
	if end == 0 {
		end = min(start+100, head.Size)
	}
	switch {
	case start > end:
		return nil, invalid("BAD_RANGE", "start must not exceed end")
	case end-start > maxEntriesPerCall:
		return nil, invalid("RANGE_TOO_LARGE", "at most %d entries per call; page with start and end", maxEntriesPerCall)
	case end > head.Size:
		return nil, errorf(codes.OutOfRange, "BEYOND_LEDGER", "end %d is beyond the ledger's %d entries", end, head.Size)
	}
	entries, err := t.Store.LedgerEntries(ctx, start, end)
	if err != nil {
		return nil, err
	}
	// Leaves name requests, subject references and events: the read is
	// recorded before they leave. Proofs and checkpoints are hashes and
	// reveal no entry, so they are not recorded.
	if err := a.record(ctx, t, store.AccessLedgerRead, "", ""); err != nil {
		return nil, err
	}
	out := &lgpdv1.ListEntriesResponse{}
	for _, e := range entries {
		out.Entries = append(out.Entries, &lgpdv1.LedgerEntry{Index: e.Seq, Leaf: e.Leaf, LeafHash: e.LeafHash})
	}
	return out, nil
}

// head opens the tenant, integrates pending leaves, so reads see every
// committed change, and returns the tree head.
func (l *Ledger) head(ctx context.Context, tenantID string) (*tenant.Tenant, ledger.Head, error) {
	t, err := l.tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, ledger.Head{}, err
	}
	if _, err := t.Store.Integrate(ctx); err != nil {
		return nil, ledger.Head{}, err
	}
	head, err := t.Store.LedgerHead(ctx)
	return t, head, err
}

// GetInclusionProof proves an entry is in the tree of tree_size entries;
// tree_size 0 means the latest checkpoint covering the entry.
func (l *Ledger) GetInclusionProof(ctx context.Context, in *lgpdv1.GetInclusionProofRequest) (*lgpdv1.InclusionProof, error) {
	t, head, err := l.head(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	index, size := in.GetIndex(), in.GetTreeSize()
	if index >= head.Size {
		return nil, errorf(codes.OutOfRange, "BEYOND_LEDGER", "entry %d is beyond the ledger's %d entries", index, head.Size)
	}
	if size == 0 {
		cp, err := l.covering(ctx, t, index)
		if err != nil {
			return nil, err
		}
		size = cp.Size
	}
	switch {
	case size > head.Size:
		return nil, errorf(codes.OutOfRange, "BEYOND_LEDGER", "tree_size %d is beyond the ledger's %d entries", size, head.Size)
	case index >= size:
		return nil, invalid("BAD_INDEX", "index must be below tree_size")
	}
	proof, err := t.Store.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, err
	}
	return &lgpdv1.InclusionProof{Index: index, TreeSize: size, Hashes: proof}, nil
}

// GetConsistencyProof proves the tree of first entries is a prefix of the
// tree of second; second 0 means the latest checkpoint.
func (l *Ledger) GetConsistencyProof(ctx context.Context, in *lgpdv1.GetConsistencyProofRequest) (*lgpdv1.ConsistencyProof, error) {
	t, head, err := l.head(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	first, second := in.GetFirst(), in.GetSecond()
	if second == 0 {
		cp, err := l.Checkpoint(ctx, t)
		if err != nil {
			return nil, err
		}
		second = cp.Size
	}
	switch {
	case second > head.Size:
		return nil, errorf(codes.OutOfRange, "BEYOND_LEDGER", "second %d is beyond the ledger's %d entries", second, head.Size)
	case first > second:
		return nil, invalid("BAD_RANGE", "first must not exceed second")
	}
	proof, err := t.Store.ConsistencyProof(ctx, first, second)
	if err != nil {
		return nil, err
	}
	return &lgpdv1.ConsistencyProof{First: first, Second: second, Hashes: proof}, nil
}

// Receipt returns the request's latest leaf (its final one once the request
// is done), a signed checkpoint covering it and the inclusion proof between
// them: what a titular needs to check offline that the request was recorded.
func (l *Ledger) Receipt(ctx context.Context, t *tenant.Tenant, requestID string) (*lgpdv1.Receipt, error) {
	if _, err := t.Store.Integrate(ctx); err != nil {
		return nil, err
	}
	e, err := t.Store.LastRequestEntry(ctx, requestID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(codes.NotFound, "NO_LEDGER_ENTRY", "the request has no ledger entry: it was created before the ledger existed")
	}
	if err != nil {
		return nil, err
	}
	cp, err := l.covering(ctx, t, e.Seq)
	if err != nil {
		return nil, err
	}
	proof, err := t.Store.InclusionProof(ctx, e.Seq, cp.Size)
	if err != nil {
		return nil, err
	}
	return &lgpdv1.Receipt{RequestId: requestID, LeafIndex: e.Seq, Leaf: e.Leaf, Checkpoint: cp.Note, InclusionProof: proof}, nil
}

// Sequence integrates the tenant's pending leaves into its tree (the
// sequencer's one step) and says how many it integrated.
func (l *Ledger) Sequence(ctx context.Context, t *tenant.Tenant) (int, error) {
	n, err := t.Store.Integrate(ctx)
	if err != nil || n == 0 || l.OnSize == nil {
		return n, err
	}
	h, err := t.Store.LedgerHead(ctx)
	if err == nil {
		l.OnSize(t.Config.ID, int64(h.Size)) //nolint:gosec // G115: a ledger holds fewer than 2^63 leaves
	}
	return n, err
}
