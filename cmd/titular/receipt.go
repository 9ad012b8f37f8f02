package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

// errReceiptFailed is the error of a receipt that does not verify; the
// checks were already printed.
var errReceiptFailed = errors.New("the receipt does NOT verify: see the FAILED lines above")

// runReceipt dispatches `titular receipt verify`.
func runReceipt(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("receipt: the subcommand is 'verify'")
	}
	return runReceiptVerify(args[1:], out)
}

// runReceiptVerify checks a receipt offline, with no database and no call to
// the server: the leaf, the checkpoint's signature under the ledger's public
// key, the inclusion proof, and that each downloaded export file is one the
// leaf vouches for. It prints every check and fails if any does.
func runReceiptVerify(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
	var exports []string
	fs.Func("export", "an export file you downloaded (JSON, XLSX or PDF; repeatable)", func(v string) error {
		exports = append(exports, v)
		return nil
	})
	keyArg := fs.String("key", "", "the ledger's public key: the key itself (name+hash+key), a .pub file, or the saved answer of GET /v1/tenants/{tenant}/ledger/public-key")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: titular receipt verify FILE [--export FILE ...] [--key PUBKEY]")
		fs.PrintDefaults()
	}
	// FILE may come before or after the flags.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return fmt.Errorf("receipt verify: name exactly one receipt file (the saved answer of GET /v1/tenants/{tenant}/requests/{id}/receipt), got %d", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return fmt.Errorf("receipt verify: %w", err)
	}
	rc, err := ledger.ParseReceipt(b)
	if err != nil {
		return fmt.Errorf("receipt verify: %s: %w", files[0], err)
	}
	var keys []note.Verifier
	var origin string
	if *keyArg != "" {
		if keys, origin, err = receiptKeys(*keyArg); err != nil {
			return fmt.Errorf("receipt verify: --key: %w", err)
		}
	}
	var files2 []ledger.ExportFile
	for _, f := range exports {
		data, err := os.ReadFile(f) //nolint:gosec // G304: the titular names the files to check
		if err != nil {
			return fmt.Errorf("receipt verify: --export: %w", err)
		}
		files2 = append(files2, ledger.ExportFile{Name: filepath.Base(f), Data: data})
	}
	failed := false
	fmt.Fprintf(out, "recibo do pedido %s\n", rc.RequestID)
	for _, c := range ledger.CheckReceipt(rc, keys, origin, files2) {
		word := "OK"
		if !c.OK {
			word, failed = "FALHOU", true
		}
		fmt.Fprintf(out, "%-6s %s: %s\n", word, c.What, c.Detail)
	}
	if failed {
		fmt.Fprintln(out, "resultado: o recibo NÃO confere")
		return errReceiptFailed
	}
	fmt.Fprintln(out, "resultado: o recibo confere")
	return nil
}

// receiptKeys reads the --key value: a verifier key itself, a file of keys
// one a line (a .pub file), or the JSON answer of the public-key endpoint,
// whose previous keys verify receipts signed before a key rotation and
// whose origin names the tenant's ledger the receipt must be of.
func receiptKeys(arg string) ([]note.Verifier, string, error) {
	var lines []string
	var origin string
	if _, err := ledger.NewVerifier(arg); err == nil {
		lines = []string{arg}
	} else {
		b, err := os.ReadFile(arg) //nolint:gosec // G304: the titular names the key file
		if err != nil {
			return nil, "", fmt.Errorf("%q is neither a public key (name+hash+key) nor a readable file: %w", arg, err)
		}
		var pk struct {
			Origin               string   `json:"origin"`
			VerifierKey          string   `json:"verifier_key"`
			VerifierKeyCamel     string   `json:"verifierKey"`
			PreviousVerifierKeys []string `json:"previous_verifier_keys"`
			PreviousCamel        []string `json:"previousVerifierKeys"`
		}
		if json.Unmarshal(b, &pk) == nil {
			origin = pk.Origin
			lines = append(append([]string{pk.VerifierKey + pk.VerifierKeyCamel}, pk.PreviousVerifierKeys...), pk.PreviousCamel...)
		} else {
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
		}
	}
	var keys []note.Verifier
	for _, l := range lines {
		v, err := ledger.NewVerifier(l)
		if err != nil {
			return nil, "", err
		}
		keys = append(keys, v)
	}
	if len(keys) == 0 {
		return nil, "", errors.New("no public key found; save the answer of GET /v1/tenants/{tenant}/ledger/public-key and pass that file")
	}
	return keys, origin, nil
}
