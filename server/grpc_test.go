package server

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// checkReflection lists services the way grpcurl does.
func checkReflection(t *testing.T, env *testEnv) {
	t.Helper()
	stream, err := rpb.NewServerReflectionClient(env.grpc).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"lgpd.v1.RequestService", "lgpd.v1.ConsentService", "lgpd.v1.LedgerService", "lgpd.v1.IncidentService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}

// rpcCall invokes one RPC of the contract for the authorization matrix.
type rpcCall struct {
	method string
	call   func(ctx context.Context, conn *grpc.ClientConn, tenant string) error
}

func allRPCs() []rpcCall {
	req := func(c *grpc.ClientConn) lgpdv1.RequestServiceClient { return lgpdv1.NewRequestServiceClient(c) }
	con := func(c *grpc.ClientConn) lgpdv1.ConsentServiceClient { return lgpdv1.NewConsentServiceClient(c) }
	led := func(c *grpc.ClientConn) lgpdv1.LedgerServiceClient { return lgpdv1.NewLedgerServiceClient(c) }
	inc := func(c *grpc.ClientConn) lgpdv1.IncidentServiceClient { return lgpdv1.NewIncidentServiceClient(c) }
	id := "00000000-0000-0000-0000-000000000000"
	subj := &lgpdv1.Subject{Cpf: "52998224725"}
	return []rpcCall{
		{"CreateRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: t, Kind: lgpdv1.RequestKind_CONFIRM, Subject: subj})
			return err
		}},
		{"GetRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: t, Id: id})
			return err
		}},
		{"ListRequests", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: t})
			return err
		}},
		{"ApproveRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).ApproveRequest(ctx, &lgpdv1.ApproveRequestRequest{Tenant: t, Id: id})
			return err
		}},
		{"VerifyRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).VerifyRequest(ctx, &lgpdv1.VerifyRequestRequest{Tenant: t, Id: id, Method: "gov.br", EvidenceRef: "GED-1"})
			return err
		}},
		{"LiftBlock", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).LiftBlock(ctx, &lgpdv1.LiftBlockRequest{Tenant: t, Id: id, Reason: "pedido do titular"})
			return err
		}},
		{"CompleteReview", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).CompleteReview(ctx, &lgpdv1.CompleteReviewRequest{Tenant: t, Id: id, Outcome: lgpdv1.ReviewResult_UPHELD,
				Reviewer: "Revisora", Criteria: "política de crédito v3"})
			return err
		}},
		{"GetRequestStats", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).GetRequestStats(ctx, &lgpdv1.GetRequestStatsRequest{Tenant: t})
			return err
		}},
		{"ListAccessLog", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).ListAccessLog(ctx, &lgpdv1.ListAccessLogRequest{Tenant: t})
			return err
		}},
		{"DenyRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).DenyRequest(ctx, &lgpdv1.DenyRequestRequest{Tenant: t, Id: id, Reasons: []*lgpdv1.Reason{{Code: "X", Message: "y"}}})
			return err
		}},
		{"CancelRequest", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).CancelRequest(ctx, &lgpdv1.CancelRequestRequest{Tenant: t, Id: id})
			return err
		}},
		{"DownloadExport", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			s, err := req(c).DownloadExport(ctx, &lgpdv1.DownloadExportRequest{Tenant: t, Id: id, Format: "json"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			if err == io.EOF {
				return nil
			}
			return err
		}},
		{"GetReceipt", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := req(c).GetReceipt(ctx, &lgpdv1.GetReceiptRequest{Tenant: t, Id: id})
			return err
		}},
		{"ListPurposes", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).ListPurposes(ctx, &lgpdv1.ListPurposesRequest{Tenant: t})
			return err
		}},
		{"CreatePurpose", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).CreatePurpose(ctx, &lgpdv1.CreatePurposeRequest{Tenant: t})
			return err
		}},
		{"PublishTerm", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).PublishTerm(ctx, &lgpdv1.PublishTermRequest{Tenant: t})
			return err
		}},
		{"SearchConsents", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: t, Subject: subj})
			return err
		}},
		{"ListConsentSubjects", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).ListConsentSubjects(ctx, &lgpdv1.ListConsentSubjectsRequest{Tenant: t})
			return err
		}},
		{"GetTerm", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).GetTerm(ctx, &lgpdv1.GetTermRequest{Tenant: t, Purpose: "marketing_email", Version: "current"})
			return err
		}},
		{"ListDeliveries", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).ListDeliveries(ctx, &lgpdv1.ListDeliveriesRequest{Tenant: t})
			return err
		}},
		{"RetryDeliveries", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := con(c).RetryDeliveries(ctx, &lgpdv1.RetryDeliveriesRequest{Tenant: t})
			return err
		}},
		{"GetCheckpoint", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := led(c).GetCheckpoint(ctx, &lgpdv1.GetCheckpointRequest{Tenant: t})
			return err
		}},
		{"ListEntries", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := led(c).ListEntries(ctx, &lgpdv1.ListEntriesRequest{Tenant: t})
			return err
		}},
		{"GetInclusionProof", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := led(c).GetInclusionProof(ctx, &lgpdv1.GetInclusionProofRequest{Tenant: t})
			return err
		}},
		{"GetConsistencyProof", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := led(c).GetConsistencyProof(ctx, &lgpdv1.GetConsistencyProofRequest{Tenant: t})
			return err
		}},
		{"GetPublicKey", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := led(c).GetPublicKey(ctx, &lgpdv1.GetPublicKeyRequest{Tenant: t})
			return err
		}},
		// The incident calls are incomplete or name no incident: the DPO
		// gets past authorization to a validation or NOT_FOUND answer and
		// nothing is registered.
		{"CreateIncident", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := inc(c).CreateIncident(ctx, &lgpdv1.CreateIncidentRequest{Tenant: t})
			return err
		}},
		{"GetIncident", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := inc(c).GetIncident(ctx, &lgpdv1.GetIncidentRequest{Tenant: t, Id: id})
			return err
		}},
		{"ListIncidents", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := inc(c).ListIncidents(ctx, &lgpdv1.ListIncidentsRequest{Tenant: t})
			return err
		}},
		{"UpdateIncident", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			measures := "senhas redefinidas"
			_, err := inc(c).UpdateIncident(ctx, &lgpdv1.UpdateIncidentRequest{Tenant: t, Id: id, Measures: &measures})
			return err
		}},
		{"NotifyIncident", func(ctx context.Context, c *grpc.ClientConn, t string) error {
			_, err := inc(c).NotifyIncident(ctx, &lgpdv1.NotifyIncidentRequest{Tenant: t, Id: id, Target: lgpdv1.NotifyTarget_ANPD, Protocol: "ANPD-1"})
			return err
		}},
	}
}

