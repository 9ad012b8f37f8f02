package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/service"
)

// consentRoutes adds purposes, terms, counts and a titular's consent history.
func (c *Console) consentRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/consentimento", c.signedIn(c.consentPage))
	// The identifiers travel in the form's body, never in the URL: the
	// answer is the page itself, not a redirect.
	m.HandleFunc("POST /console/t/{tenant}/consentimento/historico", c.signedIn(c.consentHistory))
}

func init() {
	addStrings(map[string]string{
		"consent.title":            "Consentimento",
		"consent.intro":            "Finalidades desta organização com a versão vigente dos termos, quantos titulares estão em cada situação, e o histórico de um titular (Art. 8 e 9).",
		"consent.purposes":         "Finalidades",
		"consent.none":             "Nenhuma finalidade cadastrada. Carregue o catálogo com titular purposes load.",
		"consent.basis":            "Base legal",
		"consent.required":         "Exige consentimento",
		"consent.yes":              "sim",
		"consent.no":               "não",
		"consent.shared":           "Compartilhada com",
		"consent.refusal":          "Consequência da recusa",
		"consent.version":          "Versão vigente dos termos",
		"consent.published":        "publicada em",
		"consent.no_term":          "nenhum termo publicado",
		"consent.text":             "Texto da versão %s",
		"consent.count.GRANT":      "consentiram",
		"consent.count.REFUSE":     "recusaram",
		"consent.count.REVOKE":     "revogaram",
		"consent.counts.note":      "Titulares pela situação atual em cada finalidade (o último registro de cada um).",
		"consent.counts.refused":   "Seu papel (%s) não vê as contagens por situação: a API reserva a lista de titulares por finalidade ao encarregado (dpo) e ao sistema.",
		"consent.counts.skipped":   "As contagens por situação estão na página de consentimento, sem a busca.",
		"consent.lookup":           "Histórico de um titular",
		"consent.lookup.intro":     "Informe um ou mais identificadores. Eles são enviados no corpo do formulário, não ficam no endereço nem no registro do servidor; a consulta à evidência é registrada no log de acesso.",
		"consent.cpf":              "CPF",
		"consent.email":            "E-mail",
		"consent.phone":            "Telefone (com DDD)",
		"consent.search":           "Buscar histórico",
		"consent.search.refused":   "Seu papel (%s) não consulta o histórico de um titular: a API reserva isso ao encarregado (dpo) e ao sistema.",
		"consent.empty_subject":    "Informe o CPF, o e-mail ou o telefone do titular.",
		"consent.bad_subject":      "Identificador inválido: confira o CPF (11 dígitos, com ou sem pontuação), o e-mail ou o telefone (com DDD).",
		"consent.not_found":        "Nenhum registro de consentimento para este titular.",
		"consent.history":          "Histórico encontrado",
		"consent.history.refs":     "Registros de %d referência(s) de titular, do mais antigo ao mais recente.",
		"consent.history.caption":  "Eventos de consentimento em %s, em ordem cronológica",
		"consent.current":          "Situação atual",
		"consent.col.at":           "Quando",
		"consent.col.action":       "Ato",
		"consent.col.version":      "Versão dos termos",
		"consent.col.channel":      "Canal",
		"consent.col.rep":          "Dado por",
		"consent.col.evidence":     "Evidência",
		"consent.col.request":      "Pedido",
		"consent.rep.self":         "o próprio titular",
		"consent.evidence.by":      "capturado por",
		"consent.evidence.ipua":    "IP e navegador registrados",
		"consent.evidence.erased":  "IP e navegador apagados",
		"consent.evidence.term":    "SHA-256 do termo",
		"consent.action.GRANT":     "Consentiu",
		"consent.action.REFUSE":    "Recusou",
		"consent.action.REVOKE":    "Revogou",
		"consent.action.UNDEFINED": "—",
	})
}

type consentPurpose struct {
	ID, Name, Description, LegalBasis, Refusal string
	ConsentRequired                            bool
	SharedWith                                 []string
	Version, SHA256, Text                      string
	Published                                  time.Time
	Counts                                     map[string]int64
}

