package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// row is what one workload measured.
type row struct {
	workload string
	// requests is the number of answers of the measured window.
	requests uint64
	// failed counts the answers of the warm-up and the window that failed
	// their check; problems holds the first few reasons.
	failed   uint64
	problems []string
	rps      float64
	p50, p99 time.Duration
	// gatewayCPU and toolCPU are the CPU time the gateway and this process
	// spent over the measured window.
	gatewayCPU, toolCPU time.Duration
	// single is the upstream calls of one request on an idle gateway,
	// ideal the fewest the APIs allow, calls those of the measured window.
	single, ideal, calls int
	// peakRSS is the gateway's VmHWM; peakReset says it was reset before
	// the window (else it runs from the gateway's start).
	peakRSS   uint64
	peakReset bool
}

// maxProblems bounds the failure reasons kept per workload.
const maxProblems = 5

// runWorkload checks one request of variant 0 alone (and counts its
// upstream calls), warms up, then measures.
func runWorkload(ctx context.Context, c config, w *workload, gw *gateway, emu *emulators, logw io.Writer) (row, error) {
	r := row{workload: w.name, ideal: w.ideal}
	emu.resetCalls()
	if err := single(ctx, w, gw.url); err != nil {
		return r, fmt.Errorf("one request: %w (not load-tested)", err)
	}
	r.single = emu.calls()
	tgts, err := targets(w, gw.url)
	if err != nil {
		return r, err
	}
	if c.warmup > 0 {
		fmt.Fprintf(logw, "%s: warm-up %s\n", w.name, c.warmup)
		warm := attack(ctx, c, w, tgts, c.warmup)
		r.failed, r.problems = warm.failed, warm.problems
	}
	fmt.Fprintf(logw, "%s: measuring %s at concurrency %d\n", w.name, c.duration, c.concurrency)
	r.peakReset = gw.resetPeakRSS()
	emu.resetCalls()
	g0, err1 := gw.cpu()
	t0, err2 := selfCPU()
	m := attack(ctx, c, w, tgts, c.duration)
	g1, err3 := gw.cpu()
	t1, err4 := selfCPU()
	rss, err5 := gw.peakRSS()
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return r, err
	}
	if m.requests == 0 {
		return r, errors.New("no request was answered")
	}
	r.requests, r.rps, r.p50, r.p99 = m.requests, float64(m.requests)/m.elapsed.Seconds(), m.p50, m.p99
	r.failed += m.failed
	if r.problems = append(r.problems, m.problems...); len(r.problems) > maxProblems {
		r.problems = r.problems[:maxProblems]
	}
	r.gatewayCPU, r.toolCPU, r.calls, r.peakRSS = g1-g0, t1-t0, emu.calls(), rss
	return r, ctx.Err()
}

// single sends variant 0 once and checks its answer.
func single(ctx context.Context, w *workload, endpoint string) error {
	body, err := w.body(0)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	return w.checkAnswer(0, resp.StatusCode, b)
}

// maxBody bounds the answer read (the largest, W3's, is about 100 KB).
const maxBody = 16 << 20

// stats is what one attack measured.
type stats struct {
	requests, failed uint64
	problems         []string
	elapsed          time.Duration
	p50, p99         time.Duration
}

// targets are the requests of every variant of w. The variant a request
// carries rides in its URL's fragment, which the HTTP client never sends, so
// that the answer (vegeta's Result names the URL) is checked against the
// variables it was asked with.
func targets(w *workload, endpoint string) ([]vegeta.Target, error) {
	out := make([]vegeta.Target, w.variants)
	header := http.Header{"Content-Type": {"application/json"}}
	for v := range out {
		body, err := w.body(v)
		if err != nil {
			return nil, err
		}
		out[v] = vegeta.Target{Method: http.MethodPost, URL: endpoint + "#" + strconv.Itoa(v), Body: body, Header: header}
	}
	return out, nil
}

// attack drives w at the gateway for d (or until -max-requests or ctx
// ends) with c.concurrency workers in a closed loop, and checks every
// answer. It returns once every request sent has been answered.
func attack(ctx context.Context, c config, w *workload, tgts []vegeta.Target, d time.Duration) stats {
	var next atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		*t = tgts[(next.Add(1)-1)%uint64(len(tgts))]
		return nil
	}
	n := uint64(c.concurrency)
	a := vegeta.NewAttacker(vegeta.Workers(n), vegeta.MaxWorkers(n), vegeta.Connections(c.concurrency),
		vegeta.KeepAlive(true), vegeta.HTTP2(false), vegeta.Timeout(30*time.Second), vegeta.MaxBody(maxBody),
		vegeta.Proxy(func(*http.Request) (*url.URL, error) { return nil, nil }))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()

	var (
		s        stats
		m        vegeta.Metrics
		mu       sync.Mutex
		checkers sync.WaitGroup
	)
	fail := func(v string, err error) {
		mu.Lock()
		defer mu.Unlock()
		s.failed++
		if len(s.problems) < maxProblems {
			s.problems = append(s.problems, fmt.Sprintf("variant %s: %v", v, err))
		}
	}
	toCheck := make(chan *vegeta.Result, 4*c.concurrency)
	for range runtime.GOMAXPROCS(0) {
		checkers.Go(func() {
			for res := range toCheck {
				_, frag, _ := strings.Cut(res.URL, "#")
				v, err := strconv.Atoi(frag)
				switch {
				case err != nil || v < 0 || v >= w.variants:
					fail(frag, errors.New("no variant in the result's URL"))
				case res.Code == 0:
					fail(frag, errors.New(res.Error))
				default:
					if err := w.checkAnswer(v, int(res.Code), res.Body); err != nil {
						fail(frag, err)
					}
				}
			}
		})
	}
	start := time.Now()
	for res := range a.Attack(targeter, maxHits(c.maxRequests), d, w.name) {
		m.Add(res)
		toCheck <- res
	}
	s.elapsed = time.Since(start)
	close(toCheck)
	checkers.Wait()
	m.Close()
	s.requests, s.p50, s.p99 = m.Requests, m.Latencies.P50, m.Latencies.P99
	return s
}

// maxHits is a vegeta.Pacer that sends as fast as the workers allow (the
// workers bound the concurrency) and stops after n requests.
type maxHits uint64

// Pace implements vegeta.Pacer.
func (n maxHits) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(n)
}

// Rate implements vegeta.Pacer: no set rate.
func (maxHits) Rate(time.Duration) float64 { return 0 }