// TestAuthorizationMatrix calls every RPC with every role — API keys, staff
// signed in through two identity providers, and a titular-bound portal
// token — on the credential's own tenant and on a foreign one: denied roles
// get PERMISSION_DENIED, allowed roles get past authorization (any other
// answer), and no credential ever reaches a foreign tenant. The titular
// role is also tried on its own titular and on another one.
func TestAuthorizationMatrix(t *testing.T) {
	env := newTokenEnv(t)
	creds := map[string]struct{ role, bearer string }{
		"dpo key":     {"dpo", keyDPO},
		"backend key": {"backend", keyBackend},
		"auditor key": {"auditor", keyAuditor},
		"staff dpo (groups)": {"dpo", env.entra.Sign(t, staffToken(env.entra.URL,
			map[string]any{"groups": []string{"grp-dpo-demo"}}))},
		"staff auditor (realm roles)": {"auditor", env.keycloak.Sign(t, staffToken(env.keycloak.URL,
			map[string]any{"realm_access": map[string]any{"roles": []string{"titular-auditor"}}}))},
		"titular token": {"titular", env.demoPortal.Sign(t, portalToken("demo", env.titular, nil))},
	}
	rpcs := allRPCs()
	if len(rpcs) != len(methodNames()) {
		t.Fatalf("matrix covers %d RPCs, the contract has %d", len(rpcs), len(methodNames()))
	}
	for _, full := range methodNames() {
		name := full[strings.LastIndex(full, "/")+1:]
		if !slices.ContainsFunc(rpcs, func(rc rpcCall) bool { return rc.method == name }) {
			t.Errorf("the matrix does not call %s: add it to allRPCs and wantRoles", full)
		}
	}
	// The matrix's fixed subject is not the token's titular: these answer
	// the titular role NOT_THIS_TITULAR, checked below on its own titular.
	foreignSubject := map[string]bool{"CreateRequest": true, "SearchConsents": true}
	for _, rc := range rpcs {
		for name, c := range creds {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+c.bearer)
			err := rc.call(ctx, env.grpc, "demo")
			allowed := roleAllowed(t, rc.method, c.role)
			denied := status.Code(err) == codes.PermissionDenied || status.Code(err) == codes.Unauthenticated
			if c.role == "titular" && allowed && foreignSubject[rc.method] {
				if st := status.Convert(err); st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), "titular it names") {
					t.Errorf("%s as %s for another titular: %v, want NOT_THIS_TITULAR", rc.method, name, err)
				}
				continue
			}
			if allowed == denied {
				t.Errorf("%s as %s: allowed=%v but got %v", rc.method, name, allowed, err)
			}
			if err := rc.call(ctx, env.grpc, "other"); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s as %s on a foreign tenant: %v, want PERMISSION_DENIED", rc.method, name, err)
			}
		}
		if err := rc.call(context.Background(), env.grpc, "demo"); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without a key: %v, want UNAUTHENTICATED", rc.method, err)
		}
	}

	// The titular role on its own titular, and on a request of another.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+creds["titular token"].bearer)
	req, con := lgpdv1.NewRequestServiceClient(env.grpc), lgpdv1.NewConsentServiceClient(env.grpc)
	own, err := req.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM})
	if err != nil {
		t.Fatalf("titular token, own titular: %v", err)
	}
	if _, err := con.SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: "demo"}); err != nil {
		t.Errorf("titular token, own consents: %v", err)
	}
	var other seed.Scenario
	for _, s := range env.scenarios {
		if s.CPF != "" && s.CPF != env.titular.CPF {
			other = s
			break
		}
	}
	staff := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	theirs, err := req.CreateRequest(staff, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
		Subject: &lgpdv1.Subject{Cpf: other.CPF}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := req.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: own.GetId()}); err != nil {
		t.Errorf("titular token, own request: %v", err)
	}
	for name, call := range map[string]func() error{
		"GetRequest": func() error {
			_, err := req.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: theirs.GetId()})
			return err
		},
		"GetReceipt": func() error {
			_, err := req.GetReceipt(ctx, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: theirs.GetId()})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.NotFound {
			t.Errorf("titular token, %s of another titular's request: %v, want NOT_FOUND", name, err)
		}
	}
	list, err := req.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.GetRequests() {
		if r.GetId() == theirs.GetId() {
			t.Error("titular token lists another titular's request")
		}
	}
}

