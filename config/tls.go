package config

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// TLS secures both listeners. The files are re-read when they change, so a
// rotated certificate needs no restart.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile turns on mutual TLS for gRPC clients (the CRM backend):
	// client certificates are verified against these CAs.
	ClientCAFile string `yaml:"client_ca_file"`
	// ClientAuth is "optional" (default when ClientCAFile is set: a client
	// may present a certificate or a bearer credential) or "require" (every
	// gRPC connection must present a certificate from ClientCAFile).
	ClientAuth string `yaml:"client_auth"`
	// Clients map a verified client certificate to a role and tenants, as
	// an API key does. A certificate that matches no entry authenticates
	// nobody: it still needs a bearer credential.
	Clients []TLSClient `yaml:"clients"`
}

// TLSClient is a client certificate identity with the rights it carries.
type TLSClient struct {
	// Name is what logs and the ledger record as the caller.
	Name string `yaml:"name"`
	// Subject matches the certificate's common name or one of its DNS or
	// URI subject alternative names, exactly.
	Subject string   `yaml:"subject"`
	Role    string   `yaml:"role"`
	Tenants []string `yaml:"tenants"`
}

// Client authentication modes.
const (
	ClientAuthOptional = "optional"
	ClientAuthRequire  = "require"
)

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

func (c *Config) tlsDefaults() {
	t := &c.TLS
	t.CertFile, t.KeyFile, t.ClientCAFile = c.Resolve(t.CertFile), c.Resolve(t.KeyFile), c.Resolve(t.ClientCAFile)
	if t.ClientCAFile != "" && t.ClientAuth == "" {
		t.ClientAuth = ClientAuthOptional
	}
}

func (c *Config) validateTLS(configured map[string]bool) []error {
	var errs []error
	t := c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("tls: set both cert_file and key_file (PEM files), or neither"))
	}
	if t.ClientCAFile != "" && !t.Enabled() {
		errs = append(errs, errors.New("tls.client_ca_file: client certificates need TLS; set tls.cert_file and tls.key_file too"))
	}
	switch t.ClientAuth {
	case "", ClientAuthOptional, ClientAuthRequire:
		if t.ClientAuth != "" && t.ClientCAFile == "" {
			errs = append(errs, errors.New("tls.client_auth: set tls.client_ca_file, the CAs client certificates are checked against"))
		}
	default:
		errs = append(errs, fmt.Errorf("tls.client_auth: %q is not a mode; use optional or require", t.ClientAuth))
	}
	if len(t.Clients) > 0 && t.ClientCAFile == "" {
		errs = append(errs, errors.New("tls.clients: client identities need tls.client_ca_file to verify them against"))
	}
	names := map[string]bool{}
	for i, cl := range t.Clients {
		at := fmt.Sprintf("tls.clients[%d]", i)
		if cl.Name == "" || names[cl.Name] {
			errs = append(errs, fmt.Errorf("%s.name: each client needs a unique name", at))
		}
		names[cl.Name] = true
		if cl.Subject == "" {
			errs = append(errs, fmt.Errorf("%s.subject: the certificate's common name or DNS/URI name to match", at))
		}
		errs = append(errs, c.validateGrant(at, cl.Role, cl.Tenants, configured)...)
	}
	if !t.Enabled() && !c.AllowPlaintext {
		for _, l := range []struct{ key, addr string }{{"grpc_addr", c.GRPCAddr}, {"http_addr", c.HTTPAddr}} {
			if !loopback(l.addr) {
				errs = append(errs, fmt.Errorf("%s: %s is reachable from other machines and no TLS is configured; set tls.cert_file and tls.key_file, "+
					"listen on 127.0.0.1, or set allow_plaintext: true when a proxy or mesh in front terminates TLS", l.key, l.addr))
			}
		}
	}
	return errs
}

// loopback reports whether addr (host:port) listens on loopback only. An
// empty host or an unspecified address listens on every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateGrant checks a role and tenant list, for API keys, client
// certificates and identity-provider roles alike.
func (c *Config) validateGrant(at, role string, tenants []string, configured map[string]bool) []error {
	var errs []error
	switch role {
	case RoleDPO, RoleBackend, RoleAuditor, RolePortal:
	default:
		errs = append(errs, fmt.Errorf("%s.role: %q is not a role; use dpo, backend, auditor or portal", at, role))
	}
	return append(errs, c.validateTenants(at, tenants, configured)...)
}

// validateTenants checks the tenants a credential may touch: some, and
// each configured ("*" is all; tenants of a tenants_dir may arrive after
// the start).
func (c *Config) validateTenants(at string, tenants []string, configured map[string]bool) []error {
	var errs []error
	if len(tenants) == 0 {
		errs = append(errs, fmt.Errorf("%s.tenants: list the tenants this credential may touch (\"*\" for all)", at))
	}
	for _, id := range tenants {
		if !configured[id] && id != "*" && c.TenantsDir == "" {
			errs = append(errs, fmt.Errorf("%s.tenants: %q is not a configured tenant", at, id))
		}
	}
	return errs
}
