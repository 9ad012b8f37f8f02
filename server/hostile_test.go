package server

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/tenant"
)

// crmChecksums is CHECKSUM TABLE of every CRM table (not titular's own
// lgpd_ tables, which record refused calls' access and nothing else).
func crmChecksums(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	tables := queryStrings(t, db, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT LIKE 'lgpd\\_%'")
	sums := map[string]int64{}
	for _, tbl := range tables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+tbl+"`").Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		sums[tbl] = sum.Int64
	}
	if len(sums) == 0 {
		t.Fatal("no CRM table to watch")
	}
	return sums
}

// TestHostileCorpus sends what an attacker would, with the most powerful
// key, over REST and gRPC: SQL metacharacters, NUL bytes, wrong types,
// huge and deeply nested bodies, path tricks, garbage paging. No answer is
// a 5xx (or INTERNAL/UNKNOWN), and no tenant's CRM data changes.
func TestHostileCorpus(t *testing.T) {
	e := newTestEnv(t, 20)
	demo := e.demoDB(t)
	otherDSN := ""
	for _, tc := range e.cfg.Tenants {
		if tc.ID == "other" {
			otherDSN = tc.DSN
		}
	}
	other, err := tenant.OpenDSN(context.Background(), otherDSN, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	beforeDemo, beforeOther := crmChecksums(t, demo), crmChecksums(t, other)

	const unknownCPF = "11144477735" // valid, seeded for no one
	sqlish := []string{`'; DROP TABLE pessoa; --`, `" OR "1"="1`, `1; SELECT SLEEP(5)`, "\x00", `\'`, "%' OR nome LIKE '%", "`pessoa`"}
	type call struct{ method, path, body string }
	var rest []call
	for _, v := range sqlish {
		j := fmt.Sprintf("%q", v)
		rest = append(rest,
			call{"POST", "/v1/tenants/demo/requests", `{"kind":"CONFIRM","subject":{"cpf":` + j + `}}`},
			call{"POST", "/v1/tenants/demo/requests", `{"kind":"DELETE","subject":{"email":` + j + `}}`},
			call{"POST", "/v1/tenants/demo/requests", `{"kind":"EXTRACT","subject":{"phone":` + j + `}}`},
			call{"POST", "/v1/tenants/demo/requests", `{"kind":"CORRECT","subject":{"cpf":"` + unknownCPF + `"},"correction":{"fields":{` + j + `:` + j + `}}}`},
			call{"POST", "/v1/tenants/demo/requests", `{"kind":"CONSENT","subject":{"cpf":"` + unknownCPF + `"},"consent":{"purpose":` + j + `,"action":"GRANT"}}`},
			call{"POST", "/v1/tenants/demo/consents:search", `{"subject":{"cpf":` + j + `}}`},
			call{"GET", "/v1/tenants/demo/requests?page_token=" + strings.ReplaceAll(v, "\x00", "%00"), ""},
		)
	}
	rest = append(rest,
		call{"POST", "/v1/tenants/demo/requests", `{"kind":5,"subject":"x"}`},
		call{"POST", "/v1/tenants/demo/requests", `{"kind":"DROP","subject":{"cpf":[1,2,3]}}`},
		call{"POST", "/v1/tenants/demo/requests", strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)},
		call{"POST", "/v1/tenants/demo/requests", `{"kind":"CONFIRM","subject":{"cpf":"` + strings.Repeat("9", 2<<20) + `"}}`},
		call{"POST", "/v1/tenants/demo/requests", `{"kind":"CONFIRM","idempotency_key":"` + strings.Repeat("k", 100000) + `","subject":{"cpf":"` + unknownCPF + `"}}`},
		call{"POST", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000:deny", `{"reasons":[` + strings.Repeat(`{"code":"X","message":"y"},`, 5000) + `{"code":"X","message":"y"}]}`},
		call{"GET", "/v1/tenants/demo/requests/..%2F..%2Fetc%2Fpasswd", ""},
		call{"GET", "/v1/tenants/..%2Fother/requests", ""},
		call{"GET", "/v1/tenants/demo/requests?page_size=1e99", ""},
		call{"GET", "/v1/tenants/demo/requests?page_size=-1", ""},
		call{"GET", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000/download?format=../../x", ""},
		call{"GET", "/v1/tenants/demo/ledger/entries?start=-1&count=999999999", ""},
		call{"POST", "/v1/tenants/demo/purposes", `{"id":"x'; DROP TABLE lgpd_consents; --","name":"\u0000"}`},
	)
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range rest {
		req, err := http.NewRequest(c.method, e.baseURL+c.path, bytes.NewReader([]byte(c.body)))
		if err != nil {
			continue // a URL no client can send
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+keyDPO)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %.80q: %v", c.method, c.path, err)
			continue
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %.80q %.80q: HTTP %d %.200s", c.method, c.path, c.body, resp.StatusCode, out)
		}
	}

	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO), time.Minute)
	defer cancel()
	reqs, cons := lgpdv1.NewRequestServiceClient(e.grpc), lgpdv1.NewConsentServiceClient(e.grpc)
	var grpcErrs []error
	for _, v := range append(sqlish, strings.Repeat("x", 900<<10)) {
		_, err := reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: v, Email: v}})
		grpcErrs = append(grpcErrs, err)
		_, err = reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT,
			Subject: &lgpdv1.Subject{Cpf: unknownCPF}, Correction: &lgpdv1.Correction{Fields: map[string]string{v: v, "email": v}}})
		grpcErrs = append(grpcErrs, err)
		_, err = reqs.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageToken: v})
		grpcErrs = append(grpcErrs, err)
		_, err = reqs.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: v, Id: v})
		grpcErrs = append(grpcErrs, err)
		_, err = cons.SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Phone: v}})
		grpcErrs = append(grpcErrs, err)
	}
	for i, err := range grpcErrs {
		if c := status.Code(err); c == codes.Internal || c == codes.Unknown || c == codes.Unavailable {
			t.Errorf("gRPC call %d: %v", i, err)
		}
	}

	for name, pair := range map[string][2]map[string]int64{"demo": {beforeDemo, crmChecksums(t, demo)}, "other": {beforeOther, crmChecksums(t, other)}} {
		for tbl, sum := range pair[0] {
			if pair[1][tbl] != sum {
				t.Errorf("tenant %s: table %s changed under hostile calls", name, tbl)
			}
		}
	}
}
