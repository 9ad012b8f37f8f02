package service

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
)

// TestAuthorizationRules calls the authenticator's interceptors for every
// RPC of the four services with every role, on the key's own tenant, a
// foreign one, an unknown one and none: only the roles DESIGN.md gives an
// RPC reach its handler, with the caller in the context; every other call
// is refused before it. An RPC added without a rule is refused (NO_RULE),
// so this table must grow with the API.
func TestAuthorizationRules(t *testing.T) {
	t.Parallel()
	const (
		dpo, backend, auditor = config.RoleDPO, config.RoleBackend, config.RoleAuditor
	)
	allowed := map[string][]string{
		"CreateRequest": {dpo, backend}, "GetRequest": {dpo, backend, auditor}, "ListRequests": {dpo, backend, auditor},
		"ApproveRequest": {dpo}, "VerifyRequest": {dpo}, "DenyRequest": {dpo}, "LiftBlock": {dpo}, "CompleteReview": {dpo}, "CancelRequest": {dpo, backend}, "DownloadExport": {dpo, backend},
		"GetReceipt": {dpo, backend, auditor}, "ListAccessLog": {dpo, auditor}, "GetRequestStats": {dpo, auditor},
		"ListPurposes": {dpo, backend, auditor}, "CreatePurpose": {dpo}, "PublishTerm": {dpo}, "SearchConsents": {dpo, backend},
		"ListConsentSubjects": {dpo, backend}, "GetTerm": {dpo, backend, auditor}, "ListDeliveries": {dpo}, "RetryDeliveries": {dpo},
		"GetCheckpoint": {dpo, auditor, backend}, "ListEntries": {dpo, auditor},
		"GetInclusionProof": {dpo, auditor, backend}, "GetConsistencyProof": {dpo, auditor, backend},
		// The public key is what a titular checks a receipt with; the role
		// has no key here, so only the three key roles are tried.
		"GetPublicKey":   {dpo, auditor, backend},
		"CreateIncident": {dpo}, "GetIncident": {dpo}, "ListIncidents": {dpo}, "UpdateIncident": {dpo}, "NotifyIncident": {dpo},
	}
	keys := []config.APIKey{
		{Name: "dpo", Role: dpo, Tenants: []string{"demo"}, KeySHA256: sha(keyDPO)},
		{Name: "backend", Role: backend, Tenants: []string{"demo"}, KeySHA256: sha(keyBackend)},
		{Name: "auditor", Role: auditor, Tenants: []string{"demo"}, KeySHA256: sha(keyAuditor)},
		{Name: "operator", Role: dpo, Tenants: []string{"*"}, KeySHA256: sha("svc-test-all-tenants")},
		{Name: "broken", Role: dpo, Tenants: []string{"demo"}, KeySHA256: "not-hex"},
	}
	known := func(id string) bool { return id == "demo" || id == "other" }
	a := NewAuthenticator(keys, known)

	// run calls method through the interceptor matching its kind with a
	// message for tenant and reports the error, and the principal the
	// handler saw.
	run := func(desc *grpc.ServiceDesc, method, key, tenant string) (*Principal, error) {
		ctx := context.Background()
		if key != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+key))
		}
		full := "/" + desc.ServiceName + "/" + method
		var seen *Principal
		if slices.ContainsFunc(desc.Streams, func(s grpc.StreamDesc) bool { return s.StreamName == method }) {
			ss := &fakeStream{ctx: ctx, in: &lgpdv1.DownloadExportRequest{Tenant: tenant, Id: "00000000-0000-0000-0000-000000000000", Format: "json"}}
			err := a.Stream()(nil, ss, &grpc.StreamServerInfo{FullMethod: full, IsServerStream: true}, func(_ any, s grpc.ServerStream) error {
				var in lgpdv1.DownloadExportRequest
				if err := s.RecvMsg(&in); err != nil {
					return err
				}
				seen, _ = PrincipalFrom(s.Context())
				return nil
			})
			return seen, err
		}
		// Every unary request of the API names its tenant in field "tenant".
		req := &lgpdv1.ListRequestsRequest{Tenant: tenant}
		_, err := a.Unary()(ctx, req, &grpc.UnaryServerInfo{FullMethod: full}, func(ctx context.Context, _ any) (any, error) {
			seen, _ = PrincipalFrom(ctx)
			return nil, nil
		})
		return seen, err
	}
	byRole := map[string]string{dpo: keyDPO, backend: keyBackend, auditor: keyAuditor}
	for _, desc := range []*grpc.ServiceDesc{&lgpdv1.RequestService_ServiceDesc, &lgpdv1.ConsentService_ServiceDesc,
		&lgpdv1.LedgerService_ServiceDesc, &lgpdv1.IncidentService_ServiceDesc} {
		var methods []string
		for _, m := range desc.Methods {
			methods = append(methods, m.MethodName)
		}
		for _, s := range desc.Streams {
			methods = append(methods, s.StreamName)
		}
		for _, m := range methods {
			roles, ok := allowed[m]
			if !ok {
				t.Errorf("%s has no expectation here: add its roles to the table (and to methodRoles)", m)
				continue
			}
			for role, key := range byRole {
				p, err := run(desc, m, key, "demo")
				switch want := slices.Contains(roles, role); {
				case want && (err != nil || p == nil || p.Role != role || p.Name != role):
					t.Errorf("%s as %s: %v, principal %+v; want it allowed", m, role, err, p)
				case !want && status.Code(err) != codes.PermissionDenied:
					t.Errorf("%s as %s: %v; want PERMISSION_DENIED", m, role, err)
				case !want && p != nil:
					t.Errorf("%s as %s reached the handler", m, role)
				}
				if !slices.Contains(roles, role) {
					continue
				}
				for tenant, code := range map[string]codes.Code{"other": codes.PermissionDenied, "nowhere": codes.NotFound, "": codes.InvalidArgument} {
					if p, err := run(desc, m, key, tenant); status.Code(err) != code || p != nil {
						t.Errorf("%s as %s on tenant %q: %v; want %s", m, role, tenant, err, code)
					}
				}
			}
			// A key for every tenant reaches both.
			for _, tenant := range []string{"demo", "other"} {
				if slices.Contains(roles, dpo) {
					if _, err := run(desc, m, "svc-test-all-tenants", tenant); err != nil {
						t.Errorf("%s on %s with a '*' key: %v", m, tenant, err)
					}
				}
			}
		}
	}
	// No rule, no call; health checks need no key; a malformed hash in the
	// config matches no key.
	_, err := a.Unary()(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+keyDPO)), nil,
		&grpc.UnaryServerInfo{FullMethod: "/lgpd.v1.RequestService/PurgeEverything"}, func(context.Context, any) (any, error) { return nil, nil })
	wantCode(t, err, codes.PermissionDenied, "NO_RULE")
	reached := false
	if _, err := a.Unary()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"},
		func(context.Context, any) (any, error) { reached = true; return nil, nil }); err != nil || !reached {
		t.Errorf("health check: %v, reached %v", err, reached)
	}
	reached = false
	if err := a.Stream()(nil, &fakeStream{ctx: context.Background()}, &grpc.StreamServerInfo{FullMethod: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"},
		func(any, grpc.ServerStream) error { reached = true; return nil }); err != nil || !reached {
		t.Errorf("reflection: %v, reached %v", err, reached)
	}
	_, err = a.Unary()(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer not-hex")), nil,
		&grpc.UnaryServerInfo{FullMethod: listMethod}, func(context.Context, any) (any, error) { return nil, nil })
	wantCode(t, err, codes.Unauthenticated, "INVALID_CREDENTIALS")
	_, err = a.Unary()(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Basic "+keyDPO)), nil,
		&grpc.UnaryServerInfo{FullMethod: listMethod}, func(context.Context, any) (any, error) { return nil, nil })
	wantCode(t, err, codes.Unauthenticated, "MISSING_CREDENTIALS")
}
