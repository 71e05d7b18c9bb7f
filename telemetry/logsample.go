package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/time/rate"
)

// Sampled log lines: the lines written once per failing field (upstream
// errors and their detail) would, under an upstream outage or a spent
// budget, write a line per field of every request: hundreds a second. The
// log handler lets each kind of them (message, code, upstream) through at
// most SampledPerSecond a second (bursts of SampledBurst), and the next line
// of a kind that dropped some says how many ("unlogged_since_last"). The
// metrics count every error; the log keeps examples.
const (
	// SampledPerSecond is how many lines of one kind a second get through.
	SampledPerSecond = 5
	// SampledBurst is how many lines of one kind get through at once.
	SampledBurst = 20
	// maxSampledKinds bounds the kinds tracked; beyond it, new kinds share
	// one budget.
	maxSampledKinds = 256
)

// sampledMessages are the messages the handler samples; every other line
// goes through.
var sampledMessages = map[string]bool{"upstream error": true, "upstream error detail": true}

// NewSampledHandler returns a slog.Handler that writes to next, sampling the
// lines written per failing field (see SampledPerSecond).
func NewSampledHandler(next slog.Handler) slog.Handler {
	return &sampledHandler{next: next, s: &sampler{kinds: map[sampleKey]*sampleState{}}}
}

type sampledHandler struct {
	next slog.Handler
	s    *sampler
}

type sampler struct {
	mu    sync.Mutex
	kinds map[sampleKey]*sampleState
}

type sampleKey struct{ message, code, upstream string }

type sampleState struct {
	lim     *rate.Limiter
	dropped int
}

// admit reports whether a line of kind k may be written, and how many of
// that kind were dropped since the last one written.
func (s *sampler) admit(k sampleKey) (ok bool, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kinds[k]
	if st == nil {
		if len(s.kinds) >= maxSampledKinds {
			k = sampleKey{message: "other"}
			st = s.kinds[k]
		}
		if st == nil {
			st = &sampleState{lim: rate.NewLimiter(SampledPerSecond, SampledBurst)}
			s.kinds[k] = st
		}
	}
	if !st.lim.Allow() {
		st.dropped++
		return false, 0
	}
	dropped, st.dropped = st.dropped, 0
	return true, dropped
}

// Enabled implements slog.Handler.
func (h *sampledHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *sampledHandler) Handle(ctx context.Context, r slog.Record) error {
	if !sampledMessages[r.Message] {
		return h.next.Handle(ctx, r)
	}
	k := sampleKey{message: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "code":
			k.code = a.Value.String()
		case "upstream":
			k.upstream = a.Value.String()
		}
		return true
	})
	ok, dropped := h.s.admit(k)
	if !ok {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("unlogged_since_last", dropped))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *sampledHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sampledHandler{next: h.next.WithAttrs(attrs), s: h.s}
}

// WithGroup implements slog.Handler.
func (h *sampledHandler) WithGroup(name string) slog.Handler {
	return &sampledHandler{next: h.next.WithGroup(name), s: h.s}
}