func methodNames() []string {
	var out []string
	for _, sd := range []grpc.ServiceDesc{lgpdv1.RequestService_ServiceDesc, lgpdv1.ConsentService_ServiceDesc,
		lgpdv1.LedgerService_ServiceDesc, lgpdv1.IncidentService_ServiceDesc} {
		for _, m := range sd.Methods {
			out = append(out, "/"+sd.ServiceName+"/"+m.MethodName)
		}
		for _, s := range sd.Streams {
			out = append(out, "/"+sd.ServiceName+"/"+s.StreamName)
		}
	}
	return out
}

// wantRoles is the authorization rule each RPC must enforce, written out
// here independently of the server's table.
var wantRoles = map[string][]string{
	"CreateRequest": {"dpo", "backend", "titular"}, "GetRequest": {"dpo", "backend", "auditor", "titular"},
	"ListRequests": {"dpo", "backend", "auditor", "titular"}, "ApproveRequest": {"dpo"}, "DenyRequest": {"dpo"}, "LiftBlock": {"dpo"},
	"CompleteReview": {"dpo"}, "VerifyRequest": {"dpo"}, "ListAccessLog": {"dpo", "auditor"}, "GetRequestStats": {"dpo", "auditor"},
	"CancelRequest": {"dpo", "backend"}, "DownloadExport": {"dpo", "backend", "titular"},
	"GetReceipt": {"dpo", "backend", "auditor", "titular"}, "ListPurposes": {"dpo", "backend", "auditor", "titular"},
	"CreatePurpose": {"dpo"}, "PublishTerm": {"dpo"}, "SearchConsents": {"dpo", "backend", "titular"},
	"ListConsentSubjects": {"dpo", "backend"}, "GetTerm": {"dpo", "backend", "auditor", "titular"},
	"ListDeliveries": {"dpo"}, "RetryDeliveries": {"dpo"}, "GetCheckpoint": {"dpo", "backend", "auditor"},
	"ListEntries": {"dpo", "auditor"}, "GetInclusionProof": {"dpo", "backend", "auditor"},
	"GetConsistencyProof": {"dpo", "backend", "auditor"}, "GetPublicKey": {"dpo", "backend", "auditor", "titular"},
	"CreateIncident": {"dpo"}, "GetIncident": {"dpo"}, "ListIncidents": {"dpo"}, "UpdateIncident": {"dpo"}, "NotifyIncident": {"dpo"},
}

func roleAllowed(t *testing.T, method, role string) bool {
	t.Helper()
	roles, ok := wantRoles[method]
	if !ok {
		t.Fatalf("no expected rule for %s", method)
	}
	return slices.Contains(roles, role)
}
