package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

func init() {
	addStrings(map[string]string{
		"request.title":                    "Pedido",
		"request.facts":                    "Dados do pedido",
		"request.id":                       "Identificador",
		"request.kind":                     "Tipo",
		"request.status":                   "Situação",
		"request.subject_ref":              "Referência do titular (pseudônimo)",
		"request.created_by":               "Registrado por",
		"request.received":                 "Recebido em",
		"request.due":                      "Prazo legal",
		"request.overdue":                  "Atrasado",
		"request.completed":                "Concluído em",
		"request.minor":                    "Titular menor de idade (Art. 14)",
		"request.minor.crianca":            "criança (menos de 12 anos)",
		"request.minor.adolescente":        "adolescente (12 a 17 anos)",
		"request.representative":           "Pedido por representante",
		"request.rep.procurador":           "procurador(a), com procuração",
		"request.rep.mae":                  "mãe",
		"request.rep.pai":                  "pai",
		"request.rep.tutor":                "tutor(a) nomeado(a) pelo juiz",
		"request.rep.responsavel_legal":    "responsável legal",
		"request.linked":                   "Pedido ligado (mesmo titular, mesmo tipo, ainda aberto quando este chegou)",
		"request.decision":                 "Decisão automatizada a revisar (Art. 20)",
		"request.decision.purpose":         "Finalidade",
		"request.decision.ref":             "Referência no CRM",
		"request.decision.at":              "Decidida em",
		"request.timeline":                 "Histórico",
		"request.timeline.caption":         "Mudanças de situação do pedido, da mais antiga à mais recente",
		"request.timeline.at":              "Quando",
		"request.timeline.change":          "Mudança",
		"request.timeline.actor":           "Por (credencial)",
		"request.timeline.note":            "Observação",
		"request.timeline.created":         "Registrado como",
		"request.timeline.empty":           "Nenhuma mudança registrada.",
		"request.timeline.source":          "O histórico vem do registro de eventos do pedido, gravado na mesma transação de cada mudança; cada mudança também está no livro-razão (ledger).",
		"request.reasons":                  "Motivos (Art. 18 §4)",
		"request.reasons.caption":          "Motivos da negativa, do atendimento parcial ou da falha",
		"request.reason.code":              "Código",
		"request.reason.message":           "Mensagem ao titular",
		"request.reason.legal":             "Base legal",
		"request.reason.entity":            "Entidade",
		"request.reason.until":             "Até",
		"request.result":                   "Resultado",
		"request.result.none":              "Ainda sem resultado: o pedido não foi concluído.",
		"request.result.caption":           "Linhas do titular por entidade do mapa de dados",
		"request.result.entity":            "Entidade",
		"request.result.rows":              "Linhas",
		"request.result.deleted":           "Eliminadas",
		"request.result.blocked":           "Bloqueadas",
		"request.result.anonymized":        "Anonimizadas",
		"request.result.fields":            "Campos alterados",
		"request.result.held":              "Retidas",
		"request.result.total":             "Total de linhas",
		"request.result.complete":          "Eliminação completa: nenhuma linha alcançada pelo mapa ficou.",
		"request.result.partial":           "Eliminação parcial: linhas retidas por obrigação legal ficaram bloqueadas até a liberação.",
		"request.confirm.yes":              "O titular tem dados tratados.",
		"request.confirm.no":               "Nenhum dado do titular foi encontrado.",
		"request.confirm.categories":       "Categorias",
		"request.confirm.entities":         "Entidades",
		"request.block.lifted":             "Bloqueio levantado em",
		"request.block.holding":            "Bloqueio em vigor: o tratamento das linhas está suspenso até o encarregado levantá-lo.",
		"request.review.outcome":           "Resultado da revisão",
		"request.review.UPHELD":            "Decisão mantida",
		"request.review.CHANGED":           "Decisão alterada",
		"request.review.reviewer":          "Revisor",
		"request.review.criteria":          "Critérios e procedimentos",
		"request.review.withheld":          "Critérios não informados (segredo comercial ou industrial)",
		"request.holds":                    "Retenções legais (Art. 16 e 18 §4 II)",
		"request.holds.caption":            "Linhas mantidas por uma base legal, com a data de liberação",
		"request.hold.basis":               "Base legal",
		"request.hold.reference":           "Fundamento",
		"request.hold.until":               "Liberação",
		"request.hold.until_ref":           "enquanto houver linhas retidas que as referenciam",
		"request.hold.keep":                "Campos mantidos",
		"request.hold.keep_all":            "a linha inteira",
		"request.attachments":              "Arquivos anexos (para o CRM remover ou manter bloqueados)",
		"request.attachment.state.deleted": "eliminado",
		"request.attachment.state.blocked": "bloqueado",
		"request.downloads":                "Arquivos para o titular",
		"request.downloads.none":           "Este pedido não tem arquivos para baixar (só pedidos de acesso concluídos têm).",
		"request.downloads.caption":        "Exportações do pedido",
		"request.export.format":            "Formato",
		"request.export.file":              "Arquivo",
		"request.export.size":              "Tamanho (bytes)",
		"request.export.sha":               "SHA-256",
		"request.export.expires":           "Expira em",
		"request.reason_label":             "Motivo do acesso",
		"request.reason_hint":              "Obrigatório: por que você está lendo este arquivo (ex.: número do chamado). Fica no registro de acessos. Não escreva dados pessoais.",
		"request.download":                 "Baixar",
		"request.receipt":                  "Recibo no livro-razão (ledger)",
		"request.receipt.intro":            "O recibo prova ao titular, sem depender do titular, que o pedido foi registrado: a folha final, um checkpoint assinado e a prova de inclusão. Lê-lo fica no registro de acessos.",
		"request.receipt.show":             "Ver recibo",
		"request.receipt.download":         "Baixar recibo (JSON)",
		"request.receipt.caption":          "Recibo do pedido",
		"request.actions":                  "Ações do encarregado",
		"request.actions.none":             "Nenhuma ação disponível nesta situação.",
		"request.actions.auditor":          "A auditoria só consulta: as ações são do encarregado (dpo).",
		"request.approve":                  "Aprovar",
		"request.approve.legend":           "Aprovar o pedido (ele segue para execução)",
		"request.note":                     "Observação (opcional, sem dados pessoais)",
		"request.verify":                   "Registrar verificação de identidade",
		"request.verify.legend":            "Verificação da identidade do titular (Art. 18 §3)",
		"request.verify.method":            "Como a identidade foi verificada (ex.: documento_presencial, gov.br)",
		"request.verify.evidence":          "Onde a evidência está guardada (referência, ex.: GED-123)",
		"request.deny":                     "Negar",
		"request.deny.legend":              "Negar o pedido com motivo (Art. 18 §4)",
		"request.deny.code":                "Código do motivo",
		"request.deny.message":             "Mensagem ao titular (explique o motivo)",
		"request.deny.legal":               "Base legal (opcional)",
		"request.cancel":                   "Cancelar pedido",
		"request.cancel.legend":            "Cancelar o pedido (antes de começar a execução)",
		"request.ok.aprovar":               "Pedido aprovado: ele segue para execução.",
		"request.ok.negar":                 "Pedido negado. Os motivos foram registrados.",
		"request.ok.verificar":             "Verificação registrada.",
		"request.ok.cancelar":              "Pedido cancelado.",
		"request.ok.revisar":               "Revisão registrada: a resposta vai para a cópia dos dados do titular.",
		"request.ok.desbloquear":           "Bloqueio encerrado. Os destinatários foram avisados.",
		"request.review.legend":            "Responder à revisão da decisão automatizada (Art. 20)",
		"request.review.who":               "Quem revisou (pessoa natural)",
		"request.review.criteria_in":       "Critérios e procedimentos usados na decisão (Art. 20 §1)",
		"request.review.withhold_in":       "Ou: por que os critérios não podem ser informados (segredo comercial e industrial)",
		"request.review.hint":              "Preencha os critérios ou o motivo do segredo, um dos dois. Não escreva dados pessoais.",
		"request.review.submit":            "Registrar a revisão",
		"request.lift.legend":              "Encerrar o bloqueio",
		"request.lift.reason":              "Motivo (sem dados pessoais; fica no histórico)",
		"request.lift.submit":              "Encerrar o bloqueio",
		"request.err.code":                 "Escolha o código do motivo na lista.",
		"request.err.message":              "Escreva a mensagem ao titular explicando a negativa (Art. 18 §4).",
		"request.err.reason":               "Informe o motivo do acesso (ex.: número do chamado) para baixar o arquivo ou ver o recibo.",
		"request.err.format":               "Formato de arquivo inválido: use os botões da lista de arquivos.",
		"request.err.state":                "O pedido está em outra situação e não aceita mais esta ação. Recarregue a página para ver a situação atual.",
		"request.err.role":                 "Seu papel não permite esta ação: só o encarregado (dpo) aprova, nega, verifica, cancela e baixa arquivos.",
		"request.err.invalid":              "O pedido recusou os dados enviados. Confira os campos e envie de novo.",
		"request.err.personal":             "O texto parece conter dado pessoal (e-mail, CPF ou telefone). Escreva uma referência (ex.: número do chamado) no lugar.",
		"request.err.too_long":             "Texto longo demais: a observação tem no máximo 500 caracteres e a mensagem ao titular 2000.",
		"request.err.not_ready":            "Os arquivos só existem depois que o pedido é concluído.",
		"request.err.expired":              "A exportação expirou. Crie um novo pedido de acesso para o titular.",
		"request.err.no_export":            "Este pedido não tem exportação neste formato.",
		"request.err.busy":                 "Outro pedido do mesmo titular está em execução. Tente de novo em instantes.",
		"request.err.unavailable":          "O banco de dados da organização não respondeu. Tente de novo em instantes.",
		"request.err.review":               "Um pedido de revisão (Art. 20) é respondido com o resultado da revisão, não aprovado.",
		"request.err.verify":               "Informe como a identidade foi verificada e onde a evidência está guardada.",
		"request.err.access_reason":        "Informe o motivo do acesso sem dados pessoais, em até 500 caracteres.",
		"request.err.no_ledger":            "Este pedido não tem entrada no livro-razão (foi criado antes de o livro-razão existir), portanto não tem recibo.",
	})
}

