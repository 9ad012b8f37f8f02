package config

import (
	"fmt"
	"time"
)

// Databases bounds what titular asks of the MySQL servers holding the
// tenant databases: tenants on one server share one connection budget, so
// the number of tenants does not multiply the connections.
type Databases struct {
	// MaxConnections is the budget of a server not listed in Servers
	// (default 32): titular never holds more connections to it, whatever the
	// number of tenants on it.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a connection unused for that long (default 10s);
	// the scheduler also lets go of a tenant's idle connections as soon as
	// the tenant goes quiet, so idle tenants hold none.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// Servers names servers with a budget of their own. A tenant joins one
	// with `server: NAME`, or by having Addr as its DSN's host:port.
	Servers []DatabaseServer `yaml:"servers"`
}

// DatabaseServer is one MySQL server and its connection budget.
type DatabaseServer struct {
	Name           string `yaml:"name"`
	Addr           string `yaml:"addr"`
	MaxConnections int    `yaml:"max_connections"`
}

func (d *Databases) applyDefaults() {
	if d.MaxConnections == 0 {
		d.MaxConnections = 32
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = 10 * time.Second
	}
	for i := range d.Servers {
		if d.Servers[i].MaxConnections == 0 {
			d.Servers[i].MaxConnections = d.MaxConnections
		}
	}
}

func (d Databases) server(name string) (DatabaseServer, bool) {
	for _, s := range d.Servers {
		if s.Name == name {
			return s, true
		}
	}
	return DatabaseServer{}, false
}

// Budget returns the connection budget of the server a tenant is on and the
// key that server is known by: the tenant's `server` entry, else the entry
// whose addr is the DSN's host:port, else addr itself with the default
// budget.
func (d Databases) Budget(server, addr string) (key string, maxConns int) {
	if s, ok := d.server(server); ok {
		return "server:" + s.Name, s.MaxConnections
	}
	for _, s := range d.Servers {
		if s.Addr != "" && s.Addr == addr {
			return "server:" + s.Name, s.MaxConnections
		}
	}
	return "addr:" + addr, d.MaxConnections
}

func (c *Config) validateDatabases() []error {
	d := c.Databases
	var errs []error
	// Each background job may hold two connections (a read snapshot and a
	// write): below this, jobs could wait on each other's connections.
	need := 2*c.Workers.Concurrency + 2
	check := func(at string, maxConns int) {
		if maxConns < need {
			errs = append(errs, fmt.Errorf("%s: %d connections is below 2 × workers.concurrency + 2 (%d); raise it or lower workers.concurrency", at, maxConns, need))
		}
	}
	check("databases.max_connections", d.MaxConnections)
	if d.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("databases.idle_timeout: %s must not be negative", d.IdleTimeout))
	}
	names := map[string]bool{}
	for i, s := range d.Servers {
		at := fmt.Sprintf("databases.servers[%d]", i)
		if !idPattern.MatchString(s.Name) || names[s.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q must be unique, lower-case letters, digits, '-' and '_'", at, s.Name))
		}
		names[s.Name] = true
		check(at+".max_connections", s.MaxConnections)
	}
	for i, t := range c.inline {
		if t.Server != "" && !names[t.Server] {
			errs = append(errs, fmt.Errorf("tenants[%d].server: %q is not in databases.servers", i, t.Server))
		}
	}
	return errs
}
