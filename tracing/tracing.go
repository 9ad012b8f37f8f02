// Package tracing turns on OpenTelemetry tracing when an OTLP endpoint is
// configured: gRPC calls, REST calls through the gateway, and SQL statements
// (query text with placeholders; values are bound parameters and never
// recorded). With no endpoint the instrumentation stays a no-op.
package tracing

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options configures the exporter.
type Options struct {
	// Endpoint is the OTLP/gRPC collector address (host:port); "" disables
	// tracing.
	Endpoint string
	// Insecure sends spans without TLS (a collector on the same host).
	Insecure bool
	// SampleRatio is the share of new traces recorded (0 means 1: all);
	// a caller's sampling decision is followed.
	SampleRatio float64
	// Version is titular's version, recorded on every span.
	Version string
}

// Setup installs the OTLP exporter as the process's tracer provider (the
// OpenTelemetry global the instrumentation libraries read) and the W3C
// trace-context propagator. It returns the function that flushes and stops
// the exporter; with no endpoint it changes nothing and returns a no-op.
func Setup(ctx context.Context, o Options) (shutdown func(context.Context) error, err error) {
	if o.Endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(o.Endpoint)}
	if o.Insecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", o.Endpoint, err)
	}
	ratio := o.SampleRatio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(5*time.Second)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", "titular"),
			attribute.String("service.version", o.Version),
		)),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}
