package service

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// A caller with a titular-bound token (role titular) acts for the one
// person the token names: it creates requests and reads consents for that
// person only, and sees only that person's requests, exports and
// receipts. Another person's request answers NOT_FOUND, as a request that
// does not exist would: the token holder learns nothing of others.

// boundTitular reports whether the caller is titular-bound, and the person
// it is bound to (nil, owning nothing, should a token carry no claim).
func boundTitular(ctx context.Context) (*TitularClaim, bool) {
	p, ok := PrincipalFrom(ctx)
	if !ok || p.Role != config.RoleTitular {
		return nil, false
	}
	return p.Titular, true
}

func (c *TitularClaim) identifiers() store.Identifiers {
	if c == nil {
		return store.Identifiers{}
	}
	return store.Identifiers{CPF: c.CPF, Email: c.Email, Phone: c.Phone}
}

// owns reports whether every identifier ids carries is one the token
// verified (and ids carries at least one): a request naming an identifier
// the portal did not verify is not this titular's to see.
func (c *TitularClaim) owns(ids store.Identifiers) bool {
	mine, some := c.identifiers(), false
	for _, k := range []string{"cpf", "email", "phone"} {
		v := ids.Get(k)
		if v == "" {
			continue
		}
		if v != mine.Get(k) {
			return false
		}
		some = true
	}
	return some
}

// subjectFor normalizes the subject a call names. A titular-bound caller
// may leave it empty (the token's identifiers the tenant's map knows are
// used) and may name no one else.
func subjectFor(ctx context.Context, s *lgpdv1.Subject, t *tenant.Tenant) (store.Identifiers, error) {
	claim, bound := boundTitular(ctx)
	if bound && (s == nil || (s.GetCpf() == "" && s.GetEmail() == "" && s.GetPhone() == "")) {
		mine := claim.identifiers()
		s = &lgpdv1.Subject{}
		if slices.Contains(t.Map.Identifiers, "cpf") {
			s.Cpf = mine.CPF
		}
		if slices.Contains(t.Map.Identifiers, "email") {
			s.Email = mine.Email
		}
		if slices.Contains(t.Map.Identifiers, "phone") {
			s.Phone = mine.Phone
		}
	}
	ids, err := normalizeSubject(s, t.Map.Identifiers)
	if err != nil {
		return ids, err
	}
	if bound && !claim.owns(ids) {
		return ids, errorf(codes.PermissionDenied, "NOT_THIS_TITULAR",
			"a titular token acts only for the titular it names: send only identifiers the token carries, or none")
	}
	return ids, nil
}

// visible hides another titular's request from a titular-bound caller.
func visible(ctx context.Context, r *store.Request) error {
	if claim, bound := boundTitular(ctx); bound && !claim.owns(r.Subject) {
		return store.ErrNotFound
	}
	return nil
}

// scopeList limits a titular-bound caller's listing to its own requests.
func scopeList(ctx context.Context, t *tenant.Tenant, f *store.ListFilter) error {
	claim, bound := boundTitular(ctx)
	if !bound {
		return nil
	}
	refs, err := t.Store.SubjectRefs(ctx, claim.identifiers())
	if err != nil {
		return err
	}
	f.BySubject, f.SubjectRefs = true, refs
	return nil
}
