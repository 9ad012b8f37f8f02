package server

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// digitRun is a run of digits long enough to be a CPF or a phone number.
var digitRun = regexp.MustCompile(`[0-9]{11,}`)

// FuzzREST sends arbitrary methods, paths, bodies and headers to the REST
// API, with and without a key: no answer may be a 5xx other than 503, and
// no answer may repeat a long run of digits from the input that the API
// did not have to (a CPF or phone number quoted back).
func FuzzREST(f *testing.F) {
	seeds := []struct {
		method, path, body string
		key                bool
	}{
		{"POST", "/v1/tenants/demo/requests", `{"kind":"CONFIRM","subject":{"cpf":"529.982.247-25"}}`, true},
		{"POST", "/v1/tenants/demo/requests", `{"kind":"CONFIRM","subject":{"cpf":06523374572}}`, false},
		{"POST", "/v1/tenants/demo/requests", `{"kind":"EXTRACT","subject":{"email":"a@b.c"},"idempotency_key":"x"}`, true},
		{"POST", "/v1/tenants/demo/requests", "{\"kind\":\"CORRECT\",\"correction\":{\"fields\":{\"nome\":\"\x00\"}}}", true},
		{"POST", "/v1/tenants/demo/requests", strings.Repeat("[", 5000), true},
		{"GET", "/v1/tenants/demo/requests?page_size=-1&page_token=%ff%00", "", true},
		{"GET", "/v1/tenants/demo%ff/requests", "", true},
		{"POST", "/v1/tenants/demo/consents:search", `{"subject":{"phone":"' OR 1=1 --"}}`, true},
		{"GET", "/v1/tenants/demo/requests/00000000-0000-0000-0000-000000000000/download?format=xlsx", "", true},
		{"POST", "/v1/tenants/demo/requests/1;DROP TABLE leads:deny", `{"reasons":[{"code":"x"}]}`, true},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body), s.key)
	}
	// One titular serves every input (and each fuzzing worker process
	// starts its own): one per input would measure start-up.
	fuzzE := newTestEnv(f, 20)
	f.Fuzz(func(t *testing.T, method, path string, body []byte, key bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, fuzzE.baseURL+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", "application/json")
		if key {
			// The auditor reads but changes nothing: the fuzzer cannot
			// erase the seeded titulares other inputs rely on.
			req.Header.Set("Authorization", "Bearer "+keyAuditor)
		}
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %q: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %q %q: HTTP %d %s", method, path, body, resp.StatusCode, out)
		}
		for _, run := range digitRun.FindAll(body, -1) {
			if bytes.Contains(out, run) {
				t.Fatalf("%s %q: the answer repeats %q from the body: %s", method, path, run, out)
			}
		}
	})
}
