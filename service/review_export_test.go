package service

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// reviewDoc is the part of the JSON export this file checks.
type reviewDoc struct {
	Reviews []struct {
		RequestID    string  `json:"request_id"`
		Purpose      string  `json:"purpose"`
		Reference    string  `json:"reference"`
		DecidedAt    *string `json:"decided_at"`
		RequestedAt  *string `json:"requested_at"`
		Outcome      *string `json:"outcome"`
		OutcomeLabel string  `json:"outcome_label"`
		ReviewedBy   *string `json:"reviewed_by"`
		ReviewedAt   *string `json:"reviewed_at"`
		Criteria     *string `json:"criteria"`
		TradeSecret  *string `json:"trade_secret"`
	} `json:"reviews"`
}

// TestReviewAnswerInExport (Art. 20 with Art. 19): the titular's copy
// carries the answer to the review of an automated decision, and the
// ledger lets the titular check it. A REVIEW is answered by the DPO with
// the criteria used; an EXTRACT for the same titular, run by the worker
// and downloaded as JSON (valid against the published schema), lists the
// review with its outcome in words, reviewer and criteria. The EXTRACT's
// receipt verifies offline and its leaf holds the digest of the very bytes
// downloaded; the REVIEW's receipt verifies too; and the
// decision.review_completed leaf — proved in the same signed checkpoint
// — commits to the criteria exactly as the copy shows them.
func TestReviewAnswerInExport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioBuyer2023)
	decided := time.Date(2026, 9, 14, 16, 45, 0, 0, time.UTC)
	const criteria = "Score interno abaixo de 620 e comprometimento de renda acima de 35%; política de crédito v3, conferida por pessoa."

	rv := f.create(f.backend, reviewOf(s, "credit_analysis", "ANALISE-CRED-9120", decided))
	done := must[*lgpdv1.Request](f.dpo, f, completeReviewMethod, &lgpdv1.CompleteReviewRequest{Tenant: "demo", Id: rv.GetId(),
		Outcome: lgpdv1.ReviewResult_UPHELD, Reviewer: "Analista de Crédito Sintética", Criteria: criteria})
	if done.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("answered REVIEW: %v", done)
	}

	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want the EXTRACT", n)
	}
	if x = f.get(x.GetId()); x.GetStatus() != lgpdv1.RequestStatus_COMPLETED || x.GetSubjectRef() != rv.GetSubjectRef() {
		t.Fatalf("EXTRACT of the same titular: %v", x)
	}
	body, _, _, err := f.download(f.backend, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	exporttest.Validate(t, body)
	var doc reviewDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Reviews) != 1 {
		t.Fatalf("the copy lists %d reviews, want the answered one: %s", len(doc.Reviews), body)
	}
	got := doc.Reviews[0]
	str := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	if got.RequestID != rv.GetId() || got.Purpose != "credit_analysis" || got.Reference != "ANALISE-CRED-9120" ||
		str(got.DecidedAt) == "<null>" || str(got.RequestedAt) == "<null>" || str(got.ReviewedAt) == "<null>" {
		t.Errorf("the review's decision in the copy: %+v", got)
	}
	if at, err := time.Parse(time.RFC3339Nano, str(got.DecidedAt)); err != nil || !at.Equal(decided) {
		t.Errorf("decided_at %s (%v), want %s", str(got.DecidedAt), err, decided)
	}
	if str(got.Outcome) != "mantida" || got.OutcomeLabel != "Decisão mantida após revisão" ||
		str(got.ReviewedBy) != "Analista de Crédito Sintética" || str(got.Criteria) != criteria || got.TradeSecret != nil {
		t.Errorf("the review's answer in the copy: outcome %s (%s), by %s, criteria %q, trade secret %s",
			str(got.Outcome), got.OutcomeLabel, str(got.ReviewedBy), str(got.Criteria), str(got.TradeSecret))
	}

	// The EXTRACT's receipt: the delivery of exactly these bytes.
	rc := must[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	leaf := f.verifyReceipt(t, rc)
	sum := sha256.Sum256(body)
	if leaf.Event != store.EventExportDelivered || leaf.RequestID != x.GetId() || len(leaf.Digests) != 1 ||
		leaf.Digests[0].Name != "export.json" || leaf.Digests[0].SHA256 != sum {
		t.Errorf("the EXTRACT's receipt leaf %+v does not commit to the downloaded copy (sha256 %s)", leaf, hex.EncodeToString(sum[:]))
	}
	// The REVIEW's receipt: its completion.
	rl := f.verifyReceipt(t, must[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName,
		&lgpdv1.GetReceiptRequest{Tenant: "demo", Id: rv.GetId()}))
	if rl.Kind != "REVIEW" || rl.RequestID != rv.GetId() || rl.To != "COMPLETED" || rl.SubjectRef != x.GetSubjectRef() {
		t.Errorf("the REVIEW's receipt leaf %+v", rl)
	}

	// The answer's own leaf, proved in the EXTRACT receipt's checkpoint,
	// commits to the criteria the copy shows.
	v, err := note.NewVerifier(f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.OpenCheckpoint([]byte(rc.GetCheckpoint()), ledger.Origin("titular.test", "demo"), v)
	if err != nil {
		t.Fatal(err)
	}
	answered := f.leavesOf(rv.GetId(), store.EventReviewCompleted)
	if len(answered) != 1 {
		t.Fatalf("decision.review_completed leaves %+v", answered)
	}
	rows, err := f.db.Query("SELECT seq, leaf FROM lgpd_ledger_entries WHERE request_id = ? AND seq < ? ORDER BY seq", rv.GetId(), cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var (
			seq uint64
			raw []byte
		)
		if err := rows.Scan(&seq, &raw); err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Unmarshal(raw)
		if err != nil || l.Event != store.EventReviewCompleted {
			continue
		}
		found = true
		proof := must[*lgpdv1.InclusionProof](f.auditor, f, lgpdv1.LedgerService_GetInclusionProof_FullMethodName,
			&lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: seq, TreeSize: cp.Size})
		if err := ledger.VerifyInclusion(seq, cp.Size, ledger.HashLeaf(raw), proof.GetHashes(), cp.Hash); err != nil {
			t.Errorf("decision.review_completed leaf %d not in the signed checkpoint: %v", seq, err)
		}
		want := sha256.Sum256([]byte(str(got.Criteria)))
		if l.To != "UPHELD" || l.SubjectRef != x.GetSubjectRef() || len(l.Digests) != 2 ||
			l.Digests[0].Name != "criteria" || l.Digests[0].SHA256 != want {
			t.Errorf("decision.review_completed leaf %+v does not commit to the copy's criteria", l)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Error("the review's answer has no integrated leaf in the checkpoint of the copy's receipt")
	}
	f.assertNoPersonalData([]seed.Scenario{s})
}
