package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// propagationRoutes adds webhook deliveries per endpoint and requeue.
func (c *Console) propagationRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/propagacao", c.signedIn(c.propagation))
	m.HandleFunc("POST /console/t/{tenant}/propagacao/reenviar", c.signedIn(c.requeue))
}

func init() {
	addStrings(map[string]string{
		"prop.title":          "Propagação aos destinatários",
		"prop.intro":          "Entregas dos eventos de propagação (Art. 18 §6) a cada destino configurado: revogações, correções, eliminações, bloqueios e conclusões de pedidos. Uma entrega que falhou todas as tentativas pode ser reenviada depois que o destino voltar.",
		"prop.none":           "Esta organização não tem destinos de webhook configurados; nenhum evento é propagado. Configure-os em tenants[].webhooks.",
		"prop.host":           "Servidor",
		"prop.recipient":      "Destinatário (mapa de dados)",
		"prop.events":         "Eventos",
		"prop.events.all":     "todos",
		"prop.unconfigured":   "Este destino não está mais na configuração: suas entregas não podem ser reenviadas.",
		"prop.count.pending":  "pendentes",
		"prop.count.failed":   "falharam",
		"prop.count.done":     "entregues",
		"prop.requeue.all":    "Reenviar todas as que falharam neste destino",
		"prop.requeue.one":    "Reenviar",
		"prop.requeued":       "%d entrega(s) voltaram para a fila de envio.",
		"prop.requeued.none":  "Nenhuma entrega estava em falha: nada foi reenviado.",
		"prop.open.caption":   "Entregas pendentes e que falharam para %s, as mais recentes primeiro",
		"prop.open.empty":     "Nenhuma entrega pendente ou em falha para este destino.",
		"prop.done.caption":   "Entregas concluídas recentemente para %s",
		"prop.done.summary":   "Entregas concluídas recentemente (%d)",
		"prop.col.event":      "Evento",
		"prop.col.request":    "Pedido",
		"prop.col.state":      "Situação",
		"prop.col.attempts":   "Tentativas",
		"prop.col.error":      "Último erro",
		"prop.col.next":       "Próxima tentativa",
		"prop.col.ids":        "Identificadores enviados",
		"prop.col.created":    "Criado em",
		"prop.col.delivered":  "Entregue em",
		"prop.col.action":     "Ação",
		"prop.ids.none":       "nenhum (só a referência)",
		"prop.state.PENDING":  "Pendente",
		"prop.state.FAILED":   "Falhou",
		"prop.state.DONE":     "Entregue",
		"prop.more":           "Há mais entregas pendentes ou em falha do que esta página mostra.",
		"prop.next":           "Próxima página",
		"prop.first":          "Primeira página",
		"prop.refused":        "Seu papel (%s) não consulta nem reenvia entregas de webhook: a API reserva isso ao encarregado (dpo).",
		"prop.bad_page":       "Página inválida: volte à primeira página da propagação.",
		"prop.bad_requeue":    "Pedido de reenvio inválido: recarregue a página de propagação e use o botão de novo.",
		"prop.no_endpoint":    "Este destino não está na configuração desta organização; recarregue a página de propagação.",
		"prop.requeue_failed": "Não foi possível reenviar. Tente de novo; se persistir, avise o operador.",
		"prop.dpo_only":       "Só o encarregado (dpo) pode reenviar entregas.",
	})
}

// propEventNames name the propagation events in pt-BR.
var propEventNames = map[string]string{
	"consent.revoked":           "Consentimento revogado",
	"subject.corrected":         "Dados corrigidos",
	"subject.deleted":           "Dados eliminados",
	"subject.anonymized":        "Dados anonimizados",
	"subject.blocked":           "Dados bloqueados",
	"subject.unblocked":         "Bloqueio suspenso",
	"subject.merged":            "Titulares unificados",
	"request.completed":         "Pedido concluído",
	"request.denied":            "Pedido negado",
	"request.failed":            "Pedido falhou",
	"request.awaiting_approval": "Pedido aguarda aprovação",
	"decision.review_requested": "Revisão de decisão pedida",
	"decision.review_completed": "Revisão de decisão concluída",
	"incident.notified":         "Incidente comunicado",
}

