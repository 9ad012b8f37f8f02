package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc/codes"

	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// maxNameRunes bounds a caller's name taken from a token.
const maxNameRunes = 200

// staffIssuer is one auth.oidc entry with its keys.
type staffIssuer struct {
	cfg  config.OIDCIssuer
	keys keySet
}

// verify checks a staff token's signature and claims and maps them to a
// principal: the name claim (then email, then sub) as its name, the roles
// claim's values to a role and tenants.
func (s *staffIssuer) verify(ctx context.Context, raw string) (*service.Principal, error) {
	payload, err := s.keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, signatureError(err)
	}
	var c jwt.Claims
	var all map[string]any
	if err := decodeVerified(payload, nil, &c, false); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return nil, invalid("the token's claims do not decode")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.cfg.Issuer, AnyAudience: jwt.Audience{s.cfg.Audience}}, leeway); err != nil {
		return nil, claimsError(err, s.cfg.Audience)
	}
	name := callerName(all, s.cfg.NameClaim)
	if name == "" {
		return nil, invalid("the token names no caller: it has none of the claims %s, email or sub as a short printable string", s.cfg.NameClaim)
	}
	role, tenants := grant(claimStrings(claimAt(all, s.cfg.RolesClaim)), s.cfg.Roles)
	if role == "" {
		return nil, &service.Error{Code: codes.PermissionDenied, Reason: "NO_ROLE",
			Msg: "the token is valid, but no value of its " + s.cfg.RolesClaim + " claim is mapped to a titular role in auth.oidc " +
				s.cfg.Name + ".roles; ask the administrator to add you to a mapped group or role"}
	}
	return service.NewPrincipal(name, role, tenants), nil
}

// callerName is the first of claim, email and sub holding a usable name.
func callerName(all map[string]any, claim string) string {
	for _, c := range []string{claim, "email", "sub"} {
		s, ok := all[c].(string)
		s = strings.TrimSpace(s)
		if !ok || s == "" || utf8.RuneCountInString(s) > maxNameRunes || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			continue
		}
		return s
	}
	return ""
}

// claimAt finds a claim by name, or by a dotted path into nested objects
// (realm_access.roles); a top-level claim whose name holds dots (a
// namespaced claim such as https://example.com/roles) wins over the path.
func claimAt(all map[string]any, path string) any {
	if v, ok := all[path]; ok {
		return v
	}
	var cur any = all
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimStrings is a claim's string values: a list's strings, or a single
// string.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// grant maps the caller's claim values to one role and its tenants: of
// the entries whose value the caller holds, the most privileged role in
// config.RoleOrder wins, with the union of the tenants its entries grant.
// Entries of less privileged roles add nothing: a principal has one role.
func grant(values []string, roles []config.OIDCRole) (string, []string) {
	best := len(config.RoleOrder)
	for _, r := range roles {
		if i := slices.Index(config.RoleOrder, r.Role); i >= 0 && i < best && slices.Contains(values, r.Value) {
			best = i
		}
	}
	if best == len(config.RoleOrder) {
		return "", nil
	}
	role := config.RoleOrder[best]
	var tenants []string
	for _, r := range roles {
		if r.Role == role && slices.Contains(values, r.Value) {
			tenants = append(tenants, r.Tenants...)
		}
	}
	slices.Sort(tenants)
	return role, slices.Compact(tenants)
}
