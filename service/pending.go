package service

import (
	"context"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// Consent answers UNIMPLEMENTED, naming what is missing, until the consent
// catalog lands. Its RPCs are part of the contract already.
type Consent struct{}

var _ lgpdv1.ConsentServiceServer = Consent{}

func consentMissing() error {
	return errorf(codes.Unimplemented, "NOT_IMPLEMENTED", "consent is not implemented yet: purposes, versioned terms and consent records have not landed")
}

// ListPurposes is not implemented yet.
func (Consent) ListPurposes(context.Context, *lgpdv1.ListPurposesRequest) (*lgpdv1.ListPurposesResponse, error) {
	return nil, consentMissing()
}

// CreatePurpose is not implemented yet.
func (Consent) CreatePurpose(context.Context, *lgpdv1.CreatePurposeRequest) (*lgpdv1.Purpose, error) {
	return nil, consentMissing()
}

// PublishTerm is not implemented yet.
func (Consent) PublishTerm(context.Context, *lgpdv1.PublishTermRequest) (*lgpdv1.Term, error) {
	return nil, consentMissing()
}

// SearchConsents is not implemented yet.
func (Consent) SearchConsents(context.Context, *lgpdv1.SearchConsentsRequest) (*lgpdv1.SearchConsentsResponse, error) {
	return nil, consentMissing()
}

// ListConsentSubjects is not implemented yet.
func (Consent) ListConsentSubjects(context.Context, *lgpdv1.ListConsentSubjectsRequest) (*lgpdv1.ListConsentSubjectsResponse, error) {
	return nil, consentMissing()
}

// Ledger answers UNIMPLEMENTED until the Merkle ledger lands.
type Ledger struct{}

var _ lgpdv1.LedgerServiceServer = Ledger{}

func ledgerMissing() error {
	return errorf(codes.Unimplemented, "NOT_IMPLEMENTED", "the ledger is not implemented yet: the Merkle log, checkpoints and proofs have not landed")
}

// GetCheckpoint is not implemented yet.
func (Ledger) GetCheckpoint(context.Context, *lgpdv1.GetCheckpointRequest) (*lgpdv1.Checkpoint, error) {
	return nil, ledgerMissing()
}

// ListEntries is not implemented yet.
func (Ledger) ListEntries(context.Context, *lgpdv1.ListEntriesRequest) (*lgpdv1.ListEntriesResponse, error) {
	return nil, ledgerMissing()
}

// GetInclusionProof is not implemented yet.
func (Ledger) GetInclusionProof(context.Context, *lgpdv1.GetInclusionProofRequest) (*lgpdv1.InclusionProof, error) {
	return nil, ledgerMissing()
}

// GetConsistencyProof is not implemented yet.
func (Ledger) GetConsistencyProof(context.Context, *lgpdv1.GetConsistencyProofRequest) (*lgpdv1.ConsistencyProof, error) {
	return nil, ledgerMissing()
}