// denyCodes are the reason codes the deny form offers (DenyRequest takes
// any upper-case code; these are the ones a DPO uses most), with their
// pt-BR labels.
var denyCodes = []struct{ Code, Label string }{
	{"IDENTITY_NOT_CONFIRMED", "Identidade do titular não confirmada"},
	{"REPRESENTATION_NOT_PROVEN", "Representação não comprovada"},
	{"NOT_A_TITULAR", "Quem pediu não é titular dos dados"},
	{"NOT_CONTROLLER", "A organização não é controladora destes dados (Art. 18 §4 I)"},
	{"LEGAL_OBLIGATION", "Obrigação legal impede o atendimento (Art. 16 I)"},
	{"MANIFESTLY_UNFOUNDED", "Pedido manifestamente infundado ou repetitivo"},
	{"OTHER", "Outro motivo (explique na mensagem)"},
}

// requestActions are the request page's POST actions, by path segment.
var requestActions = []string{"aprovar", "negar", "verificar", "cancelar", "revisar", "desbloquear"}

// requestRoutes adds the request page: timeline, result, downloads, actions and receipt.
func (c *Console) requestRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/pedido/{id}", c.signedIn(c.requestPage))
	m.HandleFunc("POST /console/t/{tenant}/pedido/{id}/exportacao", c.signedIn(c.requestDownload))
	m.HandleFunc("POST /console/t/{tenant}/pedido/{id}/recibo", c.signedIn(c.requestReceipt))
	m.HandleFunc("POST /console/t/{tenant}/pedido/{id}/{action}", c.signedIn(c.requestAction))
}

