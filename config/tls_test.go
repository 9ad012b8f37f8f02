package config

import (
	"strings"
	"testing"
)

func TestTLSConfig(t *testing.T) {
	const tenant = "tenants: [{id: a, dsn: x, datamap: m}]\n"
	bad := map[string]struct{ yaml, want string }{
		"plaintext on every interface":  {tenant + `grpc_addr: ":9090"`, "grpc_addr: :9090 is reachable from other machines and no TLS is configured"},
		"plaintext on a public address": {tenant + `http_addr: "10.1.2.3:8080"`, "allow_plaintext: true"},
		"cert without key":              {tenant + `tls: {cert_file: c.pem}`, "set both cert_file and key_file"},
		"client CA without TLS":         {tenant + `tls: {client_ca_file: ca.pem}`, "client certificates need TLS"},
		"unknown client auth": {tenant + `tls: {cert_file: c, key_file: k, client_ca_file: ca, client_auth: always}`,
			`"always" is not a mode; use optional or require`},
		"client auth without CA": {tenant + `tls: {cert_file: c, key_file: k, client_auth: require}`, "set tls.client_ca_file"},
		"clients without CA": {tenant + `tls: {cert_file: c, key_file: k, clients: [{name: crm, subject: crm, role: backend, tenants: [a]}]}`,
			"need tls.client_ca_file"},
		"client with a bad role": {tenant + `tls: {cert_file: c, key_file: k, client_ca_file: ca, clients: [{name: crm, subject: crm, role: root, tenants: [a]}]}`,
			"tls.clients[0].role"},
		"client of an unknown tenant": {tenant + `tls: {cert_file: c, key_file: k, client_ca_file: ca, clients: [{name: crm, subject: crm, role: backend, tenants: [b]}]}`,
			`tls.clients[0].tenants: "b" is not a configured tenant`},
		"client without subject": {tenant + `tls: {cert_file: c, key_file: k, client_ca_file: ca, clients: [{name: crm, role: backend, tenants: [a]}]}`,
			"tls.clients[0].subject"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("/etc/titular/t.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}

	good := map[string]string{
		"loopback plaintext":      tenant + `grpc_addr: "127.0.0.1:9090"` + "\n" + `http_addr: "[::1]:8080"`,
		"localhost plaintext":     tenant + `grpc_addr: "localhost:9090"`,
		"plaintext behind a mesh": tenant + `grpc_addr: ":9090"` + "\nallow_plaintext: true",
		"TLS on every interface":  tenant + `grpc_addr: ":9090"` + "\ntls: {cert_file: c.pem, key_file: k.pem}",
	}
	for name, y := range good {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("/etc/titular/t.yaml", []byte(y)); err != nil {
				t.Fatal(err)
			}
		})
	}

	c, err := Parse("/etc/titular/t.yaml", []byte(tenant+`tls: {cert_file: c.pem, key_file: /k.pem, client_ca_file: ca.pem}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.CertFile != "/etc/titular/c.pem" || c.TLS.KeyFile != "/k.pem" || c.TLS.ClientCAFile != "/etc/titular/ca.pem" {
		t.Errorf("paths not resolved from the config's directory: %+v", c.TLS)
	}
	if c.TLS.ClientAuth != ClientAuthOptional {
		t.Errorf("client_auth defaults to %q, want optional", c.TLS.ClientAuth)
	}
}
