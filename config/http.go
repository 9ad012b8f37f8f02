package config

import (
	"errors"
	"time"
)

// HTTP bounds what one REST client can hold: a slow or idle client keeps a
// connection for at most these times, and at most MaxConnections are
// served at once (more wait in the kernel's accept queue).
type HTTP struct {
	// ReadTimeout bounds reading a request, headers and body (default 30s).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes a kept-alive connection with no request (default 90s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnections is the most REST connections open at once (default 512).
	MaxConnections int `yaml:"max_connections"`
}

func (h *HTTP) applyDefaults() {
	if h.ReadTimeout == 0 {
		h.ReadTimeout = 30 * time.Second
	}
	if h.IdleTimeout == 0 {
		h.IdleTimeout = 90 * time.Second
	}
	if h.MaxConnections == 0 {
		h.MaxConnections = 512
	}
}

func (h HTTP) validate() []error {
	var errs []error
	if h.ReadTimeout < 0 || h.IdleTimeout < 0 {
		errs = append(errs, errors.New("http: read_timeout and idle_timeout must be positive durations (e.g. 30s)"))
	}
	if h.MaxConnections < 0 {
		errs = append(errs, errors.New("http.max_connections: must be positive (default 512)"))
	}
	return errs
}
