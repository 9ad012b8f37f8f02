package console

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/inventory"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/service"
)

func init() {
	addStrings(map[string]string{
		"record.title":            "Registro das operações de tratamento (Art. 37)",
		"record.intro":            "Inventário gerado do mapa de dados desta organização: para cada conjunto de dados, as categorias, os dados sensíveis, a finalidade, a base legal, a origem, com quem é compartilhado e por quanto tempo é guardado. É o registro que a ANPD pode pedir (LGPD art. 37).",
		"record.controller":       "Controlador",
		"record.dpo":              "Encarregado (art. 41)",
		"record.generated":        "Gerado em",
		"record.downloads":        "Baixar o registro",
		"record.xlsx":             "Planilha XLSX (para imprimir ou entregar)",
		"record.csv":              "CSV (uma tabela)",
		"record.entities":         "Dados tratados",
		"record.summary":          "%d conjuntos de dados, %d com dados sensíveis.",
		"record.sensitive":        "Contém dados sensíveis",
		"record.caption":          "Tratamento de “%s”",
		"record.row.table":        "Tabela no CRM",
		"record.row.categories":   "Categorias de dados",
		"record.row.sensitive":    "Dados sensíveis (art. 5º, II)",
		"record.row.fields":       "Dados pessoais tratados",
		"record.row.purpose":      "Finalidade",
		"record.row.basis":        "Base legal",
		"record.row.origin":       "Origem dos dados",
		"record.row.shared":       "Compartilhado com",
		"record.row.retention":    "Retenção",
		"record.unavailable":      "Não foi possível gerar o registro agora: a organização não está disponível. Tente de novo em instantes; se persistir, avise o operador.",
		"record.ledger":           "Livro de registro (ledger)",
		"record.ledger.intro":     "Cada pedido e cada mudança de situação entram num livro à prova de adulteração (árvore de Merkle, RFC 6962) com checkpoints assinados. A verificação recalcula a árvore inteira a partir das entradas e confere cada checkpoint e cada cossinatura de testemunha.",
		"record.ledger.size":      "Entradas no livro",
		"record.ledger.cp_time":   "Assinado em",
		"record.ledger.cp_root":   "Raiz (SHA-256, hex)",
		"record.ledger.cp_key":    "Chave que assinou",
		"record.ledger.caption":   "Último checkpoint assinado do livro",
		"record.ledger.error":     "Não foi possível ler o estado do livro agora. Tente de novo; se persistir, avise o operador.",
		"record.ledger.dataloss":  "O livro não estende o último checkpoint assinado: o titular se recusa a assinar outro. Rode a verificação abaixo para saber onde, preserve o banco como está e avise o operador.",
		"record.witnesses":        "Cossinaturas de testemunhas",
		"record.witnesses.none":   "Nenhuma testemunha cossinou este livro ainda (ou nenhuma está configurada): um restauro do banco inteiro só é percebido com checkpoints publicados fora dele.",
		"record.witnesses.cap":    "Último checkpoint cossinado por testemunha",
		"record.witness.name":     "Testemunha",
		"record.witness.size":     "Tamanho cossinado",
		"record.witness.time":     "Guardado em",
		"record.verify":           "Verificação do livro",
		"record.verify.start":     "Verificar o livro inteiro",
		"record.verify.again":     "Verificar de novo",
		"record.verify.help":      "A verificação roda no servidor, sem prender esta página (limite de 30 minutos); a página se atualiza sozinha enquanto ela roda.",
		"record.verify.running":   "Verificação em andamento, iniciada em %s.",
		"record.verify.already":   "Já havia uma verificação em andamento; esta é a que está sendo mostrada.",
		"record.verify.progress":  "Entradas verificadas: %d de %d",
		"record.verify.banner":    "Verificação do livro em andamento: %d de %d entradas. Acompanhe abaixo; a página se atualiza sozinha.",
		"record.verify.ok":        "OK",
		"record.verify.ok_text":   "O livro confere: %d entradas e %d nós guardados recalculados; checkpoints assinados conferidos: %d (o maior de tamanho %d); cabeçalho guardado conferido.",
		"record.verify.pending":   "Entradas aguardando integração à árvore (ficam para a próxima verificação): %d.",
		"record.verify.root":      "Raiz recalculada",
		"record.verify.witness":   "Testemunha %s: cossinou o tamanho %d, que o livro estende.",
		"record.verify.failed":    "FALHOU",
		"record.verify.entry":     "O livro não confere a partir da entrada %d: ela ou algo antes dela foi alterado, removido ou inserido por fora do titular.",
		"record.verify.general":   "O livro não confere com um checkpoint assinado, com uma cossinatura ou com o cabeçalho guardado.",
		"record.verify.detail":    "Detalhe técnico",
		"record.verify.act":       "Preserve o banco como está e avise o operador e a segurança da informação: a integridade do registro de tratamento está comprometida.",
		"record.verify.error":     "NÃO CONCLUÍDA",
		"record.verify.err_text":  "A verificação não pôde ser concluída (banco indisponível ou configuração do livro): nada foi concluído sobre a integridade. Tente de novo; se persistir, avise o operador.",
		"record.verify.timeout":   "A verificação passou do limite de 30 minutos e foi interrompida: nada foi concluído sobre a integridade. Rode titular ledger verify no servidor.",
		"record.verify.when":      "Iniciada em %s, concluída em %s (%s).",
		"record.verify.never":     "Nenhuma verificação foi rodada pelo console desde que o titular iniciou.",
		"record.verify.forbidden": "Seu papel não pode rodar a verificação do livro.",
	})
}

