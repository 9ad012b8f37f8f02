package service

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// TestAnonymizedCPFCannotBeRecomputed is the brute force of Art. 12: after
// an ANONYMIZE, every key titular keeps for the tenant is tried against a
// slice of the CPF space that holds the titular's real CPF, and none
// recomputes the fake stored in her place. The same search finds a CPF
// faked under a kept key (the control), which is what anonymization keyed by
// the tenant's key used to allow: the whole space is 10^9 candidates, hours
// on one core.
func TestAnonymizedCPFCannotBeRecomputed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioSameCPF)
	shapes, args := inShapes(brdoc.CPFShapes(s.CPF))
	var idpessoa int64
	if err := f.db.QueryRow("SELECT idpessoa FROM pessoas WHERE cpf IN "+shapes, args...).Scan(&idpessoa); err != nil {
		t.Fatal(err)
	}
	r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests", n)
	}
	if got := f.get(r.GetId()); got.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("ANONYMIZE: %v", got)
	}
	var stored string
	if err := f.db.QueryRow("SELECT cpf FROM pessoas WHERE idpessoa = ?", idpessoa).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	fake, err := brdoc.NormalizeCPF(stored)
	if err != nil || fake == s.CPF {
		t.Fatal("the anonymized CPF must be a valid CPF other than the titular's")
	}

	keys := keptKeys(t, filepath.Join(f.cfg.StateDir, "keys", "demo"))
	if len(keys) < 3 {
		t.Fatalf("found %d kept keys; the test must try the export, subject and ledger keys at least", len(keys))
	}
	fakeCPF, err := anonymize.NewRegistry().New("fake.cpf", nil)
	if err != nil {
		t.Fatal(err)
	}
	candidates := cpfNeighbourhood(t, s.CPF, 20000)
	start := time.Now()
	tried, matches := 0, 0
	for name, k := range keys {
		for _, c := range candidates {
			tried++
			if out := applyCPF(t, fakeCPF, k, c); out == fake {
				matches++
				t.Errorf("the %s key recomputes the anonymized CPF from a candidate: the anonymization can be undone", name)
			}
		}
	}
	perCandidate := time.Since(start) / time.Duration(tried)
	t.Logf("tried %d keys × %d candidates (the real CPF among them): %d matches; at %v a candidate the whole CPF space would take %.1f h a key on one core",
		len(keys), len(candidates), matches, perCandidate, (perCandidate * 1_000_000_000).Hours())

	// The control: a CPF faked under a key that is kept is found by the same
	// search, so the search above would have found a keyed anonymization.
	for name, k := range keys {
		pseudonym := applyCPF(t, fakeCPF, k, s.CPF)
		found := false
		for _, c := range candidates {
			if applyCPF(t, fakeCPF, k, c) == pseudonym {
				found = found || c == s.CPF
			}
		}
		if !found {
			t.Errorf("control: the search must find a CPF faked under the kept %s key", name)
		}
		break
	}
}

// keptKeys reads every key file titular keeps for a tenant in its state
// directory, by purpose.
func keptKeys(t *testing.T, dir string) map[string]*anonymize.Key {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.key"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*anonymize.Key{}
	for _, path := range files {
		b, err := os.ReadFile(path) //nolint:gosec // G304: the test's own state directory
		if err != nil {
			t.Fatal(err)
		}
		secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		k, err := anonymize.NewKey(secret)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		keys[strings.TrimSuffix(filepath.Base(path), ".key")] = k
	}
	return keys
}

// applyCPF fakes one CPF (digits) with k and returns the fake's digits.
func applyCPF(t *testing.T, a anonymize.Anonymizer, k *anonymize.Key, cpf string) string {
	t.Helper()
	out, err := a.Apply(k, anonymize.Column{DataType: "varchar", MaxLength: 14}, cpf, 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := brdoc.NormalizeCPF(out.(string))
	if err != nil {
		t.Fatal("fake.cpf wrote an invalid CPF")
	}
	return d
}

// cpfNeighbourhood lists the valid CPFs whose 9 base digits lie within n of
// cpf's, cpf included.
func cpfNeighbourhood(t *testing.T, cpf string, n int) []string {
	t.Helper()
	base, err := strconv.Atoi(cpf[:9])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for b := max(base-n, 0); b <= min(base+n, 999_999_999); b++ {
		d := []byte(strconv.Itoa(1_000_000_000 + b)[1:])
		for _, w := range []int{10, 11} {
			sum := 0
			for i := range w - 1 {
				sum += int(d[i]-'0') * (w - i)
			}
			c := sum * 10 % 11 % 10
			d = append(d, byte('0'+c))
		}
		out = append(out, string(d))
	}
	return out
}
