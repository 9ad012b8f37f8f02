package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

// TestReceiptVerifyCLI: a titular saves the receipt and the public key as
// the REST API serves them, and the export files as downloaded; `titular
// receipt verify` (the built binary, no database) passes on them, and fails,
// naming the check, when any one field or byte is altered.
func TestReceiptVerifyCLI(t *testing.T) {
	env := newTestEnv(t, 50)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)
	created := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": brdoc.FormatCPF(buyer.CPF)}})
	done := env.waitREST(t, created.ID)
	if done.Status != "COMPLETED" {
		t.Fatalf("EXTRACT ended %s", done.Status)
	}
	dir := t.TempDir()
	save := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	code, _, receipt := env.rest(t, "GET", "/v1/tenants/demo/requests/"+created.ID+"/receipt", keyAuditor, nil)
	if code != http.StatusOK {
		t.Fatalf("receipt: HTTP %d %s", code, receipt)
	}
	code, _, pub := env.rest(t, "GET", "/v1/tenants/demo/ledger/public-key", keyBackend, nil)
	if code != http.StatusOK {
		t.Fatalf("public key: HTTP %d %s", code, pub)
	}
	// The key served is the one the server signs with (its .pub file).
	_, devKey := devVerifier(t, env)
	var pk struct {
		VerifierKey string `json:"verifier_key"`
		Origin      string `json:"origin"`
	}
	if err := json.Unmarshal(pub, &pk); err != nil || pk.VerifierKey != strings.TrimSpace(string(devKey)) || pk.Origin != "titular.local/ledger/demo" {
		t.Fatalf("public key answer %s (err %v), want the key %s", pub, err, devKey)
	}
	jsonFile, _ := env.download(t, done, "json")
	xlsxFile, _ := env.download(t, done, "xlsx")
	rcPath, keyPath := save("recibo.json", receipt), save("chave.json", pub)
	jsonPath, xlsxPath := save("export.json", jsonFile), save("export.xlsx", xlsxFile)

	var out bytes.Buffer
	if err := runCLI(t, &out, "receipt", "verify", rcPath, "--export", jsonPath, "--export", xlsxPath, "--key", keyPath); err != nil {
		t.Fatalf("a real receipt does not verify: %v\n%s", err, out.String())
	}
	for _, want := range []string{"OK     registro do pedido: pedido " + created.ID, "OK     assinatura do checkpoint", "OK     prova de inclusão",
		"OK     arquivo export.json", "OK     arquivo export.xlsx", "resultado: o recibo confere"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
	// The key as a literal and as the .pub file work too.
	out.Reset()
	if err := runCLI(t, &out, "receipt", "verify", "--key", pk.VerifierKey, rcPath); err != nil {
		t.Fatalf("with the key on the command line: %v\n%s", err, out.String())
	}

	// alter rewrites one field of the receipt's JSON.
	alter := func(field string, f func(any) any) []byte {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(receipt, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m[field]; !ok {
			t.Fatalf("the receipt has no field %s: %s", field, receipt)
		}
		m[field] = f(m[field])
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flipB64 := func(s string, at int) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if at < 0 {
			at += len(b)
		}
		b[at] ^= 0x01
		return base64.StdEncoding.EncodeToString(b)
	}
	var rc struct {
		Checkpoint     string   `json:"checkpoint"`
		InclusionProof []string `json:"inclusion_proof"`
	}
	if err := json.Unmarshal(receipt, &rc); err != nil || len(rc.InclusionProof) == 0 {
		t.Fatalf("receipt %s: want a non-empty inclusion proof (err %v)", receipt, err)
	}
	body, sigs, _ := strings.Cut(rc.Checkpoint, "\n\n")
	lines := strings.Split(body, "\n")
	otherSkey, otherVkey, err := ledger.GenerateKey("titular.local")
	if err != nil || otherSkey == "" {
		t.Fatal(err)
	}
	badExport := bytes.Clone(jsonFile)
	badExport[len(badExport)/2] ^= 0x01

	cases := []struct {
		name          string
		receipt       []byte
		key, export   string
		failing, hint string
	}{
		{name: "leaf byte (so its hash)", failing: "prova de inclusão",
			receipt: alter("leaf", func(v any) any { return flipB64(v.(string), -1) })},
		{name: "leaf index", failing: "prova de inclusão",
			receipt: alter("leaf_index", func(v any) any {
				if v.(string) == "0" {
					return "1"
				}
				return "0"
			})},
		{name: "proof node", failing: "prova de inclusão",
			receipt: alter("inclusion_proof", func(v any) any {
				l := v.([]any)
				l[len(l)-1] = flipB64(l[len(l)-1].(string), 0)
				return l
			})},
		{name: "checkpoint body (root)", failing: "assinatura do checkpoint",
			receipt: alter("checkpoint", func(any) any {
				l := append([]string(nil), lines...)
				l[2] = flipB64(l[2], 0)
				return strings.Join(l, "\n") + "\n\n" + sigs
			})},
		{name: "checkpoint body (size)", failing: "assinatura do checkpoint",
			receipt: alter("checkpoint", func(any) any {
				l := append([]string(nil), lines...)
				l[1] += "0"
				return strings.Join(l, "\n") + "\n\n" + sigs
			})},
		{name: "signature", failing: "assinatura do checkpoint",
			receipt: alter("checkpoint", func(any) any {
				sig := strings.TrimSuffix(sigs, "\n")
				i := strings.LastIndex(sig, " ")
				return body + "\n\n" + sig[:i+1] + flipB64(sig[i+1:], -1) + "\n"
			})},
		{name: "key", failing: "assinatura do checkpoint", key: otherVkey},
		{name: "export byte", failing: "arquivo export.json", export: "altered"},
	}
	if err := os.MkdirAll(filepath.Join(dir, "export-altered"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := rcPath
			if c.receipt != nil {
				path = save("recibo-"+string(rune('a'+i))+".json", c.receipt)
			}
			key := keyPath
			if c.key != "" {
				key = c.key
			}
			export := jsonPath
			if c.export != "" {
				export = filepath.Join(dir, "export-altered", "export.json")
				if err := os.WriteFile(export, badExport, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			err := runCLI(t, &out, "receipt", "verify", path, "--export", export, "--key", key)
			if err == nil {
				t.Fatalf("verify passed with an altered %s:\n%s", c.name, out.String())
			}
			if !strings.Contains(out.String(), "FALHOU "+c.failing) || !strings.Contains(out.String(), "resultado: o recibo NÃO confere") {
				t.Errorf("altered %s: want check %q to fail, got:\n%s", c.name, c.failing, out.String())
			}
		})
	}
}