// RecordSource draws up a tenant's record of processing (Options.Record).
type RecordSource func(ctx context.Context, tenant string) (*inventory.Record, error)

// Cosignature is the latest checkpoint one witness cosigned for a
// tenant's ledger.
type Cosignature struct {
	Witness string
	Size    uint64
	At      time.Time
}

// VerifyOutcome is what a verification of a whole ledger established.
type VerifyOutcome struct {
	Size, Nodes uint64
	Root        []byte
	// Checkpoints is how many signed checkpoints were checked; Largest
	// the size of the largest.
	Checkpoints int
	Largest     uint64
	// Witnesses are the cosigned checkpoints the ledger was checked to
	// extend.
	Witnesses []Cosignature
	// Pending are the leaves not yet integrated, left for the next run.
	Pending int64
}

// verifyTimeout bounds one verification run.
const verifyTimeout = 30 * time.Minute

// recordRoutes adds the record of processing (Art. 37) and the ledger's state.
func (c *Console) recordRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/registro", c.signedIn(c.recordPage))
	m.HandleFunc("GET /console/t/{tenant}/registro.xlsx", c.signedIn(c.recordDownload(".xlsx")))
	m.HandleFunc("GET /console/t/{tenant}/registro.csv", c.signedIn(c.recordDownload(".csv")))
	m.HandleFunc("POST /console/t/{tenant}/registro/verificar", c.signedIn(c.recordVerify))
}

// recordEntity is one entity of the record, as the page shows it.
type recordEntity struct {
	inventory.Entry
	ID        string
	Sensitive bool
}

type ledgerState struct {
	Size                 uint64
	CheckpointAt         time.Time
	Root                 string
	Keys                 string
	Cosigned             []Cosignature
	Error, CosignedError bool
	// DataLoss: the ledger does not extend its last signed checkpoint.
	DataLoss bool
}

type recordData struct {
	Record    *inventory.Record
	Entities  []recordEntity
	Sensitive int
	Ledger    ledgerState
	Run       *runView
	// Already says a start found a run going: the page shows that one.
	Already bool
}

// record draws up the tenant's record, authorized as the API authorizes
// the request statistics: the same tenant-wide report, for the DPO and
// the audit.
func (c *Console) record(ctx context.Context, p *service.Principal, tenantID string) (*inventory.Record, error) {
	if c.opts.Record == nil {
		return nil, errors.New("console: no record source configured")
	}
	ctx, err := c.call(ctx, p, lgpdv1.RequestService_GetRequestStats_FullMethodName, &lgpdv1.GetRequestStatsRequest{Tenant: tenantID})
	if err != nil {
		return nil, err
	}
	return c.opts.Record(ctx, tenantID)
}