// propPageSize is how many pending and failed deliveries one page lists;
// propDoneSize how many recent delivered ones are shown.
const (
	propPageSize = 200
	propDoneSize = 50
)

type propRow struct {
	EventID, Type, TypeName, RequestID, State string
	Attempts                                  int32
	LastError                                 string
	Created, Next, Delivered                  time.Time
	Identifiers                               []string
}

type propEndpoint struct {
	// Name is the endpoint's name in the configuration; Host the URL's
	// host only (no path, no query).
	Name, Host, Recipient      string
	Events                     []string
	Configured                 bool
	Pending, Failed, Delivered int64
	Open, Done                 []propRow
}

type propData struct {
	Endpoints   []*propEndpoint
	CanRequeue  bool
	Next        string
	Paged, More bool
}

// propagation lists, per configured endpoint, its delivery counts, its
// pending and failed deliveries and the latest delivered ones, through
// ListDeliveries (dpo only, as in the API).
func (c *Console) propagation(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	d := &propData{CanRequeue: p.Role == config.RoleDPO}
	v.Title, v.Section, v.Data = s("prop.title"), "propagacao", d
	switch n, err := strconv.Atoi(r.URL.Query().Get("reenviadas")); {
	case err != nil:
	case n == 0:
		v.Message = s("prop.requeued.none")
	default:
		v.Message = fmt.Sprintf(s("prop.requeued"), n)
	}
	byName := map[string]*propEndpoint{}
	endpoint := func(name string) *propEndpoint {
		if e := byName[name]; e != nil {
			return e
		}
		e := &propEndpoint{Name: name}
		byName[name] = e
		d.Endpoints = append(d.Endpoints, e)
		return e
	}
	for _, wh := range v.Tenant.Webhooks {
		e := endpoint(wh.Name)
		e.Configured, e.Recipient, e.Events = true, wh.Recipient, wh.Events
		if u, err := url.Parse(wh.URL); err == nil {
			e.Host = u.Host
		}
	}

	page := r.URL.Query().Get("page")
	d.Paged = page != ""
	req := &lgpdv1.ListDeliveriesRequest{Tenant: v.Tenant.ID, PageSize: propPageSize, PageToken: page}
	ctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_ListDeliveries_FullMethodName, req)
	if apiCode(err) == codes.PermissionDenied {
		d.Endpoints = slices.DeleteFunc(d.Endpoints, func(e *propEndpoint) bool { return !e.Configured })
		v.Error = fmt.Sprintf(s("prop.refused"), p.Role)
		c.render(w, http.StatusForbidden, "propagation.html", v)
		return
	}
	var open, done *lgpdv1.ListDeliveriesResponse
	var counts map[string]map[string]int64
	if err == nil {
		open, err = c.opts.Consents.ListDeliveries(ctx, req)
	}
	if err == nil {
		done, err = c.opts.Consents.ListDeliveries(ctx, &lgpdv1.ListDeliveriesRequest{Tenant: v.Tenant.ID,
			State: lgpdv1.DeliveryState_DELIVERY_DELIVERED, PageSize: propDoneSize})
	}
	if err == nil {
		counts, err = c.deliveryCounts(ctx, v.Tenant.ID)
	}
	if apiCode(err) == codes.InvalidArgument {
		v.Error = s("prop.bad_page")
		c.render(w, http.StatusBadRequest, "propagation.html", v)
		return
	}
	if err != nil {
		c.opts.Log.Warn("console: propagation failed", "tenant", v.Tenant.ID, "code", apiCode(err).String())
		v.Error = s("error.body")
		c.render(w, http.StatusBadGateway, "propagation.html", v)
		return
	}
	for _, dl := range open.GetDeliveries() {
		e := endpoint(dl.GetEndpoint())
		e.Open = append(e.Open, propRowOf(dl))
	}
	for _, dl := range done.GetDeliveries() {
		e := endpoint(dl.GetEndpoint())
		e.Done = append(e.Done, propRowOf(dl))
	}
	for name, byState := range counts {
		e := endpoint(name)
		e.Pending, e.Failed, e.Delivered = byState["PENDING"], byState["FAILED"], byState["DELIVERED"]
	}
	// Configured endpoints first, in configuration order; then endpoints
	// no longer configured that still have deliveries, by name.
	slices.SortStableFunc(d.Endpoints, func(a, b *propEndpoint) int {
		switch {
		case a.Configured && b.Configured:
			return 0
		case a.Configured:
			return -1
		case b.Configured:
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if tok := open.GetNextPageToken(); tok != "" {
		d.More, d.Next = true, "?"+url.Values{"page": {tok}}.Encode()
	}
	c.render(w, http.StatusOK, "propagation.html", v)
}

func propRowOf(dl *lgpdv1.Delivery) propRow {
	row := propRow{EventID: dl.GetEventId(), Type: dl.GetType(), TypeName: propEventNames[dl.GetType()], RequestID: dl.GetRequestId(), Attempts: dl.GetAttempts(),
		LastError: dl.GetLastError(), Identifiers: dl.GetIdentifiersSent()}
	switch dl.GetState() {
	case lgpdv1.DeliveryState_DELIVERY_FAILED:
		row.State = "FAILED"
	case lgpdv1.DeliveryState_DELIVERY_DELIVERED:
		row.State = "DONE"
	default:
		row.State = "PENDING"
	}
	if row.TypeName == "" {
		row.TypeName = row.Type
	}
	if t := dl.GetCreatedAt(); t != nil {
		row.Created = t.AsTime()
	}
	if t := dl.GetNextAttemptAt(); t != nil && row.State == "PENDING" {
		row.Next = t.AsTime()
	}
	if t := dl.GetDeliveredAt(); t != nil {
		row.Delivered = t.AsTime()
	}
	return row
}

// deliveryCounter is the consent service's count for the console, which
// no RPC offers (service.Consent.ConsoleDeliveryCounts).
type deliveryCounter interface {
	ConsoleDeliveryCounts(ctx context.Context, tenant string) (map[string]map[string]int64, error)
}

// deliveryCounts counts per endpoint and state; ctx was authorized for
// ListDeliveries. A service without the count yields none.
func (c *Console) deliveryCounts(ctx context.Context, tenant string) (map[string]map[string]int64, error) {
	dc, ok := c.opts.Consents.(deliveryCounter)
	if !ok {
		return nil, nil
	}
	return dc.ConsoleDeliveryCounts(ctx, tenant)
}

// requeue puts failed deliveries back in the queue through
// RetryDeliveries: one (event) or every failed one of an endpoint; it
// answers 303 back to the page with how many were requeued.
func (c *Console) requeue(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	v.Title, v.Section = s("prop.title"), "propagacao"
	req := &lgpdv1.RetryDeliveriesRequest{Tenant: v.Tenant.ID, Endpoint: r.PostFormValue("endpoint")}
	if ev := r.PostFormValue("event"); ev != "" {
		req.EventIds = []string{ev}
	}
	if req.Endpoint == "" {
		v.Message = s("prop.bad_requeue")
		c.render(w, http.StatusBadRequest, "message.html", v)
		return
	}
	ctx, err := c.call(r.Context(), p, lgpdv1.ConsentService_RetryDeliveries_FullMethodName, req)
	var resp *lgpdv1.RetryDeliveriesResponse
	if err == nil {
		resp, err = c.opts.Consents.RetryDeliveries(ctx, req)
	}
	if err != nil {
		code, msg, st := apiCode(err), s("prop.requeue_failed"), http.StatusBadGateway
		switch code {
		case codes.PermissionDenied:
			msg, st = s("prop.dpo_only"), http.StatusForbidden
		case codes.NotFound:
			msg, st = s("prop.no_endpoint"), http.StatusNotFound
		case codes.InvalidArgument:
			msg, st = s("prop.bad_requeue"), http.StatusBadRequest
		default:
			c.opts.Log.Warn("console: requeue failed", "tenant", v.Tenant.ID, "code", code.String())
		}
		v.Message = msg
		c.render(w, st, "message.html", v)
		return
	}
	c.opts.Log.Info("console: deliveries requeued", "tenant", v.Tenant.ID, "requeued", resp.GetRequeued())
	http.Redirect(w, r, "/console/t/"+v.Tenant.ID+"/propagacao?reenviadas="+strconv.FormatInt(resp.GetRequeued(), 10), http.StatusSeeOther)
}
