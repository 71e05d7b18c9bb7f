// Command load is the repository's own load benchmark (make load): it
// builds the gateway, starts it against both upstream emulators served by
// this process on loopback (seeded with demodata.Bench, answering after
// -latency), and drives the four workload shapes of bench/gateway/queries
// one after the other, each at a fixed concurrency for a bounded time, with
// the vegeta load-testing library. Every answer is checked (status 200, no
// GraphQL errors, the expected entities). It prints one markdown table row
// per workload:
//
//   - req/s, p50 and p99 latency: vegeta, on the client side;
//   - gateway CPU ms per request: the gateway process's user + system time
//     (/proc/<pid>/stat) over the measured window, divided by its requests;
//   - tool CPU ms per request: the same for this process, which holds the
//     load generator, the answer checks and both emulators;
//   - upstream calls per request: counted by the emulators, token requests
//     left out; "single" is one request on an idle gateway;
//   - peak RSS: the gateway's VmHWM during the window.
//
// The load is a closed loop: -concurrency workers each send a request as
// soon as their previous one is answered, so the measured window ends with
// every request answered and nothing is left in flight to skew the per
// request figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	duration, warmup, latency time.Duration
	concurrency               int
	maxRequests               uint64
	workloads                 []*workload
	repo, gateway             string
}

// Bounds of the flags, so that every run stops by itself.
const (
	maxDuration    = 10 * time.Minute
	maxConcurrency = 1024
)

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per workload (at most 10m)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up per workload, at the same concurrency, not measured")
	fs.DurationVar(&c.latency, "latency", 0, "upstream latency: each emulator answers after it")
	fs.IntVar(&c.concurrency, "concurrency", 16, "requests in flight at once (closed loop)")
	fs.Uint64Var(&c.maxRequests, "max-requests", 1_000_000, "at most this many requests per workload and phase")
	names := fs.String("workloads", "w1,w2,w3,w4", "comma-separated workloads to run, in order")
	fs.StringVar(&c.repo, "repo", "", "the repository's root (default: the nearest parent folder with go.mod)")
	fs.StringVar(&c.gateway, "gateway", "", "a gateway binary to run instead of building one")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.duration <= 0 || c.duration > maxDuration || c.warmup < 0 || c.warmup > maxDuration:
		return c, fmt.Errorf("-duration must be in (0, %s] and -warmup in [0, %s]", maxDuration, maxDuration)
	case c.concurrency < 1 || c.concurrency > maxConcurrency:
		return c, fmt.Errorf("-concurrency must be 1..%d", maxConcurrency)
	case c.latency < 0 || c.latency > 10*time.Second:
		return c, errors.New("-latency must be 0..10s")
	case c.maxRequests == 0:
		return c, errors.New("-max-requests must be positive")
	}
	for n := range strings.SplitSeq(*names, ",") {
		i := slices.IndexFunc(workloads, func(w *workload) bool { return w.name == strings.TrimSpace(n) })
		if i < 0 {
			return c, fmt.Errorf("unknown workload %q (w1, w2, w3, w4)", n)
		}
		c.workloads = append(c.workloads, workloads[i])
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rows, err := measure(ctx, c, stderr)
	printTable(stdout, c, rows)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rows {
		failed += int(r.failed)
	}
	if failed > 0 {
		return fmt.Errorf("%d answers failed their check", failed)
	}
	return nil
}

// measure builds and starts the gateway and the emulators, then runs each
// workload. It returns the rows measured so far, also on error.
func measure(ctx context.Context, c config, logw io.Writer) ([]row, error) {
	if c.repo == "" {
		var err error
		if c.repo, err = findRepo(); err != nil {
			return nil, err
		}
	}
	for _, w := range c.workloads {
		if err := w.load(filepath.Join(c.repo, "bench", "gateway", "queries")); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "gateway-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := c.gateway
	if bin == "" {
		fmt.Fprintln(logw, "building the gateway")
		if bin, err = buildGateway(ctx, c.repo, tmp, logw); err != nil {
			return nil, err
		}
	}
	emu, err := startEmulators(c.latency)
	if err != nil {
		return nil, err
	}
	defer emu.close()
	gw, err := startGateway(bin, filepath.Join(tmp, "gateway.log"), emu)
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	var rows []row
	for _, w := range c.workloads {
		r, err := runWorkload(ctx, c, w, gw, emu, logw)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", w.name, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// findRepo returns the nearest folder at or above the working directory
// that holds go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 32 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no go.mod at or above the working directory: pass -repo")
}

// printTable writes the run's settings and one row per workload.
func printTable(w io.Writer, c config, rows []row) {
	fmt.Fprintf(w, "bench/load: %s per workload after a %s warm-up, concurrency %d, upstream latency %s, demodata.Bench; "+
		"%d cores, %s, load average at the end %s (other work on the machine shows here)\n\n",
		c.duration, c.warmup, c.concurrency, c.latency, runtime.NumCPU(), runtime.Version(), loadAverage())
	fmt.Fprintln(w, "| workload | requests | failed | req/s | p50 ms | p99 ms | gateway CPU ms/req | tool CPU ms/req "+
		"| upstream calls/req: single (ideal) | under load | gateway peak RSS MiB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %.1f | %.1f | %.2f | %.2f | %d (%d) | %.2f | %.0f%s |\n",
			strings.ToUpper(r.workload), r.requests, r.failed, r.rps, ms(r.p50), ms(r.p99), ms(r.gatewayCPU)/float64(r.requests),
			ms(r.toolCPU)/float64(r.requests), r.single, r.ideal, float64(r.calls)/float64(r.requests),
			float64(r.peakRSS)/(1<<20), sinceStart(r.peakReset))
	}
	for _, r := range rows {
		for _, p := range r.problems {
			fmt.Fprintf(w, "\n%s: %s", r.workload, p)
		}
	}
	fmt.Fprintln(w)
}

// loadAverage returns the machine's 1-minute load average (/proc/loadavg).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// sinceStart marks a peak RSS that could not be reset before the window.
func sinceStart(reset bool) string {
	if reset {
		return ""
	}
	return " (since start)"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
