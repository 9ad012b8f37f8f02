package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/ledger"
)

// Tx is one read-write transaction on a tenant's database, as ReadWriteTx
// hands it to its callback: titular's records through its methods (grouped
// by domain in the *Records interfaces), and the CRM's rows through CRM(),
// for the executor (package crm), in the same transaction. Everything it
// did commits together or not at all.
type Tx struct {
	Reads
	s  *Store
	tx *sql.Tx
}

// CRM is the transaction for the CRM executor: its deletes, anonymizations
// and corrections commit or roll back with the records written here.
func (x *Tx) CRM() crm.Querier { return x.tx }

// Now is the store's clock.
func (x *Tx) Now() time.Time { return x.s.now() }

// Reads are the reads of titular's records that work inside a transaction
// (a Tx, a Snapshot) and outside one (the Store, each read on its own).
type Reads struct {
	s *Store
	q Querier
}

// Snapshot is a read-only transaction: one consistent view of the tenant's
// database (InnoDB's REPEATABLE READ) for a read that spans many statements,
// as an EXTRACT's walk and its consent receipt do. Close it when done.
type Snapshot struct {
	Reads
	tx *sql.Tx
}

// Snapshot opens a read-only transaction. InnoDB's default isolation,
// REPEATABLE READ, makes it one snapshot; asking for it explicitly would
// cost a `SET TRANSACTION ISOLATION LEVEL` round trip.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &Snapshot{Reads: Reads{s: s, q: tx}, tx: tx}, nil
}

// CRM is the snapshot for the CRM executor's reads (walks).
func (r *Snapshot) CRM() crm.Querier { return r.tx }

// Close ends the snapshot.
func (r *Snapshot) Close() { _ = r.tx.Rollback() } // read-only: nothing to lose

// CRM is the tenant's pool for the CRM executor's reads outside a
// transaction (each statement on its own).
func (s *Store) CRM() crm.Querier { return s.db }

// RequestRecords are the request queue's writes in a transaction.
type RequestRecords interface {
	InsertRequest(ctx context.Context, n NewRequest) (req *Request, created bool, err error)
	RequestsByIdempotencyKeys(ctx context.Context, keys []IdemKey) (map[IdemKey]*Request, error)
	Transition(ctx context.Context, id string, allowed []Status, to Status, actor, note string) (*Request, error)
	SetOutcome(ctx context.Context, id string, res *Result, reasons []Reason) error
	CheckLease(ctx context.Context, id, owner string) error
}

// LedgerRecords append to the tenant's ledger.
type LedgerRecords interface {
	AppendLeaf(ctx context.Context, l ledger.Leaf) error
}

// OutboxRecords queue webhook events for the tenant's endpoints.
type OutboxRecords interface {
	EnqueueEvent(ctx context.Context, e OutboxEvent, endpoints []string) (*OutboxEvent, error)
}

// ConsentRecords are purposes, terms and consent records.
type ConsentRecords interface {
	CreatePurpose(ctx context.Context, p Purpose) (*Purpose, error)
	PublishTerm(ctx context.Context, purposeID, version, text, by string) (*Term, error)
	PurposesForConsent(ctx context.Context, ids []string) (map[string]*Purpose, error)
	WriteConsentBatch(ctx context.Context, ws []ConsentWrite) ([]*Request, error)
	RecordConsent(ctx context.Context, rec *ConsentRecord) error
}

// ExportRecords hold the encrypted exports of EXTRACTs.
type ExportRecords interface {
	NewExportWriter(ctx context.Context, tenantKey []byte, requestID, format, contentType, filename string, ttl time.Duration) (*ExportWriter, error)
}

// ErasureRecords are what titular keeps of an erasure: blocked rows, and
// what it forgets of the titular (identifiers, exports, consent evidence).
type ErasureRecords interface {
	RecordErasure(ctx context.Context, requestID, subjectRef string, res *crm.DeleteResult, keep *datamap.Retention) (*DeleteOutcome, error)
	RecordAnonymization(ctx context.Context, requestID, subjectRef string, res *crm.AnonymizeResult) error
	ForgetSubject(ctx context.Context, ref string) (int64, error)
}

var (
	_ RequestRecords = (*Tx)(nil)
	_ LedgerRecords  = (*Tx)(nil)
	_ OutboxRecords  = (*Tx)(nil)
	_ ConsentRecords = (*Tx)(nil)
	_ ExportRecords  = (*Tx)(nil)
	_ ErasureRecords = (*Tx)(nil)
)