type consentEvent struct {
	At                                       time.Time
	Action, TermVersion, TermSHA256          string
	TermShort                                string
	Channel, RequestID, CapturedBy, Relation string
	// Recorded: IP or user agent kept; Erased: evidence present without them.
	Recorded, Erased bool
}

type consentHistory struct {
	Purpose, Name, Current string
	Events                 []consentEvent
}

type consentData struct {
	Purposes []consentPurpose
	Actions  []string
	Counted  bool
	// Skipped: the counts were left out (a history lookup), not refused.
	Skipped   bool
	CanSearch bool
	// Searched is set once a titular was looked up; Refs counts the
	// subject references their records were found under.
	Searched bool
	Refs     int
	History  []consentHistory
}

var consentActions = []string{"GRANT", "REFUSE", "REVOKE"}

// consentCounter is the consent service's count for the console, which no
// RPC offers (service.Consent.ConsoleConsentCounts).
type consentCounter interface {
	ConsoleConsentCounts(ctx context.Context, tenant string) (map[string]map[string]int64, error)
}

func (c *Console) consentPage(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	if _, ok := c.consentBase(w, r, v, p, true); ok {
		c.render(w, http.StatusOK, "consent.html", v)
	}
}

// consentBase fills the purposes, their current terms and, with counts,
// the counts (which read every consent record, so a history lookup leaves
// them out); false when it already answered with an error.
func (c *Console) consentBase(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal, counts bool) (*consentData, bool) {
	d := &consentData{Actions: consentActions, Skipped: !counts}
	v.Title, v.Section, v.Data = s("consent.title"), "consentimento", d
	fail := func(err error) (*consentData, bool) {
		c.opts.Log.Warn("console: consent page failed", "tenant", v.Tenant.ID, "code", apiCode(err).String())
		v.Error = s("error.body")
		c.render(w, http.StatusBadGateway, "consent.html", v)
		return nil, false
	}
	req := &lgpdv1.ListPurposesRequest{Tenant: v.Tenant.ID}
	ctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_ListPurposes_FullMethodName, req)
	var resp *lgpdv1.ListPurposesResponse
	if err == nil {
		resp, err = c.opts.Consents.ListPurposes(ctx, req)
	}
	if err != nil {
		return fail(err)
	}
	var byPurpose map[string]map[string]int64
	cctx, cerr := c.call(r.Context(), p, lgpdv1.ConsentService_ListConsentSubjects_FullMethodName, &lgpdv1.ListConsentSubjectsRequest{Tenant: v.Tenant.ID})
	if cc, ok := c.opts.Consents.(consentCounter); ok && cerr == nil && counts {
		if byPurpose, err = cc.ConsoleConsentCounts(cctx, v.Tenant.ID); err != nil {
			return fail(err)
		}
		d.Counted = true
	}
	_, serr := c.call(r.Context(), p, lgpdv1.ConsentService_SearchConsents_FullMethodName, &lgpdv1.SearchConsentsRequest{Tenant: v.Tenant.ID})
	d.CanSearch = serr == nil
	for _, pu := range resp.GetPurposes() {
		cp := consentPurpose{ID: pu.GetId(), Name: pu.GetName(), Description: pu.GetDescription(), LegalBasis: pu.GetLegalBasis(),
			Refusal: pu.GetRefusalConsequences(), ConsentRequired: pu.GetConsentRequired(), SharedWith: pu.GetSharedWith(),
			Version: pu.GetCurrentTermVersion(), SHA256: pu.GetCurrentTermSha256(), Counts: byPurpose[pu.GetId()]}
		if cp.Version != "" {
			treq := &lgpdv1.GetTermRequest{Tenant: v.Tenant.ID, Purpose: cp.ID, Version: cp.Version}
			tctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_GetTerm_FullMethodName, treq)
			var term *lgpdv1.Term
			if err == nil {
				term, err = c.opts.Consents.GetTerm(tctx, treq)
			}
			if err != nil {
				return fail(err)
			}
			cp.Text, cp.Published = term.GetText(), term.GetValidFrom().AsTime()
		}
		d.Purposes = append(d.Purposes, cp)
	}
	return d, true
}

