package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

func init() {
	addStrings(map[string]string{
		"titular.title":            "Titular",
		"titular.intro":            "Busque uma pessoa por um ou mais identificadores. Eles vão no corpo do formulário, nunca no endereço da página, e não ficam guardados.",
		"titular.form":             "Identificadores do titular",
		"titular.cpf":              "CPF",
		"titular.email":            "E-mail",
		"titular.phone":            "Telefone",
		"titular.reason":           "Motivo do acesso",
		"titular.reason_hint":      "Ex.: número do chamado. Fica no registro de acessos quando a busca mostra as evidências de consentimento. Não escreva dados pessoais.",
		"titular.reason_required":  "Esta organização exige o motivo do acesso para mostrar as evidências de consentimento: preencha o campo Motivo do acesso (ex.: número do chamado).",
		"titular.search":           "Buscar",
		"titular.empty":            "Informe ao menos um identificador: CPF, e-mail ou telefone.",
		"titular.bad_cpf":          "CPF inválido: são 11 dígitos e os dois últimos (verificadores) precisam conferir com os nove primeiros. Confira a digitação; pontos e traço são opcionais.",
		"titular.bad_email":        "E-mail inválido: confira se está no formato nome@dominio.com.br.",
		"titular.bad_phone":        "Telefone inválido: use DDD e número, ex.: (11) 98765-4321.",
		"titular.not_mapped":       "Esta organização não identifica titulares por um dos campos preenchidos. Use outro identificador.",
		"titular.requests":         "Pedidos do titular",
		"titular.requests.caption": "Pedidos desta pessoa, dos mais recentes aos mais antigos",
		"titular.requests.none":    "Nenhum pedido encontrado para estes identificadores.",
		"titular.requests.more":    "Há mais pedidos do que os 500 mostrados aqui.",
		"titular.consents":         "Consentimentos do titular",
		"titular.consents.none":    "Nenhum consentimento registrado para estes identificadores.",
		"titular.consents.auditor": "A auditoria não consulta os consentimentos de um titular por identificador (a API reserva a busca ao encarregado e ao sistema).",
		"titular.consents.current": "Situação atual",
		"titular.consents.caption": "Histórico do consentimento para a finalidade %s, do mais antigo ao mais recente",
		"titular.consent.at":       "Quando",
		"titular.consent.action":   "Ação",
		"titular.consent.term":     "Versão do termo",
		"titular.consent.channel":  "Canal",
		"titular.consent.request":  "Pedido",
		"titular.consent.GRANT":    "Concedido",
		"titular.consent.REFUSE":   "Recusado",
		"titular.consent.REVOKE":   "Revogado",
		"titular.refs":             "Referências do titular (pseudônimos)",
		"titular.deleted":          "Como a busca funciona: os identificadores são comparados pelo seu HMAC no índice de titulares, não guardados em claro. Quando uma eliminação (DELETE) é concluída por completo, o titular é retirado desse índice: ele deixa de ser encontrado aqui, embora seus pedidos continuem na fila sob a referência pseudônima. Numa eliminação parcial (com retenção legal), ele continua sendo encontrado até a liberação final.",
	})
}

// titularRoutes adds a titular's page, searched by identifiers posted in a form.
func (c *Console) titularRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/titular", c.signedIn(c.titularForm))
	m.HandleFunc("POST /console/t/{tenant}/titular", c.signedIn(c.titularSearch))
}

type titularConsent struct {
	Purpose, Action, Term, Channel, RequestID string
	At                                        time.Time
}

type titularPurpose struct {
	Purpose, Caption string
	Current          titularConsent
	History          []titularConsent
}

type titularData struct {
	CPF, Email, Phone, Reason string
	Searched                  bool
	Requests                  []queueRow
	More                      bool
	// Consents is false when the role may not search them.
	Consents bool
	Purposes []titularPurpose
	Refs     []string
}

func (c *Console) titularForm(w http.ResponseWriter, _ *http.Request, v *view, _ *service.Principal) {
	v.Title, v.Section, v.Data = s("titular.title"), "titular", &titularData{}
	c.render(w, http.StatusOK, "titular.html", v)
}

