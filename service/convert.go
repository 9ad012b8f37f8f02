package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/store"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func toProto(tenantID string, r *store.Request, exps []store.Export) *lgpdv1.Request {
	out := &lgpdv1.Request{
		Id:              r.ID,
		Tenant:          tenantID,
		Kind:            lgpdv1.RequestKind(lgpdv1.RequestKind_value[string(r.Kind)]),
		Status:          lgpdv1.RequestStatus(lgpdv1.RequestStatus_value[string(r.Status)]),
		SubjectRef:      r.SubjectRef,
		CreatedBy:       r.CreatedBy,
		IdempotencyKey:  r.IdempotencyKey,
		LinkedRequestId: r.LinkedRequestID,
		Minor:           minorToProto(r.MinorBand),
		ReceivedAt:      ts(r.ReceivedAt),
		DueAt:           ts(r.DueAt),
		UpdatedAt:       ts(r.UpdatedAt),
		// At the time of the answer, as the overdue filter (store.ListFilter).
		Overdue: !r.Status.Final() && time.Now().After(r.DueAt),
	}
	if r.CompletedAt != nil {
		out.CompletedAt = ts(*r.CompletedAt)
	}
	if rp := r.Representative; rp != nil {
		out.Representative = &lgpdv1.Representative{Relation: rp.Relation, Name: rp.Name, DocumentRef: rp.DocumentRef}
	}
	for _, rs := range r.Reasons {
		pr := &lgpdv1.Reason{Code: rs.Code, Message: rs.Message, LegalReference: rs.LegalReference, Entity: rs.Entity}
		if rs.Until != nil {
			pr.Until = ts(*rs.Until)
		}
		out.Reasons = append(out.Reasons, pr)
	}
	if res := r.Result; res != nil {
		out.Result = &lgpdv1.RequestResult{}
		if c := res.Confirm; c != nil {
			out.Result.Confirm = &lgpdv1.ConfirmResult{HasPersonalData: c.HasPersonalData, Categories: c.Categories, Entities: c.Entities}
		}
		if x := res.Extract; x != nil {
			out.Result.Extract = &lgpdv1.ExtractResult{TotalRows: x.TotalRows, Entities: entityCounts(x.Entities)}
		}
		if a := res.Anonymize; a != nil {
			out.Result.Anonymize = anonymizeProto(a)
		}
		if d := res.Delete; d != nil {
			out.Result.Delete = deleteProto(d)
		}
		if c := res.Correct; c != nil {
			out.Result.Correct = &lgpdv1.CorrectResult{TotalRows: c.TotalRows, Entities: entityCounts(c.Entities)}
		}
		if b := res.Block; b != nil {
			out.Result.Block = &lgpdv1.BlockResult{TotalRows: b.TotalRows, Entities: entityCounts(b.Entities)}
		}
		if v := res.Review; v != nil {
			out.Result.Review = reviewProto(v)
		}
	}
	for _, e := range exps {
		out.Exports = append(out.Exports, &lgpdv1.ExportInfo{
			Format: e.Format, ContentType: e.ContentType, Filename: e.Filename,
			SizeBytes: e.SizeBytes, Sha256: e.SHA256, ExpiresAt: ts(e.ExpiresAt),
		})
	}
	return out
}

func deleteProto(d *store.DeleteOutcome) *lgpdv1.DeleteResult {
	out := &lgpdv1.DeleteResult{Complete: d.Complete}
	for _, e := range d.Entities {
		out.Entities = append(out.Entities, &lgpdv1.DeleteCount{Entity: e.Entity, Deleted: e.Deleted, Blocked: e.Blocked, Anonymized: e.Anonymized})
	}
	out.Holds = retentionHolds(d.Holds)
	for _, a := range d.Attachments {
		out.Attachments = append(out.Attachments, &lgpdv1.AttachmentRef{Entity: a.Entity, Key: a.Key, State: a.State})
	}
	return out
}

func anonymizeProto(a *crm.AnonymizeResult) *lgpdv1.AnonymizeResult {
	out := &lgpdv1.AnonymizeResult{TotalRows: a.TotalRows}
	for _, e := range a.Entities {
		out.Entities = append(out.Entities, &lgpdv1.AnonymizeCount{Entity: e.Entity, Rows: e.Rows, Fields: e.Fields, Held: e.Held})
	}
	out.Holds = retentionHolds(a.Holds)
	return out
}

func entityCounts(counts []store.EntityCount) []*lgpdv1.EntityCount {
	var out []*lgpdv1.EntityCount
	for _, c := range counts {
		out = append(out, &lgpdv1.EntityCount{Entity: c.Entity, Rows: c.Rows})
	}
	return out
}

func retentionHolds(holds []crm.Hold) []*lgpdv1.RetentionHold {
	var out []*lgpdv1.RetentionHold
	for _, h := range holds {
		ph := &lgpdv1.RetentionHold{Entity: h.Entity, Basis: h.Basis, LegalReference: h.Reference, Rows: h.Rows, Keep: h.Keep}
		if h.Until != nil {
			ph.Until = ts(*h.Until)
		}
		out = append(out, ph)
	}
	return out
}
