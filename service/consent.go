package service

import (
	"context"
	"errors"
	"regexp"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Consent implements lgpd.v1.ConsentService: the purpose catalog with its
// versioned terms (Art. 8 §4, 9), titulares' consent status and history, and
// the webhook deliveries of propagation events (Art. 18 §6). Consents
// themselves are recorded by CONSENT requests (consent_request.go).
type Consent struct {
	tenants *tenant.Registry
}

var _ lgpdv1.ConsentServiceServer = (*Consent)(nil)

// NewConsent returns the consent service.
func NewConsent(tenants *tenant.Registry) *Consent { return &Consent{tenants: tenants} }

var (
	purposeIDPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	termVersionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
)

// maxTermBytes bounds a term's text; real terms are a few pages.
const maxTermBytes = 256 << 10

// currentAlias names the term in force in GetTerm; it cannot be a version.
const currentAlias = "current"

func checkPurposeID(id string) error {
	if !purposeIDPattern.MatchString(id) {
		return invalid("BAD_PURPOSE_ID", "purpose must be a purpose id: lower-case letters, digits and '_', 2 to 64 characters, e.g. marketing_email")
	}
	return nil
}

func purposeToProto(p *store.Purpose) *lgpdv1.Purpose {
	return &lgpdv1.Purpose{
		Id: p.ID, Name: p.Name, Description: p.Description, LegalBasis: p.LegalBasis,
		ConsentRequired: p.ConsentRequired, RefusalConsequences: p.RefusalConsequences,
		SharedWith: p.SharedWith, CurrentTermVersion: p.CurrentVersion, CurrentTermSha256: p.CurrentSHA256,
	}
}

func termToProto(t *store.Term) *lgpdv1.Term {
	out := &lgpdv1.Term{Purpose: t.PurposeID, Version: t.Version, Text: t.Text, TextSha256: t.SHA256, ValidFrom: ts(t.ValidFrom)}
	if t.ValidTo != nil {
		out.ValidTo = ts(*t.ValidTo)
	}
	return out
}

// ListPurposes lists the catalog with each purpose's current term version.
func (c *Consent) ListPurposes(ctx context.Context, in *lgpdv1.ListPurposesRequest) (*lgpdv1.ListPurposesResponse, error) {
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	ps, err := t.Store.Purposes(ctx)
	if err != nil {
		return nil, err
	}
	out := &lgpdv1.ListPurposesResponse{}
	for _, p := range ps {
		out.Purposes = append(out.Purposes, purposeToProto(p))
	}
	return out, nil
}

// CreatePurpose adds a purpose; its terms are published with PublishTerm.
func (c *Consent) CreatePurpose(ctx context.Context, in *lgpdv1.CreatePurposeRequest) (*lgpdv1.Purpose, error) {
	pr, _ := PrincipalFrom(ctx)
	p, err := purposeFromProto(in.GetPurpose())
	if err != nil {
		return nil, err
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	p.CreatedBy = pr.Name
	created, err := t.Store.CreatePurpose(ctx, p)
	if errors.Is(err, store.ErrDuplicate) {
		return nil, errorf(codes.AlreadyExists, "PURPOSE_EXISTS", "purpose %s already exists; purposes are never replaced, publish a new term version instead", p.ID)
	}
	if err != nil {
		return nil, err
	}
	return purposeToProto(created), nil
}

// purposeFromProto validates a purpose as the DPO describes it.
func purposeFromProto(in *lgpdv1.Purpose) (store.Purpose, error) {
	if in == nil {
		return store.Purpose{}, invalid("PURPOSE_REQUIRED", "purpose is required")
	}
	if err := checkPurposeID(in.GetId()); err != nil {
		return store.Purpose{}, err
	}
	switch {
	case in.GetName() == "" || len(in.GetName()) > 200:
		return store.Purpose{}, invalid("BAD_PURPOSE", "purpose.name is required, at most 200 bytes")
	case len(in.GetDescription()) > 4000 || len(in.GetRefusalConsequences()) > 4000:
		return store.Purpose{}, invalid("BAD_PURPOSE", "purpose.description and refusal_consequences hold at most 4000 bytes each")
	case in.GetCurrentTermVersion() != "" || in.GetCurrentTermSha256() != "":
		return store.Purpose{}, invalid("BAD_PURPOSE", "current_term_version is set by PublishTerm; leave it empty")
	case len(in.GetSharedWith()) > 50:
		return store.Purpose{}, invalid("BAD_PURPOSE", "purpose.shared_with lists at most 50 recipients")
	}
	if _, article := datamap.LegalBasisLabel(in.GetLegalBasis()); article == "" {
		return store.Purpose{}, invalid("BAD_LEGAL_BASIS", "purpose.legal_basis must be an LGPD art. 7 basis, e.g. consentimento, legitimo_interesse, execucao_contrato")
	}
	if in.GetConsentRequired() && in.GetRefusalConsequences() == "" {
		return store.Purpose{}, invalid("REFUSAL_CONSEQUENCES_REQUIRED", "a consent-based purpose must say what happens if the titular does not consent (LGPD art. 18 VIII)")
	}
	for i, r := range in.GetSharedWith() {
		if r == "" || len(r) > 200 {
			return store.Purpose{}, invalid("BAD_PURPOSE", "purpose.shared_with[%d] must be a recipient name of at most 200 bytes", i)
		}
	}
	return store.Purpose{
		ID: in.GetId(), Name: in.GetName(), Description: in.GetDescription(), LegalBasis: in.GetLegalBasis(),
		ConsentRequired: in.GetConsentRequired(), RefusalConsequences: in.GetRefusalConsequences(),
		SharedWith: in.GetSharedWith(),
	}, nil
}

// PublishTerm makes a new version of a purpose's terms current. The text's
// SHA-256 is computed here; grants from then on must name this version.
func (c *Consent) PublishTerm(ctx context.Context, in *lgpdv1.PublishTermRequest) (*lgpdv1.Term, error) {
	pr, _ := PrincipalFrom(ctx)
	if err := checkPurposeID(in.GetPurpose()); err != nil {
		return nil, err
	}
	switch v := in.GetVersion(); {
	case !termVersionPattern.MatchString(v) || v == currentAlias:
		return nil, invalid("BAD_TERM_VERSION", "version must be 1 to 32 letters, digits, '.', '_' or '-' (not %q), e.g. 3 or 2025-01", currentAlias)
	case in.GetText() == "" || len(in.GetText()) > maxTermBytes || !utf8.ValidString(in.GetText()):
		return nil, invalid("BAD_TERM_TEXT", "text is required: the full terms as shown to the titular, UTF-8, at most %d KiB", maxTermBytes>>10)
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	var term *store.Term
	err = t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		term, err = tx.PublishTerm(ctx, in.GetPurpose(), in.GetVersion(), in.GetText(), pr.Name)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errorf(codes.NotFound, "PURPOSE_NOT_FOUND", "purpose %s does not exist; create it first", in.GetPurpose())
	case errors.Is(err, store.ErrDuplicate):
		return nil, errorf(codes.AlreadyExists, "TERM_VERSION_EXISTS", "version %s of %s is already published; published terms never change, use a new version", in.GetVersion(), in.GetPurpose())
	case err != nil:
		return nil, err
	}
	return termToProto(term), nil
}

// GetTerm returns one published version (or "current") with its text.
func (c *Consent) GetTerm(ctx context.Context, in *lgpdv1.GetTermRequest) (*lgpdv1.Term, error) {
	if err := checkPurposeID(in.GetPurpose()); err != nil {
		return nil, err
	}
	version := in.GetVersion()
	if version != currentAlias && !termVersionPattern.MatchString(version) {
		return nil, invalid("BAD_TERM_VERSION", "version must be a published version or %q", currentAlias)
	}
	t, err := c.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	var term *store.Term
	if version == currentAlias {
		term, err = t.Store.CurrentTerm(ctx, in.GetPurpose())
	} else {
		term, err = t.Store.Term(ctx, in.GetPurpose(), version)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(codes.NotFound, "TERM_NOT_FOUND", "purpose %s has no published term %s", in.GetPurpose(), in.GetVersion())
	}
	if err != nil {
		return nil, err
	}
	return termToProto(term), nil
}