// titularSearch finds a person's requests (by the subject index, as the
// API's titular-scoped listing does) and consents (SearchConsents), each
// authorized as its RPC. The title never names the identifiers.
func (c *Console) titularSearch(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	d := &titularData{CPF: strings.TrimSpace(r.PostFormValue("cpf")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Phone: strings.TrimSpace(r.PostFormValue("phone")), Reason: strings.TrimSpace(r.PostFormValue("access_reason"))}
	v.Title, v.Section, v.Data = s("titular.title"), "titular", d
	fail := func(code int, msg string) {
		v.Error = msg
		c.render(w, code, "titular.html", v)
	}
	switch {
	case d.CPF == "" && d.Email == "" && d.Phone == "":
		fail(http.StatusBadRequest, s("titular.empty"))
		return
	case d.CPF != "" && !valid(brdoc.NormalizeCPF, d.CPF):
		fail(http.StatusBadRequest, s("titular.bad_cpf"))
		return
	case d.Email != "" && !valid(brdoc.NormalizeEmail, d.Email):
		fail(http.StatusBadRequest, s("titular.bad_email"))
		return
	case d.Phone != "" && !valid(brdoc.NormalizePhone, d.Phone):
		fail(http.StatusBadRequest, s("titular.bad_phone"))
		return
	}
	subject := &lgpdv1.Subject{Cpf: d.CPF, Email: d.Email, Phone: d.Phone}
	pages, ok := c.opts.Requests.(consolePages)
	if !ok {
		fail(http.StatusNotImplemented, s("error.body"))
		return
	}
	list := &lgpdv1.ListRequestsRequest{Tenant: v.Tenant.ID}
	ctx, err := c.call(r.Context(), p, lgpdv1.RequestService_ListRequests_FullMethodName, list)
	var reqs []*lgpdv1.Request
	if err == nil {
		reqs, d.More, err = pages.TitularRequests(ctx, v.Tenant.ID, subject)
	}
	if err != nil {
		c.titularError(w, v, err)
		return
	}
	for _, rq := range reqs {
		d.Requests = append(d.Requests, queueRowOf(rq))
		if !slices.Contains(d.Refs, rq.GetSubjectRef()) {
			d.Refs = append(d.Refs, rq.GetSubjectRef())
		}
	}
	search := &lgpdv1.SearchConsentsRequest{Tenant: v.Tenant.ID, Subject: subject}
	if ctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_SearchConsents_FullMethodName, search); err == nil {
		d.Consents = true
		ctx, _ = withAccessReason(ctx, r)
		res, err := c.opts.Consents.SearchConsents(ctx, search)
		if err != nil {
			c.titularError(w, v, err)
			return
		}
		d.purposes(res)
	} else if p.Role == config.RoleDPO {
		c.titularError(w, v, err)
		return
	}
	d.Searched = true
	c.render(w, http.StatusOK, "titular.html", v)
}

// purposes groups a titular's consent history by purpose, in the order
// of the current records.
func (d *titularData) purposes(res *lgpdv1.SearchConsentsResponse) {
	conv := func(r *lgpdv1.ConsentRecord) titularConsent {
		return titularConsent{Purpose: r.GetPurpose(), Action: r.GetAction().String(), Term: r.GetTermVersion(), Channel: r.GetChannel(),
			RequestID: r.GetRequestId(), At: tsTime(r.GetAt())}
	}
	for _, cur := range res.GetCurrent() {
		tp := titularPurpose{Purpose: cur.GetPurpose(), Current: conv(cur)}
		tp.Caption = strings.Replace(s("titular.consents.caption"), "%s", cur.GetPurpose(), 1)
		for _, h := range res.GetHistory() {
			if h.GetPurpose() == cur.GetPurpose() {
				tp.History = append(tp.History, conv(h))
			}
		}
		d.Purposes = append(d.Purposes, tp)
	}
	for _, ref := range res.GetSubjectRefs() {
		if !slices.Contains(d.Refs, ref) {
			d.Refs = append(d.Refs, ref)
		}
	}
}

// titularError shows a refused search: the identifiers' own errors by
// field, the rest as the request page maps them.
func (c *Console) titularError(w http.ResponseWriter, v *view, err error) {
	code, msg, found := consoleError(err)
	var se *service.Error
	if errors.As(err, &se) {
		switch se.Reason {
		case "IDENTIFIER_NOT_MAPPED":
			code, msg = http.StatusBadRequest, s("titular.not_mapped")
		case "INVALID_IDENTIFIER", "SUBJECT_REQUIRED":
			code, msg = http.StatusBadRequest, s("titular.empty")
		case "ACCESS_REASON_REQUIRED":
			code, msg = http.StatusBadRequest, s("titular.reason_required")
		}
	}
	if !found {
		// Only the tenant can be missing here (the identifiers find no one
		// without an error): the same 404 as for a tenant not shown.
		c.notFound(w, nil, v.Session)
		return
	}
	c.opts.Log.Info("console: titular search refused", "tenant", v.Tenant.ID, "code", grpcCode(err))
	v.Error = msg
	c.render(w, code, "titular.html", v)
}

func valid(norm func(string) (string, error), v string) bool {
	_, err := norm(v)
	return err == nil
}
