package service

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

const liftMethod = lgpdv1.RequestService_LiftBlock_FullMethodName

// crmChecksum is the checksum of every CRM table of the demo database (all
// but titular's lgpd_ tables): equal before and after, nothing changed.
func (f *fixture) crmChecksum() string {
	f.t.Helper()
	var tables []string
	if err := f.eachRow(&tables, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'lgpd\\_%' ORDER BY TABLE_NAME"); err != nil || len(tables) < 10 {
		f.t.Fatalf("CRM tables: %v %v", tables, err)
	}
	for i, n := range tables {
		tables[i] = "`" + n + "`"
	}
	var sums []string
	if err := f.eachRow(&sums, "CHECKSUM TABLE "+strings.Join(tables, ", ")+" EXTENDED"); err != nil {
		f.t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range sums {
		b.WriteString(s + ";")
	}
	return b.String()
}

// eachRow appends each row of query to out, its columns joined by "=".
func (f *fixture) eachRow(out *[]string, query string) error {
	rows, err := f.db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String
		}
		*out = append(*out, strings.Join(parts, "="))
	}
	return rows.Err()
}

// TestBlockRequest: a titular asks, through the portal, for blocking alone
// (Art. 18 IV). The worker records a block over every row the map reaches,
// by table and key, propagates subject.blocked and changes no CRM row; only
// the DPO lifts it, with a reason kept in the history, propagated as
// subject.unblocked; a block is lifted once.
func TestBlockRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioProspect)
	before := f.crmChecksum()

	b, err := f.reqs.CreateRequest(asTitular(s), &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_BLOCK})
	if err != nil {
		t.Fatal(err)
	}
	if b.GetStatus() != lgpdv1.RequestStatus_RECEIVED || b.GetKind() != lgpdv1.RequestKind_BLOCK {
		t.Fatalf("BLOCK must be queued: %v", b)
	}
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want the BLOCK", n)
	}
	b = f.get(b.GetId())
	res := b.GetResult().GetBlock()
	if b.GetStatus() != lgpdv1.RequestStatus_COMPLETED || res.GetTotalRows() < 2 || res.GetLiftedAt() != nil {
		t.Fatalf("completed BLOCK: %v", b)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_blocks WHERE request_id = ? AND subject_ref = ? AND lifted_at IS NULL", b.GetId(), b.GetSubjectRef()); n != 1 {
		t.Fatalf("%d active subject blocks, want 1", n)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_block_rows WHERE request_id = ?", b.GetId()); int64(n) != res.GetTotalRows() {
		t.Errorf("%d blocked rows recorded, the result says %d", n, res.GetTotalRows())
	}
	// The CRM finds the titular's lead blocked by its table and key.
	if n := f.count(`SELECT COUNT(*) FROM leads l JOIN lgpd_subject_block_rows r ON r.table_name = 'leads' AND r.row_key = CONCAT('[', l.idlead, ']')
 JOIN lgpd_subject_blocks k ON k.request_id = r.request_id AND k.lifted_at IS NULL WHERE l.email = ?`, s.Email); n == 0 {
		t.Error("the titular's lead cannot be found blocked by joining on its key")
	}
	// The CRM's one anti-join (the view lgpd_blocked_rows) leaves them out too.
	inView := `SELECT COUNT(*) FROM leads l WHERE l.email = ? AND EXISTS (SELECT 1 FROM lgpd_blocked_rows v
 WHERE v.table_name = 'leads' AND v.row_id = l.idlead AND v.basis = 'pedido_do_titular' AND v.blocked_until IS NULL)`
	if n := f.count(inView, s.Email); n == 0 {
		t.Error("the titular's blocked lead is not in lgpd_blocked_rows")
	}
	// The block, then its completion (request.completed, for the portal).
	if got := f.outbox(b.GetId()); !slices.Equal(got, []string{"subject.blocked", "request.completed"}) {
		t.Errorf("outbox %v, want subject.blocked then request.completed", got)
	}
	if after := f.crmChecksum(); after != before {
		t.Error("a BLOCK changed CRM rows")
	}
	f.assertNoPersonalData([]seed.Scenario{s})

	// Only the DPO lifts it, with a reason free of personal data.
	for _, c := range []struct {
		name   string
		ctx    context.Context
		reason string
		code   codes.Code
		want   string
	}{
		{"the backend may not lift", f.backend, "pedido do titular", codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"the auditor may not lift", f.auditor, "pedido do titular", codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"no reason", f.dpo, " ", codes.InvalidArgument, "REASON_REQUIRED"},
		{"a CPF in the reason", f.dpo, "titular CPF " + s.CPF, codes.InvalidArgument, "PERSONAL_DATA_IN_TEXT"},
		{"not a BLOCK", f.dpo, "pedido do titular", codes.FailedPrecondition, "CONFLICT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := b.GetId()
			if c.name == "not a BLOCK" {
				id = f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: s.Email}}).GetId()
			}
			_, err := call[*lgpdv1.Request](c.ctx, f, liftMethod, &lgpdv1.LiftBlockRequest{Tenant: "demo", Id: id, Reason: c.reason})
			wantCode(t, err, c.code, c.want, s.CPF)
		})
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_blocks WHERE request_id = ? AND lifted_at IS NULL", b.GetId()); n != 1 {
		t.Fatal("a refused lift ended the block")
	}
	lifted := must[*lgpdv1.Request](f.dpo, f, liftMethod, &lgpdv1.LiftBlockRequest{Tenant: "demo", Id: b.GetId(), Reason: "titular pediu o desbloqueio, chamado GED-12"})
	if lifted.GetResult().GetBlock().GetLiftedAt() == nil || lifted.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Errorf("after the lift: %v", lifted)
	}
	if n := f.count(inView, s.Email); n != 0 {
		t.Error("a lifted block still lists the lead in lgpd_blocked_rows")
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_blocks WHERE request_id = ? AND lifted_at IS NOT NULL AND lifted_by = 'dpo'", b.GetId()); n != 1 {
		t.Error("the lift is not recorded with the DPO's name")
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_request_events WHERE request_id = ? AND actor = 'dpo' AND note LIKE 'block lifted: titular pediu%'", b.GetId()); n != 1 {
		t.Errorf("the lift is not in the request's history: %v", f.events(b.GetId()))
	}
	if got := f.outbox(b.GetId()); !slices.Equal(got, []string{"subject.blocked", "request.completed", "subject.unblocked"}) {
		t.Errorf("outbox %v, want subject.blocked, request.completed, then subject.unblocked", got)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_ledger_pending") + f.count("SELECT COUNT(*) FROM lgpd_ledger_entries"); n == 0 {
		t.Error("nothing in the ledger")
	}
	_, err = call[*lgpdv1.Request](f.dpo, f, liftMethod, &lgpdv1.LiftBlockRequest{Tenant: "demo", Id: b.GetId(), Reason: "de novo"})
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")
	if after := f.crmChecksum(); after != before {
		t.Error("lifting a block changed CRM rows")
	}
}