// recordPage shows the record, the ledger's state and its verification.
func (c *Console) recordPage(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	v.Title, v.Section = s("record.title"), "registro"
	rec, err := c.record(r.Context(), p, v.Tenant.ID)
	if err != nil {
		c.opts.Log.Warn("console: record failed", "tenant", v.Tenant.ID, "code", apiCode(err).String())
		v.Error = s("record.unavailable")
		c.render(w, http.StatusBadGateway, "record.html", v)
		return
	}
	d := &recordData{Record: rec, Already: r.URL.Query().Get("ja") == "1"}
	for i, e := range rec.Entries {
		re := recordEntity{Entry: e, ID: fmt.Sprintf("entidade-%d", i+1), Sensitive: e.Sensitive()}
		if re.Sensitive {
			d.Sensitive++
		}
		d.Entities = append(d.Entities, re)
	}
	d.Ledger = c.ledgerState(r.Context(), p, v.Tenant.ID)
	d.Run = c.runOf(v.Tenant.ID).view()
	v.Data = d
	c.render(w, http.StatusOK, "record.html", v)
}

// ledgerState reads the latest signed checkpoint through the API's
// GetCheckpoint (which integrates pending leaves first) and the witnesses'
// cosignatures.
func (c *Console) ledgerState(ctx context.Context, p *service.Principal, tenantID string) ledgerState {
	var st ledgerState
	req := &lgpdv1.GetCheckpointRequest{Tenant: tenantID}
	cctx, err := c.call(ctx, p, lgpdv1.LedgerService_GetCheckpoint_FullMethodName, req)
	var cp *lgpdv1.Checkpoint
	if err == nil {
		cp, err = c.opts.Ledger.GetCheckpoint(cctx, req)
	}
	if err != nil {
		c.opts.Log.Warn("console: ledger checkpoint failed", "tenant", tenantID, "code", apiCode(err).String())
		st.Error, st.DataLoss = true, apiCode(err) == codes.DataLoss
		return st
	}
	st.Size, st.Root, st.Keys = cp.GetSize(), hex.EncodeToString(cp.GetRootHash()), strings.Join(noteKeys(cp.GetNote()), ", ")
	if cp.GetCreatedAt() != nil {
		st.CheckpointAt = cp.GetCreatedAt().AsTime()
	}
	if c.opts.Cosigned != nil {
		if st.Cosigned, err = c.opts.Cosigned(cctx, tenantID); err != nil {
			c.opts.Log.Warn("console: ledger cosignatures failed", "tenant", tenantID, "code", apiCode(err).String())
			st.CosignedError = true
		}
	}
	return st
}

// noteKeys are the names of the keys that signed a signed note: its
// signature lines, "— name base64", after the blank line.
func noteKeys(n string) []string {
	_, sigs, ok := strings.Cut(n, "\n\n")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(sigs, "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, " "); ok {
			out = append(out, name)
		}
	}
	return out
}

