package service

import (
	"context"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// PublishKeys sets the verifier keys GetPublicKey serves: vkey, the public
// half of the signing key, and previous, those of keys rotated out. They are
// the encoded forms ("name+hash+key") a titular passes to
// `titular receipt verify --key`, which a note.Verifier cannot give back.
func (l *Ledger) PublishKeys(vkey string, previous []string) {
	l.vkey, l.previousKeys = vkey, previous
}

// GetPublicKey returns the key that signs the tenant's checkpoints. It is
// public: with it anyone holding a receipt checks it offline.
func (l *Ledger) GetPublicKey(ctx context.Context, in *lgpdv1.GetPublicKeyRequest) (*lgpdv1.PublicKey, error) {
	t, err := l.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	if l.vkey == "" {
		return nil, errorf(codes.Unavailable, "NO_PUBLIC_KEY", "the server was started without publishing its ledger verifier key")
	}
	return &lgpdv1.PublicKey{VerifierKey: l.vkey, Origin: l.Origin(t.Config.ID), PreviousVerifierKeys: l.previousKeys}, nil
}
