package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// restCall sends one REST call and returns status, headers and body.
func (e *testEnv) rest(t testing.TB, method, path, key string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.baseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// restRequest is the JSON shape of lgpd.v1.Request over REST.
type restRequest struct {
	ID         string `json:"id"`
	Tenant     string `json:"tenant"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	SubjectRef string `json:"subject_ref"`
	DueAt      string `json:"due_at"`
	ReceivedAt string `json:"received_at"`
	Result     *struct {
		Confirm *struct {
			HasPersonalData bool     `json:"has_personal_data"`
			Categories      []string `json:"categories"`
			Entities        []string `json:"entities"`
		} `json:"confirm"`
		Extract *struct {
			Entities []struct {
				Entity string `json:"entity"`
				Rows   string `json:"rows"` // int64 travels as a string in proto JSON
			} `json:"entities"`
			TotalRows string `json:"total_rows"`
		} `json:"extract"`
	} `json:"result"`
	Reasons []struct {
		Code           string `json:"code"`
		Message        string `json:"message"`
		LegalReference string `json:"legal_reference"`
		Until          string `json:"until"`
	} `json:"reasons"`
	Exports []struct {
		Format      string `json:"format"`
		ContentType string `json:"content_type"`
		Filename    string `json:"filename"`
		SizeBytes   string `json:"size_bytes"`
		SHA256      string `json:"sha256"`
	} `json:"exports"`
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
	return v
}

// restError is the gateway's error body. Streaming RPCs (downloads) wrap it
// as {"error": {...}}; restError reads both.
type restError struct {
	Error   *restError `json:"error"`
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Details []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
	} `json:"details"`
}

func (e restError) reason() string {
	if e.Error != nil {
		return e.Error.reason()
	}
	for _, d := range e.Details {
		if d.Reason != "" {
			return d.Reason
		}
	}
	return ""
}

func (e *testEnv) createREST(t testing.TB, key string, body map[string]any) restRequest {
	t.Helper()
	code, _, b := e.rest(t, "POST", "/v1/tenants/demo/requests", key, body)
	if code != http.StatusOK {
		t.Fatalf("create: HTTP %d: %s", code, b)
	}
	return decode[restRequest](t, b)
}

// waitREST polls a request until it leaves the queue.
func (e *testEnv) waitREST(t *testing.T, id string) restRequest {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		code, _, b := e.rest(t, "GET", "/v1/tenants/demo/requests/"+id, keyDPO, nil)
		if code != http.StatusOK {
			t.Fatalf("get: HTTP %d: %s", code, b)
		}
		r := decode[restRequest](t, b)
		switch r.Status {
		case "COMPLETED", "FAILED", "DENIED", "CANCELED":
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("request %s did not finish in %s", id, deadline)
	return restRequest{}
}

// download fetches an export over REST and checks the bytes against the
// digest and size the request advertises.
func (e *testEnv) download(t *testing.T, r restRequest, format string) ([]byte, http.Header) {
	t.Helper()
	code, h, b := e.rest(t, "GET", "/v1/tenants/demo/requests/"+r.ID+"/export?format="+format, keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("download %s: HTTP %d: %s", format, code, b)
	}
	var want string
	for _, x := range r.Exports {
		if x.Format == format {
			want = x.SHA256
			if x.SizeBytes != itoa(len(b)) {
				t.Errorf("%s: advertised size %s, downloaded %d bytes", format, x.SizeBytes, len(b))
			}
		}
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want || want == "" {
		t.Fatalf("%s download sha256 %s, request advertises %q (the gateway must not add delimiters)", format, got, want)
	}
	if got := h.Get("X-Content-Sha256"); got != want {
		t.Errorf("X-Content-Sha256 header %q, want %q", got, want)
	}
	if cd := h.Get("Content-Disposition"); !strings.Contains(cd, `filename="titular-`+r.ID+`.`+format+`"`) {
		t.Errorf("Content-Disposition %q lacks the filename", cd)
	}
	return b, h
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
