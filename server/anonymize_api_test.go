package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
)

// restAnonymize is the JSON shape of an ANONYMIZE's result over REST.
type restAnonymize struct {
	Status string `json:"status"`
	Result struct {
		Anonymize struct {
			Entities []struct {
				Entity string `json:"entity"`
				Rows   string `json:"rows"`
				Fields string `json:"fields"`
				Held   string `json:"held"`
			} `json:"entities"`
			Holds []struct {
				Entity         string `json:"entity"`
				Basis          string `json:"basis"`
				LegalReference string `json:"legal_reference"`
				Until          string `json:"until"`
				Rows           string `json:"rows"`
			} `json:"holds"`
			TotalRows string `json:"total_rows"`
		} `json:"anonymize"`
	} `json:"result"`
	Reasons []struct {
		Code           string `json:"code"`
		Entity         string `json:"entity"`
		LegalReference string `json:"legal_reference"`
		Until          string `json:"until"`
	} `json:"reasons"`
}

func (e *testEnv) anonymizeREST(t *testing.T, subject map[string]any) (restAnonymize, []byte) {
	t.Helper()
	r := e.createREST(t, keyBackend, map[string]any{"kind": "ANONYMIZE", "subject": subject})
	if done := e.waitREST(t, r.ID); done.Status != "COMPLETED" {
		t.Fatalf("ANONYMIZE ended %s", done.Status)
	}
	_, _, raw := e.rest(t, "GET", "/v1/tenants/demo/requests/"+r.ID, keyDPO, nil)
	return decode[restAnonymize](t, raw), raw
}

// TestRESTAnonymize runs the anonymization right through REST: the titular
// with one CPF in pessoas, leads and the reservas snapshot is anonymized;
// an EXTRACT by the old identifiers then finds nothing but held rows, the
// copies still join on one fake CPF, a second request changes nothing, and
// a buyer's sale under a retention hold is named with basis and date.
func TestRESTAnonymize(t *testing.T) {
	env := newTestEnv(t, 120)
	s := env.scenario(t, "mesmo_cpf_varias_tabelas")
	subject := map[string]any{"cpf": s.CPF, "email": s.Email}
	db := env.demoDB(t)
	shapes, args := in(brdoc.CPFShapes(s.CPF))
	var idpessoa int64
	if err := db.QueryRow("SELECT idpessoa FROM pessoas WHERE cpf IN "+shapes, args...).Scan(&idpessoa); err != nil {
		t.Fatal(err)
	}

	res, raw := env.anonymizeREST(t, subject)
	changed := map[string]string{}
	for _, e := range res.Result.Anonymize.Entities {
		changed[e.Entity] = e.Rows
	}
	if res.Result.Anonymize.TotalRows == "0" || changed["pessoa"] != "1" || changed["lead"] == "0" || changed["reserva"] == "0" {
		t.Fatalf("ANONYMIZE result: %s", raw)
	}
	if strings.Contains(string(raw), s.CPF) || strings.Contains(strings.ToLower(string(raw)), s.Email) {
		t.Error("the ANONYMIZE result echoes the titular's identifiers")
	}
	held := map[string]bool{}
	for _, h := range res.Result.Anonymize.Holds {
		held[h.Entity] = true
	}

	x := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": subject})
	x = env.waitREST(t, x.ID)
	if x.Status != "COMPLETED" || x.Result == nil || x.Result.Extract == nil {
		t.Fatalf("EXTRACT after ANONYMIZE: %+v", x)
	}
	for _, e := range x.Result.Extract.Entities {
		if e.Rows != "0" && !held[e.Entity] && demoMap(t).Entity(e.Entity) != nil {
			t.Errorf("EXTRACT by the old identifiers finds %s %s rows no hold kept", e.Rows, e.Entity)
		}
	}

	// The three copies, each in its own shape, still name one (fake) CPF.
	var pessoa, lead, reserva string
	if err := db.QueryRow(`SELECT p.cpf, l.cpf, r.cliente_cpf FROM pessoas p
 JOIN leads l ON l.idpessoa = p.idpessoa JOIN reservas r ON r.idpessoa = p.idpessoa
 WHERE p.idpessoa = ? LIMIT 1`, idpessoa).Scan(&pessoa, &lead, &reserva); err != nil {
		t.Fatal(err)
	}
	var norms []string
	for _, v := range []string{pessoa, lead, reserva} {
		n, err := brdoc.NormalizeCPF(v)
		if err != nil {
			t.Fatalf("stored CPF %q is not a valid fake", v)
		}
		norms = append(norms, n)
	}
	if norms[0] == s.CPF || norms[0] != norms[1] || norms[1] != norms[2] {
		t.Errorf("pessoas/leads/reservas hold %v after anonymization: want one fake CPF", norms)
	}

	// Twice is harmless.
	again, raw := env.anonymizeREST(t, subject)
	if again.Result.Anonymize.TotalRows != "0" {
		t.Errorf("second ANONYMIZE changed rows: %s", raw)
	}

	// A sale under a retention hold stays, and the titular is told why.
	buyer := env.scenario(t, "comprador_2023")
	b, raw := env.anonymizeREST(t, map[string]any{"cpf": buyer.CPF})
	var saleHold, reason bool
	for _, h := range b.Result.Anonymize.Holds {
		saleHold = saleHold || (h.Entity == "reserva" && h.Basis == "obrigacao_legal" && h.LegalReference != "" && h.Until != "")
	}
	for _, r := range b.Reasons {
		reason = reason || (r.Code == "RETENTION_HOLD" && r.Entity == "reserva" && r.Until != "")
	}
	if !saleHold || !reason {
		t.Errorf("the buyer's held sale must be listed with basis, reference and date, with a reason: %s", raw)
	}
	code, _, body := env.rest(t, "GET", "/v1/tenants/demo/requests?kind=ANONYMIZE", keyDPO, nil)
	if code != http.StatusOK || strings.Count(string(body), `"ANONYMIZE"`) != 3 {
		t.Errorf("list ANONYMIZE requests: HTTP %d %s", code, body)
	}
}
