package demo

import (
	"fmt"
	"io"
	"strings"

	"github.com/titular/titular/seed"
)

// WriteTour prints what a newcomer needs: the API key, the addresses, a
// seeded titular and three calls to copy into a shell (create an EXTRACT,
// poll it, download the XLSX). The numbered comment lines introduce the
// calls; the demo test finds them by those lines.
func (d *Demo) WriteTour(w io.Writer, grpcAddr, httpAddr string) error {
	s, ok := d.Scenario(seed.ScenarioBuyer2023)
	if !ok && len(d.Scenarios) > 0 {
		s = d.Scenarios[0]
	}
	base := "http://" + httpAddr + "/v1/tenants/" + TenantID + "/requests"
	auth := "-H 'Authorization: Bearer " + d.APIKey + "'"
	body := `{"kind":"EXTRACT","subject":{"cpf":"` + s.CPF + `"}}`
	var b strings.Builder
	fmt.Fprintf(&b, `
titular demo is ready: tenant %q, seeded with synthetic data, in memory (gone on exit).

  API key (role dpo)  %s
  console             http://%s/console/   (the DPO's pages: sign in with the API key)
  REST                http://%s   (OpenAPI at /openapi.json, metrics at /metrics)
  gRPC                %s   (reflection on)
  embedded database   %s   (MySQL protocol; try: titular datamap discover --dsn '%s')
  titular to try      CPF %s (%s: %s)

Copy these into a shell:

  # 1. create an EXTRACT request (right of access, LGPD art. 18 II); its id goes to $ID
  ID=$(curl -s %s -d '%s' %s | grep -o '"id": *"[^"]*"' | head -1 | cut -d'"' -f4); echo "$ID"
  # 2. poll it until "status" is "COMPLETED" (a second or two)
  curl -s %s %s/$ID
  # 3. download the XLSX copy (Portuguese, a summary and your data, ready to print; format=pdf for a PDF)
  curl -s %s -o extrato.xlsx "%s/$ID/export?format=xlsx"

The same over gRPC:

  grpcurl -plaintext -H 'authorization: Bearer %s' -d '{"tenant":"%s","kind":"CONFIRM","subject":{"cpf":"%s"}}' %s lgpd.v1.RequestService/CreateRequest

Ctrl-C stops the demo.
`, TenantID, d.APIKey, httpAddr, httpAddr, grpcAddr, d.Engine.Addr(), d.Engine.DSN(), s.CPF, s.Name, s.Note,
		auth, body, base, auth, base, auth, base,
		d.APIKey, TenantID, s.CPF, grpcAddr)
	_, err := io.WriteString(w, b.String())
	return err
}
