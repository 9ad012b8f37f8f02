package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
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
		Id:             r.ID,
		Tenant:         tenantID,
		Kind:           lgpdv1.RequestKind(lgpdv1.RequestKind_value[r.Kind]),
		Status:         lgpdv1.RequestStatus(lgpdv1.RequestStatus_value[r.Status]),
		SubjectRef:     r.SubjectRef,
		CreatedBy:      r.CreatedBy,
		IdempotencyKey: r.IdempotencyKey,
		ReceivedAt:     ts(r.ReceivedAt),
		DueAt:          ts(r.DueAt),
		UpdatedAt:      ts(r.UpdatedAt),
	}
	if r.CompletedAt != nil {
		out.CompletedAt = ts(*r.CompletedAt)
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
			er := &lgpdv1.ExtractResult{TotalRows: x.TotalRows}
			for _, ec := range x.Entities {
				er.Entities = append(er.Entities, &lgpdv1.EntityCount{Entity: ec.Entity, Rows: ec.Rows})
			}
			out.Result.Extract = er
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