// consolePages is what the console reads beyond the RPCs: a request's
// history and a titular's requests (service.Requests).
type consolePages interface {
	RequestEvents(ctx context.Context, tenantID, id string) ([]service.RequestEvent, error)
	TitularRequests(ctx context.Context, tenantID string, subject *lgpdv1.Subject) ([]*lgpdv1.Request, bool, error)
}

type requestEvent struct {
	At                    time.Time
	From, To, Actor, Note string
}

type requestReason struct {
	Code, Message, Legal, Entity string
	Until                        time.Time
}

type requestHold struct {
	Entity, Basis, Reference, Keep string
	Until                          time.Time
	Rows                           int64
}

type requestExport struct {
	Format, Filename, SHA256 string
	Size                     int64
	Expires                  time.Time
}

type resultRow struct {
	Entity string
	Cols   []int64
}

type requestData struct {
	ID, Kind, Status, SubjectRef, CreatedBy string
	Received, Due, Completed                time.Time
	Overdue                                 bool
	Minor, Representative, Linked           string
	Decision                                *lgpdv1.Decision
	DecisionAt                              time.Time
	Events                                  []requestEvent
	Reasons                                 []requestReason
	// Result: a table of entities with the kind's columns, its total,
	// and what the kind adds.
	HasResult   bool
	ResultCols  []string
	ResultRows  []resultRow
	Total       int64
	Complete    string
	Confirm     *lgpdv1.ConfirmResult
	Review      *lgpdv1.ReviewResult
	Block       bool
	BlockLifted time.Time
	Holds       []requestHold
	Attachments []*lgpdv1.AttachmentRef
	Exports     []requestExport
	Receipt     string
	DPO         bool
	CanApprove  bool
	CanVerify   bool
	CanDeny     bool
	CanCancel   bool
	// CanReview answers a REVIEW (Art. 20) through CompleteReview;
	// CanLift ends the block a completed BLOCK holds (LiftBlock).
	CanReview, CanLift bool
	DenyCodes          any
	Form               url.Values
}

