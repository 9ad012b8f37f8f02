package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/titular/titular/brdoc"
)

// runToken dispatches `titular token keygen|mint`: a portal's key pair and
// titular-bound tokens signed with it, for development and for checking a
// tenant's titular_tokens configuration. A production portal signs its own
// tokens after verifying the titular; its private key never reaches
// titular.
func runToken(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: the subcommand is 'keygen' or 'mint'")
	}
	switch args[0] {
	case "keygen":
		return runTokenKeygen(args[1:], stdout)
	case "mint":
		return runTokenMint(args[1:], stdout, time.Now())
	}
	return fmt.Errorf("token: unknown subcommand %q; use keygen or mint", args[0])
}

// runTokenKeygen writes an Ed25519 key pair: PREFIX.key (private, 0600,
// for the portal) and PREFIX.pub.pem (for the tenant's
// titular_tokens.issuers[].public_key_file).
func runTokenKeygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token keygen", flag.ContinueOnError)
	out := fs.String("out", "", "path prefix of the key files (PREFIX.key, PREFIX.pub.pem)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" {
		return errors.New("token keygen: --out PREFIX is required")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	keyFile, pubFile := *out+".key", *out+".pub.pem"
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the operator names the output prefix
	if err != nil {
		return fmt.Errorf("token keygen: %w (an existing key is never overwritten)", err)
	}
	if err := errors.Join(pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), f.Close()); err != nil {
		return errors.Join(fmt.Errorf("token keygen: writing %s: %w", keyFile, err), os.Remove(keyFile))
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil { //nolint:gosec // G306: a public key, meant to be handed out
		return fmt.Errorf("token keygen: %w", err)
	}
	fmt.Fprintf(stdout, "portal private key: %s (keep it with the portal)\ntenant public key:  %s (titular_tokens.issuers[].public_key_file)\n", keyFile, pubFile)
	return nil
}

// runTokenMint signs a titular-bound token with a portal's private key.
func runTokenMint(args []string, stdout io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("token mint", flag.ContinueOnError)
	keyFile := fs.String("key", "", "the portal's private key (PEM: Ed25519, ECDSA P-256 or RSA)")
	tenantID := fs.String("tenant", "", "the tenant the token is for")
	issuer := fs.String("issuer", "", "the portal's name, as in the tenant's titular_tokens.issuers[].name")
	cpf := fs.String("cpf", "", "the titular's verified CPF")
	email := fs.String("email", "", "the titular's verified e-mail")
	phone := fs.String("phone", "", "the titular's verified phone")
	verifiedBy := fs.String("verified-by", "", "how the portal verified the titular: gov.br, sms, email, ...")
	ttl := fs.Duration("ttl", 10*time.Minute, "lifetime (the tenant's max_ttl caps it, 15m by default)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *keyFile == "" || *tenantID == "" || *issuer == "" || *verifiedBy == "" || (*cpf == "" && *email == "" && *phone == "") {
		return errors.New("token mint: --key, --tenant, --issuer, --verified-by and at least one of --cpf, --email, --phone are required")
	}
	titular := map[string]string{}
	for name, v := range map[string]struct {
		raw  string
		norm func(string) (string, error)
	}{"cpf": {*cpf, brdoc.NormalizeCPF}, "email": {*email, brdoc.NormalizeEmail}, "phone": {*phone, brdoc.NormalizePhone}} {
		if v.raw == "" {
			continue
		}
		n, err := v.norm(v.raw)
		if err != nil {
			return fmt.Errorf("token mint: --%s is not valid (%v)", name, err)
		}
		titular[name] = n
	}
	key, alg, err := readSigningKey(*keyFile)
	if err != nil {
		return fmt.Errorf("token mint: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return fmt.Errorf("token mint: %w", err)
	}
	claims := map[string]any{"iss": *issuer, "aud": "titular", "iat": now.Unix(), "exp": now.Add(*ttl).Unix(),
		"tenant": *tenantID, "titular": titular, "verified_by": *verifiedBy}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return fmt.Errorf("token mint: %w", err)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// readSigningKey reads a PEM private key and the JOSE algorithm it signs with.
func readSigningKey(path string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the key file
	if err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, "", fmt.Errorf("%s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if ek, err2 := x509.ParseECPrivateKey(block.Bytes); err2 == nil {
			k = ek
		} else if rk, err3 := x509.ParsePKCS1PrivateKey(block.Bytes); err3 == nil {
			k = rk
		} else {
			return nil, "", fmt.Errorf("%s: not a private key (PKCS#8, SEC 1 or PKCS#1): %w", path, err)
		}
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, jose.EdDSA, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "", fmt.Errorf("%s: an ECDSA key must be on P-256 (ES256)", path)
		}
		return k, jose.ES256, nil
	case *rsa.PrivateKey:
		return k, jose.RS256, nil
	}
	return nil, "", fmt.Errorf("%s: unsupported key type %T; use Ed25519, ECDSA P-256 or RSA", path, k)
}
