package server

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/ledger"
)

// withApproval makes the demo tenant's policy hold DELETEs for the DPO.
func withApproval(y string) string {
	return strings.Replace(y, "{id: demo, ", "{id: demo, policy: {approval_required: [DELETE]}, ", 1)
}

// history is a request's recorded state changes, oldest first.
func history(t *testing.T, db *sql.DB, id string) []string {
	t.Helper()
	return queryStrings(t, db, "SELECT to_status FROM lgpd_request_events WHERE request_id = ? ORDER BY id", id)
}

// queryStrings is the one string column of every row query returns, in order.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestApprovalHoldsThenRuns: under a policy that holds DELETEs, a DELETE
// waits in AWAITING_APPROVAL, untouched by the workers, until the DPO
// approves it over REST; then it runs. Only the DPO approves, and only what
// is waiting.
func TestApprovalHoldsThenRuns(t *testing.T) {
	env := newTestEnv(t, 40, withApproval)
	db := env.demoDB(t)
	lead := env.scenario(t, "lead_somente_consentimento")
	leads := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM leads WHERE LOWER(email) = ?", strings.ToLower(lead.Email)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := leads()
	if before == 0 {
		t.Fatal("the scenario's lead is not in the CRM")
	}
	del := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	if del.Status != "AWAITING_APPROVAL" {
		t.Fatalf("DELETE under an approval policy: %s, want AWAITING_APPROVAL", del.Status)
	}
	// Other kinds are not held: an EXTRACT completes meanwhile, so the
	// workers have been through the queue.
	ext := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"email": lead.Email}})
	if done := env.waitREST(t, ext.ID); done.Status != "COMPLETED" {
		t.Fatalf("EXTRACT: %s", done.Status)
	}
	_, _, b := env.rest(t, "GET", "/v1/tenants/demo/requests/"+del.ID, keyDPO, nil)
	if got := decode[restRequest](t, b); got.Status != "AWAITING_APPROVAL" || leads() != before {
		t.Fatalf("before approval: %s, %d lead rows (had %d); the DELETE must wait", got.Status, leads(), before)
	}
	code, _, b := env.rest(t, "GET", "/v1/tenants/demo/requests?status=AWAITING_APPROVAL", keyDPO, nil)
	if queue := decode[struct {
		Requests []restRequest `json:"requests"`
	}](t, b); code != http.StatusOK || len(queue.Requests) != 1 || queue.Requests[0].ID != del.ID {
		t.Errorf("the DPO's approval queue: HTTP %d %s", code, b)
	}

	if code, _, _ := env.rest(t, "POST", "/v1/tenants/demo/requests/"+del.ID+":approve", keyBackend, map[string]any{}); code != http.StatusForbidden {
		t.Errorf("backend approved: HTTP %d; approval is the DPO's", code)
	}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/requests/"+ext.ID+":approve", keyDPO, map[string]any{}); code != http.StatusConflict && code != http.StatusBadRequest || !strings.Contains(string(b), "COMPLETED") {
		t.Errorf("approving a completed request: HTTP %d %s; want a refusal naming its state", code, b)
	}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/requests/"+del.ID+":approve", keyDPO, map[string]any{"note": "identidade conferida"})
	if got := decode[restRequest](t, b); code != http.StatusOK || got.Status != "RECEIVED" && got.Status != "PROCESSING" && got.Status != "COMPLETED" {
		t.Fatalf("approve: HTTP %d %s", code, b)
	}
	if done := env.waitREST(t, del.ID); done.Status != "COMPLETED" || leads() != 0 {
		t.Fatalf("after approval: %s, %d lead rows; want the DELETE run", done.Status, leads())
	}
	want := []string{"RECEIVED", "AWAITING_APPROVAL", "RECEIVED", "PROCESSING", "COMPLETED"}
	if h := history(t, db, del.ID); !slices.Equal(h, want) {
		t.Errorf("history %v, want %v", h, want)
	}
	var note string
	if err := db.QueryRow("SELECT note FROM lgpd_request_events WHERE request_id = ? AND from_status = 'AWAITING_APPROVAL'", del.ID).Scan(&note); err != nil || note != "identidade conferida" {
		t.Errorf("approval note %q %v", note, err)
	}
}

// TestDenyHeldRequest: the DPO denies a held request over gRPC; reasons are
// required and shaped, the request ends DENIED with them, nothing is
// erased, and the final ledger leaf commits to the reasons.
func TestDenyHeldRequest(t *testing.T) {
	env := newTestEnv(t, 40, withApproval)
	lead := env.scenario(t, "lead_somente_consentimento")
	del := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	reqs := lgpdv1.NewRequestServiceClient(env.grpc)
	for _, bad := range [][]*lgpdv1.Reason{
		nil,
		{{Code: "IDENTITY_NOT_CONFIRMED"}},
		{{Code: "identidade", Message: "Não foi possível confirmar a identidade do titular."}},
	} {
		if _, err := reqs.DenyRequest(ctx, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: del.ID, Reasons: bad}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("deny with reasons %v: %v, want INVALID_ARGUMENT", bad, err)
		}
	}
	reason := &lgpdv1.Reason{Code: "IDENTITY_NOT_CONFIRMED", Message: "Não foi possível confirmar a identidade do titular.",
		LegalReference: "LGPD art. 18 §4"}
	got, err := reqs.DenyRequest(ctx, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: del.ID, Reasons: []*lgpdv1.Reason{reason}})
	if err != nil || got.GetStatus() != lgpdv1.RequestStatus_DENIED || len(got.GetReasons()) != 1 || got.GetReasons()[0].GetCode() != reason.Code {
		t.Fatalf("deny: %v %v", got, err)
	}
	if _, err := reqs.ApproveRequest(ctx, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: del.ID}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("approving a denied request: %v, want FAILED_PRECONDITION", err)
	}
	var n int
	if err := env.demoDB(t).QueryRow("SELECT COUNT(*) FROM leads WHERE LOWER(email) = ?", strings.ToLower(lead.Email)).Scan(&n); err != nil || n == 0 {
		t.Errorf("a denied DELETE erased the lead (%d rows, %v)", n, err)
	}
	// The final leaf carries the digest of the recorded reasons. The
	// sequencer integrates it shortly after the denial commits.
	var leaf ledger.Leaf
	until := time.Now().Add(deadline)
	for {
		var leafBytes []byte
		err := env.demoDB(t).QueryRow("SELECT leaf FROM lgpd_ledger_entries WHERE request_id = ? ORDER BY seq DESC LIMIT 1", del.ID).Scan(&leafBytes)
		if err == nil {
			if leaf, err = ledger.Unmarshal(leafBytes); err != nil {
				t.Fatalf("final leaf: %v", err)
			}
		}
		if leaf.To == "DENIED" || time.Now().After(until) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if leaf.To != "DENIED" || len(leaf.Digests) != 1 || leaf.Digests[0].Name != "outcome" {
		t.Errorf("final leaf %+v; want DENIED with the outcome digest", leaf)
	}
	var buf strings.Builder
	if err := runCLI(t, &buf, "ledger", "verify", "--config", filepath.Join(env.cfg.Dir, "titular.yaml"), "--tenant", "demo"); err != nil {
		t.Errorf("ledger verify: %v\n%s", err, buf.String())
	}
}