// InsertRequest records a new request (RECEIVED, or an idempotent replay of
// an earlier one: created false).
func (x *Tx) InsertRequest(ctx context.Context, n NewRequest) (req *Request, created bool, err error) {
	return x.s.insertRequest(ctx, x.tx, n)
}

// RequestsByIdempotencyKeys finds the requests already recorded under keys.
func (x *Tx) RequestsByIdempotencyKeys(ctx context.Context, keys []IdemKey) (map[IdemKey]*Request, error) {
	return x.s.requestsByIdempotencyKeys(ctx, x.tx, keys)
}

// Transition moves request id from one of allowed to `to`, with its event
// and ledger leaf.
func (x *Tx) Transition(ctx context.Context, id string, allowed []Status, to Status, actor, note string) (*Request, error) {
	r, err := x.s.getRequest(ctx, x.tx, id, true)
	if err != nil {
		return nil, err
	}
	return x.s.transition(ctx, x.tx, r, allowed, to, actor, note)
}

// SetOutcome stores a request's result and reasons.
func (x *Tx) SetOutcome(ctx context.Context, id string, res *Result, reasons []Reason) error {
	return x.s.setOutcome(ctx, x.tx, id, res, reasons)
}

// CheckLease locks request id and checks owner still holds its lease: a
// worker whose lease expired writes nothing.
func (x *Tx) CheckLease(ctx context.Context, id, owner string) error {
	_, err := x.s.checkLease(ctx, x.tx, id, owner)
	return err
}

// AppendLeaf appends a leaf to the ledger's pending queue.
func (x *Tx) AppendLeaf(ctx context.Context, l ledger.Leaf) error {
	return x.s.appendLeaf(ctx, x.tx, l)
}

// EnqueueEvent queues a webhook event for endpoints.
func (x *Tx) EnqueueEvent(ctx context.Context, e OutboxEvent, endpoints []string) (*OutboxEvent, error) {
	return x.s.enqueueEvent(ctx, x.tx, e, endpoints)
}

// PublishTerm publishes a new version of a purpose's term.
func (x *Tx) PublishTerm(ctx context.Context, purposeID, version, text, by string) (*Term, error) {
	return x.s.publishTerm(ctx, x.tx, purposeID, version, text, by)
}

// PurposesForConsent reads and locks the purposes a batch of consents names.
func (x *Tx) PurposesForConsent(ctx context.Context, ids []string) (map[string]*Purpose, error) {
	return x.s.purposesForConsent(ctx, x.tx, ids)
}

// WriteConsentBatch records a batch of CONSENT requests with their consent
// records, events, ledger leaves and outbox rows.
func (x *Tx) WriteConsentBatch(ctx context.Context, ws []ConsentWrite) ([]*Request, error) {
	return x.s.writeConsentBatch(ctx, x.tx, ws)
}

// RecordConsent appends one consent record.
func (x *Tx) RecordConsent(ctx context.Context, rec *ConsentRecord) error {
	return x.s.recordConsent(ctx, x.tx, rec)
}

// ClearConsentEvidence clears the evidence of refs' consent records.
func (x *Tx) ClearConsentEvidence(ctx context.Context, refs []string) (int64, error) {
	return x.s.clearConsentEvidence(ctx, x.tx, refs)
}

// ReleaseConsentEvidence clears ref's consent evidence, or keeps it as proof
// under keep.
func (x *Tx) ReleaseConsentEvidence(ctx context.Context, ref string, keep *datamap.Retention) (*EvidenceHold, error) {
	return x.s.releaseConsentEvidence(ctx, x.tx, ref, keep)
}

// NewExportWriter starts an encrypted export of request requestID.
func (x *Tx) NewExportWriter(ctx context.Context, tenantKey []byte, requestID, format, contentType, filename string, ttl time.Duration) (*ExportWriter, error) {
	return x.s.newExportWriter(ctx, x.tx, tenantKey, requestID, format, contentType, filename, ttl)
}

// ForgetSubject unlinks ref from the titular's identifiers (subject index).
func (x *Tx) ForgetSubject(ctx context.Context, ref string) (int64, error) {
	return x.s.forgetSubject(ctx, x.tx, ref)
}
