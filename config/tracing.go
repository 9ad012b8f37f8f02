package config

import "fmt"

// Tracing configures OpenTelemetry tracing. With no OTLP endpoint it is off
// and costs nothing.
type Tracing struct {
	// OTLPEndpoint is the OTLP/gRPC collector, host:port (e.g.
	// 127.0.0.1:4317).
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// Insecure sends spans without TLS, for a collector on the same host or
	// network.
	Insecure bool `yaml:"insecure"`
	// SampleRatio is the share of new traces recorded, 0 < r <= 1 (default 1).
	SampleRatio float64 `yaml:"sample_ratio"`
}

func (t Tracing) validate() []error {
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		return []error{fmt.Errorf("tracing.sample_ratio: %g is out of range; use a share between 0 and 1 (0 or unset records every trace)", t.SampleRatio)}
	}
	return nil
}