// pending: a DPO may still deny or cancel the request.
var pendingStatuses = []lgpdv1.RequestStatus{lgpdv1.RequestStatus_RECEIVED, lgpdv1.RequestStatus_AWAITING_VERIFICATION, lgpdv1.RequestStatus_AWAITING_APPROVAL}

func (c *Console) requestPage(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	if ok := r.URL.Query().Get("ok"); slices.Contains(requestActions, ok) {
		v.Message = s("request.ok." + ok)
	}
	c.showRequest(w, r, v, p, http.StatusOK, nil)
}

// showRequest renders the request page with code; form refills the
// action forms after an error. A request the session may not see, or that
// does not exist, is "not found".
func (c *Console) showRequest(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal, code int, form url.Values) {
	d, err := c.loadRequest(r.Context(), v, p, r.PathValue("id"))
	if err != nil {
		c.serviceError(w, r, v, "request", err)
		return
	}
	d.Form = form
	if d.Form == nil {
		d.Form = url.Values{}
	}
	if rc, ok := r.Context().Value(receiptKey{}).(string); ok {
		d.Receipt = rc
	}
	v.Title, v.Data = s("request.title")+" "+shortID(d.ID), d
	c.render(w, code, "request.html", v)
}

type receiptKey struct{}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (c *Console) loadRequest(ctx context.Context, v *view, p *service.Principal, id string) (*requestData, error) {
	in := &lgpdv1.GetRequestRequest{Tenant: v.Tenant.ID, Id: id}
	cctx, err := c.call(ctx, p, lgpdv1.RequestService_GetRequest_FullMethodName, in)
	if err != nil {
		return nil, err
	}
	rq, err := c.opts.Requests.GetRequest(cctx, in)
	if err != nil {
		return nil, err
	}
	d := &requestData{ID: rq.GetId(), Kind: rq.GetKind().String(), Status: rq.GetStatus().String(), SubjectRef: rq.GetSubjectRef(),
		CreatedBy: rq.GetCreatedBy(), Received: tsTime(rq.GetReceivedAt()), Due: tsTime(rq.GetDueAt()), Completed: tsTime(rq.GetCompletedAt()),
		Overdue: rq.GetOverdue(), Linked: rq.GetLinkedRequestId(), Decision: rq.GetDecision(), DenyCodes: denyCodes,
		DPO: p.Role == config.RoleDPO}
	if m := rq.GetMinor(); m != nil {
		d.Minor = m.GetBand()
	}
	// The representative's name and document stay out of the page: the
	// relation says enough to read the request.
	if rep := rq.GetRepresentative(); rep != nil {
		d.Representative = rep.GetRelation()
		if label, ok := ptBR["request.rep."+d.Representative]; ok {
			d.Representative = label
		}
	}
	if dec := rq.GetDecision(); dec != nil {
		d.DecisionAt = tsTime(dec.GetDecidedAt())
	}
	if pages, ok := c.opts.Requests.(consolePages); ok {
		evs, err := pages.RequestEvents(cctx, v.Tenant.ID, d.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			d.Events = append(d.Events, requestEvent{At: e.At, From: e.From, To: e.To, Actor: e.Actor, Note: e.Note})
		}
	}
	for _, x := range rq.GetReasons() {
		d.Reasons = append(d.Reasons, requestReason{Code: x.GetCode(), Message: x.GetMessage(), Legal: x.GetLegalReference(), Entity: x.GetEntity(), Until: tsTime(x.GetUntil())})
	}
	for _, x := range rq.GetExports() {
		d.Exports = append(d.Exports, requestExport{Format: x.GetFormat(), Filename: x.GetFilename(), SHA256: x.GetSha256(), Size: x.GetSizeBytes(), Expires: tsTime(x.GetExpiresAt())})
	}
	d.result(rq.GetResult())
	st := rq.GetStatus()
	if d.DPO {
		d.CanApprove = st == lgpdv1.RequestStatus_AWAITING_APPROVAL && rq.GetKind() != lgpdv1.RequestKind_REVIEW
		d.CanReview = st == lgpdv1.RequestStatus_AWAITING_APPROVAL && rq.GetKind() == lgpdv1.RequestKind_REVIEW
		d.CanLift = st == lgpdv1.RequestStatus_COMPLETED && rq.GetKind() == lgpdv1.RequestKind_BLOCK &&
			rq.GetResult().GetBlock() != nil && rq.GetResult().GetBlock().GetLiftedAt() == nil
		d.CanVerify = st == lgpdv1.RequestStatus_AWAITING_VERIFICATION
		d.CanDeny = slices.Contains(pendingStatuses, st)
		d.CanCancel = slices.Contains(pendingStatuses, st)
	}
	return d, nil
}

