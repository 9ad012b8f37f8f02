package tracing

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestSetupWithoutEndpointIsNoop(t *testing.T) {
	before := otel.GetTracerProvider()
	stop, err := Setup(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != before {
		t.Error("Setup without an endpoint replaced the tracer provider")
	}
	if err := stop(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestSetupWithEndpoint(t *testing.T) {
	before := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(before) })
	// Nothing listens there: the exporter connects lazily, and shutting down
	// with no spans to send returns at once.
	stop, err := Setup(context.Background(), Options{Endpoint: "127.0.0.1:1", Insecure: true, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
		t.Errorf("tracer provider is %T, want the SDK's", otel.GetTracerProvider())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
