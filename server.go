// Command gateway serves one GraphQL API in front of the Genesys Cloud
// Groups API and a forms platform's Usergroup API.
//
// With no upstream configuration it starts in demo mode, on in-process
// emulators of both APIs. See README.md for configuration; the wiring is
// package gateway.
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/groupdir/gateway/internal/gateway"
	"github.com/groupdir/gateway/telemetry"
)

// shutdownTimeout bounds the graceful shutdown (design/hardening.md).
const shutdownTimeout = 20 * time.Second

func main() {
	if _, err := gateway.TuneRuntime(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway: memory limit:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run starts the gateway and serves until ctx is cancelled, then shuts down
// gracefully. Logs go to stdout; a start-up error is returned.
func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	cfg, err := gateway.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := gateway.NewLogger(cfg, stdout)
	tp, err := telemetry.StartTracing(ctx, cfg.Tracing, log)
	if err != nil {
		return err
	}
	var opts []gateway.Option
	if tp != nil {
		defer flushTraces(tp, log)
		opts = append(opts, gateway.WithTracerProvider(tp))
		log.Info("tracing: exporting spans over OTLP", "protocol", cfg.Tracing.Protocol)
	}
	g, err := gateway.New(cfg, log, opts...)
	if err != nil {
		return err
	}
	defer g.Close()
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	srv := g.Server()
	log.Info("listening", "addr", ln.Addr().String(), "env", cfg.Env, "auth", cfg.AuthMode,
		"memoryLimitBytes", debug.SetMemoryLimit(-1))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// flushTraces sends the spans still buffered, on the way out.
func flushTraces(tp *sdktrace.TracerProvider, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn("tracing: flushing spans failed", "error", err.Error())
	}
}