// result flattens the kind's result into one table of entities plus what
// the kind adds (holds, attachments, a confirmation, a review).
func (d *requestData) result(res *lgpdv1.RequestResult) {
	if res == nil {
		return
	}
	counts := func(es []*lgpdv1.EntityCount, total int64) {
		d.ResultCols = []string{"request.result.rows"}
		for _, e := range es {
			d.ResultRows = append(d.ResultRows, resultRow{Entity: e.GetEntity(), Cols: []int64{e.GetRows()}})
		}
		d.Total = total
	}
	switch {
	case res.GetExtract() != nil:
		counts(res.GetExtract().GetEntities(), res.GetExtract().GetTotalRows())
	case res.GetCorrect() != nil:
		counts(res.GetCorrect().GetEntities(), res.GetCorrect().GetTotalRows())
	case res.GetBlock() != nil:
		counts(res.GetBlock().GetEntities(), res.GetBlock().GetTotalRows())
		d.Block, d.BlockLifted = true, tsTime(res.GetBlock().GetLiftedAt())
	case res.GetDelete() != nil:
		del := res.GetDelete()
		d.ResultCols = []string{"request.result.deleted", "request.result.blocked", "request.result.anonymized"}
		for _, e := range del.GetEntities() {
			d.ResultRows = append(d.ResultRows, resultRow{Entity: e.GetEntity(), Cols: []int64{e.GetDeleted(), e.GetBlocked(), e.GetAnonymized()}})
			d.Total += e.GetDeleted() + e.GetBlocked()
		}
		d.Complete = "partial"
		if del.GetComplete() {
			d.Complete = "complete"
		}
		d.holds(del.GetHolds())
		d.Attachments = del.GetAttachments()
	case res.GetAnonymize() != nil:
		an := res.GetAnonymize()
		d.ResultCols = []string{"request.result.rows", "request.result.fields", "request.result.held"}
		for _, e := range an.GetEntities() {
			d.ResultRows = append(d.ResultRows, resultRow{Entity: e.GetEntity(), Cols: []int64{e.GetRows(), e.GetFields(), e.GetHeld()}})
		}
		d.Total = an.GetTotalRows()
		d.holds(an.GetHolds())
	case res.GetConfirm() != nil:
		d.Confirm = res.GetConfirm()
	case res.GetReview() != nil:
		d.Review = res.GetReview()
	default:
		return
	}
	d.HasResult = true
}

func (d *requestData) holds(hs []*lgpdv1.RetentionHold) {
	for _, h := range hs {
		label, article := datamap.LegalBasisLabel(h.GetBasis())
		if article != "" {
			label += " (" + article + ")"
		}
		d.Holds = append(d.Holds, requestHold{Entity: h.GetEntity(), Basis: label, Reference: h.GetLegalReference(),
			Until: tsTime(h.GetUntil()), Rows: h.GetRows(), Keep: strings.Join(h.GetKeep(), ", ")})
	}
}

