package export

import "time"

// The header sections of the JSON document beside "request": the Art. 9
// notice, a minor's representative (Art. 14) and reviews of automated
// decisions (Art. 20). Each is written only when Meta carries it, so
// documents of schema version 1 without them stay as they were.

type jsonNotice struct {
	Controller jsonParty           `json:"controller"`
	DPO        jsonParty           `json:"dpo"`
	Purposes   []jsonPurpose       `json:"purposes"`
	Retention  []jsonRetentionRule `json:"retention"`
	Recipients []jsonRecipient     `json:"recipients"`
	Rights     []jsonRight         `json:"rights"`
}

type jsonParty struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
}

type jsonPurpose struct {
	Code        string         `json:"code"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	LegalBasis  jsonLegalBasis `json:"legal_basis"`
}

type jsonRetentionRule struct {
	What string `json:"what"`
	Rule string `json:"rule"`
}

type jsonRecipient struct {
	Name    string   `json:"name"`
	What    []string `json:"what"`
	Purpose string   `json:"purpose"`
}

type jsonRight struct {
	Right string `json:"right"`
	How   string `json:"how"`
}

type jsonMinor struct {
	Band           string              `json:"band"`
	BandLabel      string              `json:"band_label"`
	Representative *jsonRepresentative `json:"representative"`
}

type jsonRepresentative struct {
	Relation      string `json:"relation"`
	RelationLabel string `json:"relation_label"`
	Name          string `json:"name"`
}

type jsonReview struct {
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
}

// writeHeaderSections writes `,"notice":…`, `,"minor":…` and
// `,"reviews":…` for the parts m carries.
func (jw *jsonWriter) writeHeaderSections(m Meta) {
	if n := m.Notice; n != nil {
		jw.writeString(`,"notice":`)
		jw.encode(jsonNoticeOf(n))
	}
	if mi := m.Minor; mi != nil {
		out := jsonMinor{Band: mi.Band, BandLabel: MinorBandLabel(mi.Band)}
		if r := mi.Representative; r != nil {
			out.Representative = &jsonRepresentative{Relation: r.Relation, RelationLabel: RelationLabel(r.Relation), Name: r.Name}
		}
		jw.writeString(`,"minor":`)
		jw.encode(out)
	}
	if len(m.Reviews) > 0 {
		out := make([]jsonReview, len(m.Reviews))
		for i, r := range m.Reviews {
			out[i] = jsonReview{
				RequestID: r.RequestID, Purpose: r.Purpose, Reference: r.Reference,
				DecidedAt: timeOrNil(r.DecidedAt), RequestedAt: timeOrNil(r.RequestedAt),
				Outcome: textOrNil(r.Outcome), OutcomeLabel: ReviewOutcomeLabel(r.Outcome),
				ReviewedBy: textOrNil(r.ReviewedBy), ReviewedAt: timeOrNil(r.ReviewedAt),
				Criteria: textOrNil(r.Criteria), TradeSecret: textOrNil(r.TradeSecret),
			}
		}
		jw.writeString(`,"reviews":`)
		jw.encode(out)
	}
}

func jsonNoticeOf(n *Notice) jsonNotice {
	out := jsonNotice{
		Controller: jsonParty(n.Controller), DPO: jsonParty(n.DPO),
		Purposes:   make([]jsonPurpose, len(n.Purposes)),
		Retention:  make([]jsonRetentionRule, len(n.Retention)),
		Recipients: make([]jsonRecipient, len(n.Recipients)),
		Rights:     make([]jsonRight, len(n.Rights)),
	}
	for i, p := range n.Purposes {
		out.Purposes[i] = jsonPurpose{Code: p.Code, Name: p.Name, Description: p.Description,
			LegalBasis: jsonLegalBasis{Code: p.LegalBasis, Label: p.LegalBasisLabel, Article: p.LegalBasisArticle}}
	}
	for i, r := range n.Retention {
		out.Retention[i] = jsonRetentionRule(r)
	}
	for i, r := range n.Recipients {
		out.Recipients[i] = jsonRecipient(r)
		if out.Recipients[i].What == nil {
			out.Recipients[i].What = []string{}
		}
	}
	for i, r := range n.Rights {
		out.Rights[i] = jsonRight(r)
	}
	return out
}

func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

func textOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