// recordDownload writes the record as a file: the XLSX the DPO prints or
// hands over, or the CSV of its one table. It is built whole before the
// first byte, so a failure never leaves half a file.
func (c *Console) recordDownload(ext string) tenantPage {
	return func(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
		rec, err := c.record(r.Context(), p, v.Tenant.ID)
		var buf bytes.Buffer
		if err == nil {
			if ext == ".xlsx" {
				err = inventory.WriteXLSX(&buf, rec)
			} else {
				err = inventory.WriteCSV(&buf, rec)
			}
		}
		if err != nil {
			c.opts.Log.Warn("console: record download failed", "tenant", v.Tenant.ID, "format", ext, "code", apiCode(err).String())
			v.Title, v.Section, v.Error = s("record.title"), "registro", s("record.unavailable")
			c.render(w, http.StatusBadGateway, "record.html", v)
			return
		}
		h := w.Header()
		if ext == ".xlsx" {
			h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		} else {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		}
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="registro-tratamento-%s-%s%s"`,
			v.Tenant.ID, rec.Generated.In(brasilia).Format("2006-01-02"), ext))
		h.Set("Content-Length", fmt.Sprint(buf.Len()))
		_, _ = buf.WriteTo(w)
	}
}

// recordVerify starts a verification of the tenant's whole ledger, unless
// one is running (the page then shows that one), and sends back to the
// page. It reads every entry, so it is authorized as ListEntries is.
func (c *Console) recordVerify(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	id := v.Tenant.ID
	ctx, err := c.call(r.Context(), p, lgpdv1.LedgerService_ListEntries_FullMethodName, &lgpdv1.ListEntriesRequest{Tenant: id})
	if err != nil || c.opts.VerifyLedger == nil {
		c.opts.Log.Warn("console: ledger verify refused", "tenant", id, "code", apiCode(err).String())
		v.Title, v.Message = s("error.title"), s("record.verify.forbidden")
		c.render(w, http.StatusForbidden, "message.html", v)
		return
	}
	target := "/console/t/" + id + "/registro"
	if !c.startRun(ctx, id) {
		target += "?ja=1"
	}
	http.Redirect(w, r, target+"#verificacao", http.StatusSeeOther)
}

// verifyRun is one verification of a tenant's ledger, running or done.
type verifyRun struct {
	mu             sync.Mutex
	started, ended time.Time
	done, total    uint64
	outcome        VerifyOutcome
	err            error
}

func (c *Console) runOf(tenantID string) *verifyRun {
	c.runs.Lock()
	defer c.runs.Unlock()
	return c.runs.m[tenantID]
}

// startRun starts a run for the tenant and says true, or false when one
// is running already. The run's context is not the request's, which ends with the
// redirect: it keeps its values (the principal) and has its own bound.
func (c *Console) startRun(ctx context.Context, tenantID string) bool {
	c.runs.Lock()
	defer c.runs.Unlock()
	if cur := c.runs.m[tenantID]; cur != nil && cur.running() {
		return false
	}
	run := &verifyRun{started: time.Now()}
	c.runs.m[tenantID] = run
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyTimeout)
	go func() {
		defer cancel()
		out, err := c.runVerify(rctx, tenantID, run)
		if err == nil && rctx.Err() != nil {
			err = rctx.Err()
		}
		run.finish(out, err)
		var pr *ledger.Problem
		switch {
		case err == nil:
			c.opts.Log.Info("console: ledger verified", "tenant", tenantID, "size", out.Size)
		case errors.As(err, &pr):
			c.opts.Log.Warn("console: ledger does NOT verify", "tenant", tenantID, "entry", pr.Entry)
		default:
			c.opts.Log.Warn("console: ledger verify not completed", "tenant", tenantID, "code", apiCode(err).String())
		}
	}()
	return true
}

// runVerify runs the verification, a panic in it reported as an error
// rather than ending the process.
func (c *Console) runVerify(ctx context.Context, tenantID string, run *verifyRun) (out VerifyOutcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("console: ledger verify panicked: %v", r)
		}
	}()
	return c.opts.VerifyLedger(ctx, tenantID, run.progress)
}

func (r *verifyRun) progress(done, total uint64) {
	r.mu.Lock()
	r.done, r.total = done, total
	r.mu.Unlock()
}

func (r *verifyRun) finish(out VerifyOutcome, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended, r.outcome, r.err = time.Now(), out, err
	if err == nil {
		r.done = out.Size
		r.total = max(r.total, out.Size)
	}
}

func (r *verifyRun) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended.IsZero()
}

// runView is a run as the page shows it.
type runView struct {
	Running         bool
	Started, Ended  time.Time
	Took            string
	Done, Total     uint64
	OK              bool
	Outcome         VerifyOutcome
	Root            string
	Failed          bool
	Entry           int64
	Detail          string
	Error, TimedOut bool
}

func (r *verifyRun) view() *runView {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := &runView{Running: r.ended.IsZero(), Started: r.started, Ended: r.ended, Done: r.done, Total: r.total}
	if v.Running {
		return v
	}
	v.Took = r.ended.Sub(r.started).Round(time.Millisecond).String()
	var pr *ledger.Problem
	switch {
	case r.err == nil:
		v.OK, v.Outcome, v.Root = true, r.outcome, hex.EncodeToString(r.outcome.Root)
	case errors.As(r.err, &pr):
		// A problem names positions and hashes, never a leaf's contents.
		v.Failed, v.Entry, v.Detail = true, pr.Entry, pr.Error()
	case errors.Is(r.err, context.DeadlineExceeded):
		v.Error, v.TimedOut = true, true
	default:
		v.Error = true
	}
	return v
}