// requestAction runs one of the DPO's actions, authorized as the API
// authorizes its RPC, and sends back to the page (303) with a success
// message, or shows the page again with the error and its form.
func (c *Console) requestAction(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	action, id := r.PathValue("action"), r.PathValue("id")
	if !slices.Contains(requestActions, action) {
		c.notFound(w, r, v.Session)
		return
	}
	if err := r.ParseForm(); err != nil {
		c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.invalid"), nil)
		return
	}
	f := r.PostForm
	note := strings.TrimSpace(f.Get("note"))
	var method string
	var in any
	switch action {
	case "aprovar":
		method, in = lgpdv1.RequestService_ApproveRequest_FullMethodName, &lgpdv1.ApproveRequestRequest{Tenant: v.Tenant.ID, Id: id, Note: note}
	case "verificar":
		method, in = lgpdv1.RequestService_VerifyRequest_FullMethodName, &lgpdv1.VerifyRequestRequest{Tenant: v.Tenant.ID, Id: id,
			Method: strings.TrimSpace(f.Get("method")), EvidenceRef: strings.TrimSpace(f.Get("evidence_ref")), Note: note}
	case "cancelar":
		method, in = lgpdv1.RequestService_CancelRequest_FullMethodName, &lgpdv1.CancelRequestRequest{Tenant: v.Tenant.ID, Id: id, Note: note}
	case "negar":
		code, msg := f.Get("code"), strings.TrimSpace(f.Get("message"))
		method, in = lgpdv1.RequestService_DenyRequest_FullMethodName, &lgpdv1.DenyRequestRequest{Tenant: v.Tenant.ID, Id: id,
			Reasons: []*lgpdv1.Reason{{Code: code, Message: msg, LegalReference: strings.TrimSpace(f.Get("legal_reference"))}}}
	case "revisar":
		// An unknown outcome stays UNSPECIFIED, which the service refuses
		// with its own message.
		outcome := lgpdv1.ReviewResult_Outcome(lgpdv1.ReviewResult_Outcome_value[f.Get("outcome")])
		method, in = lgpdv1.RequestService_CompleteReview_FullMethodName, &lgpdv1.CompleteReviewRequest{Tenant: v.Tenant.ID, Id: id,
			Outcome: outcome, Reviewer: strings.TrimSpace(f.Get("reviewer")), Criteria: strings.TrimSpace(f.Get("criteria")),
			TradeSecretReason: strings.TrimSpace(f.Get("trade_secret_reason")), Note: note}
	case "desbloquear":
		method, in = lgpdv1.RequestService_LiftBlock_FullMethodName, &lgpdv1.LiftBlockRequest{Tenant: v.Tenant.ID, Id: id, Reason: strings.TrimSpace(f.Get("reason"))}
	}
	ctx, err := c.call(r.Context(), p, method, in)
	if err == nil && action == "negar" {
		// Checked after the role: an auditor learns only that the action
		// is not theirs.
		rs := in.(*lgpdv1.DenyRequestRequest).GetReasons()[0]
		switch {
		case !slices.ContainsFunc(denyCodes, func(x struct{ Code, Label string }) bool { return x.Code == rs.GetCode() }):
			c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.code"), f)
			return
		case rs.GetMessage() == "":
			c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.message"), f)
			return
		}
	}
	var out *lgpdv1.Request
	if err == nil {
		switch in := in.(type) {
		case *lgpdv1.ApproveRequestRequest:
			out, err = c.opts.Requests.ApproveRequest(ctx, in)
		case *lgpdv1.VerifyRequestRequest:
			out, err = c.opts.Requests.VerifyRequest(ctx, in)
		case *lgpdv1.CancelRequestRequest:
			out, err = c.opts.Requests.CancelRequest(ctx, in)
		case *lgpdv1.DenyRequestRequest:
			out, err = c.opts.Requests.DenyRequest(ctx, in)
		case *lgpdv1.CompleteReviewRequest:
			out, err = c.opts.Requests.CompleteReview(ctx, in)
		case *lgpdv1.LiftBlockRequest:
			out, err = c.opts.Requests.LiftBlock(ctx, in)
		}
	}
	if err != nil {
		code, msg, found := consoleError(err)
		c.opts.Log.Info("console: request action refused", "tenant", v.Tenant.ID, "request_id", id, "action", action, "code", grpcCode(err))
		if !found {
			c.notFound(w, r, v.Session)
			return
		}
		c.formError(w, r, v, p, code, msg, f)
		return
	}
	// A path of this console: the configured tenant's id, the id of the
	// request the service just changed, and one of requestActions.
	//nolint:gosec // G710: every part is checked or the service's own (above); the target never leaves /console/t/
	http.Redirect(w, r, "/console/t/"+v.Tenant.ID+"/pedido/"+out.GetId()+"?ok="+action, http.StatusSeeOther)
}

// formError shows the request page again, with the error and the form as
// sent.
func (c *Console) formError(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal, code int, msg string, f url.Values) {
	v.Error = msg
	c.showRequest(w, r, v, p, code, f)
}

// withAccessReason reads the form's access reason and passes it to the
// service as the API's caller would, in the x-access-reason metadata
// (percent-encoded: the service decodes it), so the access log records it.
func withAccessReason(ctx context.Context, r *http.Request) (context.Context, string) {
	reason := strings.TrimSpace(r.PostFormValue("access_reason"))
	if reason == "" {
		return ctx, ""
	}
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	md.Set(service.AccessReasonHeader, url.PathEscape(reason))
	return metadata.NewIncomingContext(ctx, md), reason
}