// consentHistory looks a titular up by the identifiers posted and shows
// each purpose's records in time order, through SearchConsents. The
// identifiers are never echoed back, logged nor put in a URL.
func (c *Console) consentHistory(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	d, ok := c.consentBase(w, r, v, p, false)
	if !ok {
		return
	}
	subject := &lgpdv1.Subject{Cpf: strings.TrimSpace(r.PostFormValue("cpf")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	if subject.Cpf == "" && subject.Email == "" && subject.Phone == "" {
		v.Error = s("consent.empty_subject")
		c.render(w, http.StatusBadRequest, "consent.html", v)
		return
	}
	req := &lgpdv1.SearchConsentsRequest{Tenant: v.Tenant.ID, Subject: subject}
	// The evidence read is in the access log, with the reason typed, as
	// on the titular's page.
	ctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_SearchConsents_FullMethodName, req)
	var resp *lgpdv1.SearchConsentsResponse
	if err == nil {
		ctx, _ = withAccessReason(ctx, r)
		resp, err = c.opts.Consents.SearchConsents(ctx, req)
	}
	var se *service.Error
	switch code := apiCode(err); {
	case code == codes.OK:
	case errors.As(err, &se) && se.Reason == "ACCESS_REASON_REQUIRED":
		v.Error = s("titular.reason_required")
		c.render(w, http.StatusBadRequest, "consent.html", v)
		return
	case code == codes.PermissionDenied:
		v.Error = fmt.Sprintf(s("consent.search.refused"), p.Role)
		c.render(w, http.StatusForbidden, "consent.html", v)
		return
	case code == codes.InvalidArgument:
		v.Error = s("consent.bad_subject")
		c.render(w, http.StatusBadRequest, "consent.html", v)
		return
	default:
		c.opts.Log.Warn("console: consent search failed", "tenant", v.Tenant.ID, "code", code.String())
		v.Error = s("error.body")
		c.render(w, http.StatusBadGateway, "consent.html", v)
		return
	}
	d.Searched, d.Refs = true, len(resp.GetSubjectRefs())
	names := map[string]string{}
	for _, pu := range d.Purposes {
		names[pu.ID] = pu.Name
	}
	byPurpose := map[string]*consentHistory{}
	var order []string
	for _, rec := range resp.GetHistory() {
		h := byPurpose[rec.GetPurpose()]
		if h == nil {
			h = &consentHistory{Purpose: rec.GetPurpose(), Name: names[rec.GetPurpose()]}
			byPurpose[rec.GetPurpose()] = h
			order = append(order, rec.GetPurpose())
		}
		ev := consentEvent{At: rec.GetAt().AsTime(), Action: rec.GetAction().String(), TermVersion: rec.GetTermVersion(),
			TermSHA256: rec.GetTermSha256(), Channel: rec.GetChannel(), RequestID: rec.GetRequestId()}
		if len(ev.TermSHA256) > 16 {
			ev.TermShort = ev.TermSHA256[:16] + "…"
		}
		if e := rec.GetEvidence(); e != nil {
			ev.CapturedBy = e.GetCapturedBy()
			ev.Recorded = e.GetIp() != "" || e.GetUserAgent() != ""
			ev.Erased = !ev.Recorded
			if rep := e.GetRepresentative(); rep != nil {
				ev.Relation = rep.GetRelation()
			}
		}
		h.Events = append(h.Events, ev)
	}
	for _, cur := range resp.GetCurrent() {
		if h := byPurpose[cur.GetPurpose()]; h != nil {
			h.Current = cur.GetAction().String()
		}
	}
	for _, id := range order {
		h := byPurpose[id]
		// The API returns the history oldest first; kept stable by time.
		slices.SortStableFunc(h.Events, func(a, b consentEvent) int { return a.At.Compare(b.At) })
		d.History = append(d.History, *h)
	}
	c.render(w, http.StatusOK, "consent.html", v)
}
