package service

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
)

// TestIncidentAuthorization: every IncidentService RPC has a rule, and only
// the DPO passes it, on its own tenant; backend, auditor, portal and
// titular credentials are refused before the handler.
func TestIncidentAuthorization(t *testing.T) {
	t.Parallel()
	keys := []config.APIKey{
		{Name: "dpo", Role: config.RoleDPO, Tenants: []string{"demo"}, KeySHA256: sha("inc-dpo")},
		{Name: "backend", Role: config.RoleBackend, Tenants: []string{"demo"}, KeySHA256: sha("inc-backend")},
		{Name: "auditor", Role: config.RoleAuditor, Tenants: []string{"demo"}, KeySHA256: sha("inc-auditor")},
		{Name: "portal", Role: config.RolePortal, Tenants: []string{"demo"}, KeySHA256: sha("inc-portal")},
		{Name: "titular", Role: config.RoleTitular, Tenants: []string{"demo"}, KeySHA256: sha("inc-titular")},
	}
	a := NewAuthenticator(keys, func(id string) bool { return id == "demo" || id == "other" })
	desc := lgpdv1.IncidentService_ServiceDesc
	if len(desc.Methods) != 5 || len(desc.Streams) != 0 {
		t.Fatalf("IncidentService has %d methods and %d streams; update this test", len(desc.Methods), len(desc.Streams))
	}
	for _, m := range desc.Methods {
		full := "/" + desc.ServiceName + "/" + m.MethodName
		for _, c := range []struct {
			key, tenant string
			want        codes.Code
		}{
			{"inc-dpo", "demo", codes.OK}, {"inc-dpo", "other", codes.PermissionDenied},
			{"inc-backend", "demo", codes.PermissionDenied}, {"inc-auditor", "demo", codes.PermissionDenied},
			{"inc-portal", "demo", codes.PermissionDenied}, {"inc-titular", "demo", codes.PermissionDenied},
		} {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+c.key))
			reached := false
			_, err := a.Unary()(ctx, &lgpdv1.GetIncidentRequest{Tenant: c.tenant}, &grpc.UnaryServerInfo{FullMethod: full},
				func(ctx context.Context, _ any) (any, error) {
					p, _ := PrincipalFrom(ctx)
					reached = p != nil && p.Role == config.RoleDPO
					return nil, nil
				})
			if status.Code(err) != c.want || reached != (c.want == codes.OK) {
				t.Errorf("%s with %s on %s: %v (handler reached: %v); want %s", m.MethodName, c.key, c.tenant, err, reached, c.want)
			}
		}
	}
}