// requestDownload streams one export to the browser as an attachment,
// through DownloadExport under the DPO's principal and the access reason
// typed in the form.
func (c *Console) requestDownload(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	id := r.PathValue("id")
	in := &lgpdv1.DownloadExportRequest{Tenant: v.Tenant.ID, Id: id, Format: r.PostFormValue("format")}
	ctx, err := c.call(r.Context(), p, lgpdv1.RequestService_DownloadExport_FullMethodName, in)
	if err == nil && !slices.Contains([]string{"json", "xlsx", "pdf"}, in.GetFormat()) {
		c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.format"), r.PostForm)
		return
	}
	var reason string
	if err == nil {
		if ctx, reason = withAccessReason(ctx, r); reason == "" {
			c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.reason"), r.PostForm)
			return
		}
		st := &downloadStream{ctx: ctx, w: w}
		err = c.opts.Requests.DownloadExport(in, st)
		if st.started {
			if err != nil {
				c.opts.Log.Warn("console: download broke off", "tenant", v.Tenant.ID, "request_id", id, "code", grpcCode(err))
			}
			return
		}
	}
	if err != nil {
		code, msg, found := consoleError(err)
		c.opts.Log.Info("console: download refused", "tenant", v.Tenant.ID, "request_id", id, "code", grpcCode(err))
		if !found {
			c.notFound(w, r, v.Session)
			return
		}
		c.formError(w, r, v, p, code, msg, r.PostForm)
	}
}

