package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawCodec sends bytes as they are, to put malformed protobuf on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = data
	return nil
}
func (rawCodec) Name() string { return "proto" }

func TestHostileInputAnswersClearly(t *testing.T) {
	e := newTestEnv(t, 20)
	var cpf string
	for _, s := range e.scenarios {
		cpf = s.CPF
		break
	}
	digits := strings.NewReplacer(".", "", "-", "").Replace(cpf)
	post := func(t *testing.T, key, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, e.baseURL+"/v1/tenants/demo/requests", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}

	t.Run("JSON errors never echo the value", func(t *testing.T) {
		bodies := map[string]string{
			"number with a leading zero": `{"kind":"CONFIRM","subject":{"cpf":0` + digits + `}}`,
			"number for a string":        `{"kind":"CONFIRM","subject":{"cpf":` + strings.TrimLeft(digits, "0") + `}}`,
			"unknown field":              `{"kind":"CONFIRM","subject":{"cpf_` + digits + `":"x"}}`,
			"bad enum":                   `{"kind":"` + digits + `","subject":{"cpf":"x"}}`,
			"truncated":                  `{"kind":"CONFIRM","subject":{"cpf":"` + digits,
		}
		for name, body := range bodies {
			for _, key := range []string{keyBackend, ""} {
				code, h, out := post(t, key, body)
				if code != http.StatusBadRequest {
					t.Errorf("%s (key %t): status %d, want 400: %s", name, key != "", code, out)
				}
				if strings.Contains(out, digits) || strings.Contains(out, strings.TrimLeft(digits, "0")) {
					t.Errorf("%s: the answer echoes the CPF: %s", name, out)
				}
				if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: headers %v, want nosniff and no-store", name, h)
				}
			}
		}
		// A field the API defines is named, so the caller knows what to fix.
		if _, _, out := post(t, keyBackend, bodies["number for a string"]); !strings.Contains(out, "field cpf") {
			t.Errorf("a number for the cpf string: %s, want the field named", out)
		}
		if strings.Contains(e.logs.String(), digits) {
			t.Error("the log holds the CPF")
		}
	})

	t.Run("every API answer is neither sniffed nor cached", func(t *testing.T) {
		code, h, _ := e.rest(t, http.MethodGet, "/v1/tenants/demo/requests", keyDPO, nil)
		if code != http.StatusOK || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("status %d headers %v", code, h)
		}
	})

	t.Run("invalid UTF-8 in the URL", func(t *testing.T) {
		code, _, body := e.rest(t, http.MethodGet, "/v1/tenants/demo%ff/requests", keyDPO, nil)
		if code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("status %d, want 400 or 404: %s", code, body)
		}
	})

	t.Run("request ids and tenant names are not logged as sent", func(t *testing.T) {
		for _, rid := range []string{digits, "ok level=ERROR forged", strings.Repeat("r", 65)} {
			req, err := http.NewRequest(http.MethodGet, e.baseURL+"/v1/tenants/"+digits+"/requests", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+keyDPO)
			req.Header.Set("X-Request-Id", rid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Request-Id"); got == rid || got == "" {
				t.Errorf("request id %q came back as %q, want a fresh one", rid, got)
			}
		}
		logs := e.logs.String()
		if strings.Contains(logs, digits) || strings.Contains(logs, "forged") {
			t.Error("a request id or tenant name sent by the caller reached the log")
		}
		if !strings.Contains(logs, `"tenant":"(unknown)"`) {
			t.Error("the call on an unknown tenant is not logged with a placeholder")
		}
	})

	t.Run("malformed protobuf over gRPC", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend), 10*time.Second)
		defer cancel()
		var out []byte
		// Field 1 (tenant) says 100 bytes follow; two do.
		err := e.grpc.Invoke(ctx, "/lgpd.v1.RequestService/CreateRequest", []byte{0x0a, 100, 'd', 'e'}, &out, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("got %v, want InvalidArgument", err)
		}
		if !strings.Contains(e.logs.String(), `"the request message does not decode"`) {
			t.Error("the undecodable message is not logged")
		}
		_, _, metrics := e.rest(t, http.MethodGet, "/metrics", "", nil)
		if !strings.Contains(string(metrics), `titular_rpc_requests_total{code="InvalidArgument",method="/lgpd.v1.RequestService/CreateRequest"}`) {
			t.Error("the undecodable message is not counted")
		}
	})
}

// A 503 tells the client when to come back.
func TestUnavailableSaysRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/v1/tenants/demo/requests", nil)
	gatewayErrors(slog.New(slog.DiscardHandler))(context.Background(), runtime.NewServeMux(), &runtime.JSONPb{}, w, r,
		status.Error(codes.Unavailable, "the tenant's database is not available now; retry later"))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestRESTConnectionLimits: a client cannot hold REST connections open by
// sending slowly or idling, nor open more than http.max_connections.
func TestRESTConnectionLimits(t *testing.T) {
	e := newTestEnv(t, 20, func(y string) string {
		return y + "http: {read_timeout: 3s, idle_timeout: 1s, max_connections: 4}\n"
	})
	addr := e.app.HTTPAddr()
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin reads until the server closes c, or fails after d.
	closedWithin := func(t *testing.T, c net.Conn, d time.Duration) {
		t.Helper()
		if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
			t.Fatal(err)
		}
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("the server kept the connection open for %s", d)
		}
	}

	t.Run("at most max_connections", func(t *testing.T) {
		for range 4 {
			dial(t) // open, silent: each takes a slot until the read timeout
		}
		client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			t.Error("a fifth connection was served while four were open")
		}
		// Once the silent ones are cut off, service resumes.
		time.Sleep(4 * time.Second)
		client.Timeout = 10 * time.Second
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("after the silent connections timed out: %v", err)
		}
		resp.Body.Close()
	})

	t.Run("slow body cut off", func(t *testing.T) {
		c := dial(t)
		fmt.Fprintf(c, "POST /v1/tenants/demo/requests HTTP/1.1\r\nHost: titular\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		closedWithin(t, c, 15*time.Second)
	})

	t.Run("idle connection closed", func(t *testing.T) {
		c := dial(t)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: titular\r\n\r\n")
		closedWithin(t, c, 15*time.Second)
	})
}
