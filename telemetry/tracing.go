package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is the service.name of the gateway's spans unless
// OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const DefaultServiceName = "groupdir-gateway"

// OTLP protocols (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http/protobuf"
)

// TracingConfig says whether traces are exported, and how. It is read from
// the standard OpenTelemetry variables by TracingConfigFromEnv.
type TracingConfig struct {
	// Enabled is true when an OTLP endpoint is set and the SDK is not
	// disabled.
	Enabled bool
	// Protocol is "grpc" or "http/protobuf".
	Protocol string
}

// TracingConfigFromEnv reads the tracing switch from the standard variables.
// Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, unless OTEL_SDK_DISABLED is
// true or OTEL_TRACES_EXPORTER is none. The exporter itself reads the other
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, TLS), and the SDK reads
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
// OTEL_BSP_*. Each error names its variable.
func TracingConfigFromEnv(getenv func(string) string) (TracingConfig, error) {
	var errs []error
	exporter := getenv("OTEL_TRACES_EXPORTER")
	if exporter != "" && exporter != "otlp" && exporter != "none" {
		errs = append(errs, errors.New("OTEL_TRACES_EXPORTER: must be otlp or none"))
	}
	protocol := first(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), protocolHTTP)
	if protocol != protocolGRPC && protocol != protocolHTTP {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: must be %s or %s", protocolGRPC, protocolHTTP))
	}
	endpoint := first(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	disabled := strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") || exporter == "none"
	return TracingConfig{Enabled: endpoint != "" && !disabled, Protocol: protocol}, errors.Join(errs...)
}

// StartTracing returns the tracer provider that exports spans over OTLP as
// c says, or nil when tracing is off. Shut the provider down on exit to
// flush what it holds. Export failures are logged to log at warn (this sets
// OpenTelemetry's process-wide error handler).
func StartTracing(ctx context.Context, c TracingConfig, log *slog.Logger) (*sdktrace.TracerProvider, error) {
	if !c.Enabled {
		return nil, nil
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "error", err.Error())
	}))
	var client otlptrace.Client
	if c.Protocol == protocolGRPC {
		client = otlptracegrpc.NewClient()
	} else {
		client = otlptracehttp.NewClient()
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", DefaultServiceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// first returns the first non-empty value.
func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