// requestReceipt reads the request's ledger receipt with the access
// reason typed in the form: shown on the page as JSON, or downloaded.
func (c *Console) requestReceipt(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	id := r.PathValue("id")
	in := &lgpdv1.GetReceiptRequest{Tenant: v.Tenant.ID, Id: id}
	ctx, err := c.call(r.Context(), p, lgpdv1.RequestService_GetReceipt_FullMethodName, in)
	var rc *lgpdv1.Receipt
	if err == nil {
		var reason string
		if ctx, reason = withAccessReason(ctx, r); reason == "" {
			c.formError(w, r, v, p, http.StatusBadRequest, s("request.err.reason"), r.PostForm)
			return
		}
		rc, err = c.opts.Requests.GetReceipt(ctx, in)
	}
	if err != nil {
		code, msg, found := consoleError(err)
		c.opts.Log.Info("console: receipt refused", "tenant", v.Tenant.ID, "request_id", id, "code", grpcCode(err))
		if !found {
			c.notFound(w, r, v.Session)
			return
		}
		c.formError(w, r, v, p, code, msg, r.PostForm)
		return
	}
	// protojson's own indentation varies on purpose; encoding/json's is
	// stable, which a titular comparing two copies expects.
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(rc)
	var buf bytes.Buffer
	if err == nil {
		err = json.Indent(&buf, raw, "", "  ")
	}
	if err != nil {
		c.serviceError(w, r, v, "receipt", err)
		return
	}
	b := buf.Bytes()
	if r.PostFormValue("as") == "download" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="recibo-`+rc.GetRequestId()+`.json"`)
		_, _ = w.Write(b)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), receiptKey{}, string(b)))
	c.showRequest(w, r, v, p, http.StatusOK, r.PostForm)
}

// serviceError answers a failed page load: not found as the 404 page,
// anything else as an error page with the code's status.
func (c *Console) serviceError(w http.ResponseWriter, r *http.Request, v *view, what string, err error) {
	code, msg, found := consoleError(err)
	if !found {
		c.notFound(w, r, v.Session)
		return
	}
	c.opts.Log.Warn("console: "+what+" failed", "tenant", v.Tenant.ID, "code", grpcCode(err))
	if code == http.StatusBadGateway {
		msg = s("error.body")
	}
	v.Title, v.Message = s("error.title"), msg
	c.render(w, code, "message.html", v)
}

// consoleError maps a service error, as the service returns it in
// process, to an HTTP status and a pt-BR message; found is false for "not
// found" (the 404 page, the same for another tenant's id).
func consoleError(err error) (code int, msg string, found bool) {
	var se *service.Error
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, tenant.ErrUnknown):
		return http.StatusNotFound, "", false
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, s("request.err.state"), true
	case errors.Is(err, store.ErrSubjectBusy):
		return http.StatusConflict, s("request.err.busy"), true
	case errors.Is(err, store.ErrExpired):
		return http.StatusGone, s("request.err.expired"), true
	case errors.Is(err, tenant.ErrUnavailable), store.IsTransient(err):
		return http.StatusServiceUnavailable, s("request.err.unavailable"), true
	case !errors.As(err, &se):
		return http.StatusBadGateway, s("error.body"), true
	}
	switch se.Reason {
	case "BAD_REQUEST_ID", "NOT_FOUND", "TENANT_NOT_FOUND":
		return http.StatusNotFound, "", false
	case "NO_LEDGER_ENTRY":
		return http.StatusNotFound, s("request.err.no_ledger"), true
	case "NO_EXPORT":
		return http.StatusNotFound, s("request.err.no_export"), true
	case "ROLE_NOT_ALLOWED", "NO_RULE":
		return http.StatusForbidden, s("request.err.role"), true
	case "ACCESS_REASON_REQUIRED":
		return http.StatusBadRequest, s("request.err.reason"), true
	case "BAD_ACCESS_REASON":
		return http.StatusBadRequest, s("request.err.access_reason"), true
	case "PERSONAL_DATA_IN_REASON", "PERSONAL_DATA_IN_TEXT":
		return http.StatusBadRequest, s("request.err.personal"), true
	case "NOTE_TOO_LONG", "BAD_TEXT", "BAD_REASON":
		return http.StatusBadRequest, s("request.err.too_long"), true
	case "REASONS_REQUIRED":
		return http.StatusBadRequest, s("request.err.message"), true
	case "VERIFICATION_INCOMPLETE":
		return http.StatusBadRequest, s("request.err.verify"), true
	case "NOT_READY":
		return http.StatusConflict, s("request.err.not_ready"), true
	case "EXPORT_EXPIRED":
		return http.StatusGone, s("request.err.expired"), true
	case "USE_COMPLETE_REVIEW":
		return http.StatusConflict, s("request.err.review"), true
	}
	switch se.Code {
	case codes.NotFound:
		return http.StatusNotFound, "", false
	case codes.PermissionDenied:
		return http.StatusForbidden, s("request.err.role"), true
	case codes.InvalidArgument:
		return http.StatusBadRequest, s("request.err.invalid"), true
	case codes.FailedPrecondition, codes.Aborted, codes.AlreadyExists:
		return http.StatusConflict, s("request.err.state"), true
	case codes.Unavailable:
		return http.StatusServiceUnavailable, s("request.err.unavailable"), true
	}
	return http.StatusBadGateway, s("error.body"), true
}

// grpcCode names an error's gRPC code for the log, never its message.
func grpcCode(err error) string {
	var se *service.Error
	if errors.As(err, &se) {
		return se.Code.String() + "/" + se.Reason
	}
	return apiCode(err).String()
}

// downloadStream is the server stream DownloadExport writes to, in
// process: headers become the HTTP response's, chunks its body.
type downloadStream struct {
	grpc.ServerStream
	ctx     context.Context
	w       http.ResponseWriter
	header  metadata.MD
	started bool
}

var _ grpc.ServerStreamingServer[httpbody.HttpBody] = (*downloadStream)(nil)

func (d *downloadStream) Context() context.Context { return d.ctx }

func (d *downloadStream) SetHeader(md metadata.MD) error {
	d.header = metadata.Join(d.header, md)
	return nil
}

func (d *downloadStream) SendHeader(md metadata.MD) error { return d.SetHeader(md) }

func (d *downloadStream) SetTrailer(metadata.MD) {}

func (d *downloadStream) Send(b *httpbody.HttpBody) error {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", b.GetContentType())
		if v := d.header.Get("content-disposition"); len(v) > 0 {
			h.Set("Content-Disposition", v[0])
		}
		if v := d.header.Get("x-content-sha256"); len(v) > 0 {
			h.Set("X-Content-Sha256", v[0])
		}
		d.w.WriteHeader(http.StatusOK)
	}
	if _, err := d.w.Write(b.GetData()); err != nil {
		return fmt.Errorf("write download: %w", err)
	}
	return nil
}

func (d *downloadStream) SendMsg(m any) error {
	b, ok := m.(*httpbody.HttpBody)
	if !ok {
		return fmt.Errorf("download stream: unexpected message %T", m)
	}
	return d.Send(b)
}

func (d *downloadStream) RecvMsg(any) error { return errors.New("download stream: nothing to receive") }

// tsTime is a timestamp's instant, zero when unset.
func tsTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}
