package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/groupdir/gateway/upstream"
)

// Readiness timing.
const (
	// defaultReadyTTL is how long a passed check is trusted.
	defaultReadyTTL = 10 * time.Second
	// readyCheckTimeout bounds the checks of one probe.
	readyCheckTimeout = 5 * time.Second
	// readyTokenWait bounds a probe's wait for a Genesys token: a hanging
	// token endpoint makes the probe answer 503, not time out.
	readyTokenWait = 2 * time.Second
)

// readiness answers /readyz: ready while a Genesys token can be obtained,
// the Usergroup API accepts the credentials, and no upstream's circuit
// breaker is open (a failing optional check, Redis, is listed under
// degraded and leaves it ready); otherwise 503, naming what fails in the
// gateway's own words (anyone may read /readyz). A passed check is trusted for ttl, so
// probes cost (almost) no upstream calls; a failed one is checked again at
// the next probe; live checks and breaker states are read at every probe.
type readiness struct {
	mode      string
	upstreams map[string]readyCheck
	ttl       time.Duration

	cache chan checkResults // one slot: the last results
}

// readyCheck is what readiness asks of one upstream.
type readyCheck struct {
	// what names what check proves, e.g. "token".
	what  string
	check func(context.Context) error
	// breaker returns the upstream's circuit breaker state (nil: it has
	// none, such as Redis).
	breaker func() string
	// live checks run at every probe, never trusted for ttl: they are cheap
	// (a held token) and must follow a change at once (a revoked token).
	live bool
	// optional checks are reported but leave the gateway ready: what fails
	// with them degrades (listed in degraded) rather than stops it.
	optional bool
}

// checkResults are the outcomes of one round of checks.
type checkResults struct {
	at     time.Time
	failed map[string]string // upstream name → what failed
}

// upstreamReadiness is one upstream's entry in the /readyz body.
type upstreamReadiness struct {
	Ready   bool   `json:"ready"`
	Check   string `json:"check"`
	Breaker string `json:"breaker,omitempty"`
}

// readyBody is the /readyz answer.
type readyBody struct {
	Ready     bool                         `json:"ready"`
	Mode      string                       `json:"mode"`
	Upstreams map[string]upstreamReadiness `json:"upstreams"`
	// Reasons says why the gateway is not ready, one line per cause.
	Reasons []string `json:"reasons,omitempty"`
	// Degraded names the failing optional checks (the gateway still
	// serves), one line each.
	Degraded []string `json:"degraded,omitempty"`
}

func newReadiness(mode string, ttl time.Duration, upstreams map[string]readyCheck) *readiness {
	r := &readiness{mode: mode, upstreams: upstreams, ttl: ttl, cache: make(chan checkResults, 1)}
	r.cache <- checkResults{}
	return r
}

// results runs the checks, unless the last round passed less than ttl ago.
func (r *readiness) results(ctx context.Context) checkResults {
	res := <-r.cache
	defer func() { r.cache <- res }()
	if !res.at.IsZero() && time.Since(res.at) < r.ttl {
		return res
	}
	res = checkResults{at: time.Now(), failed: map[string]string{}}
	ctx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
	defer cancel()
	for name, u := range r.upstreams {
		if u.live {
			continue
		}
		if err := u.check(ctx); err != nil {
			res.failed[name] = u.failure(err)
		}
	}
	if len(res.failed) > 0 {
		res.at = time.Time{} // a failure is not cached: the next probe checks again
	}
	return res
}

// failure is the /readyz text of a failed check: what failed and the
// gateway's description of the error, never the upstream's own text.
func (u readyCheck) failure(err error) string {
	var (
		upErr *upstream.Error
		trErr *upstream.TransportError
		inErr *upstream.InputError
	)
	msg := "failed"
	switch {
	case errors.As(err, &upErr):
		msg = upErr.Public()
	case errors.As(err, &trErr):
		msg = trErr.Public()
	case errors.As(err, &inErr):
		msg = inErr.Error()
	}
	return u.what + " unavailable: " + msg
}

// body builds the answer from the checks and the live breaker states.
func (r *readiness) body(ctx context.Context) readyBody {
	res := r.results(ctx)
	ctx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
	defer cancel()
	b := readyBody{Ready: true, Mode: r.mode, Upstreams: map[string]upstreamReadiness{}}
	for name, u := range r.upstreams {
		st := upstreamReadiness{Ready: true, Check: "ok"}
		if u.breaker != nil {
			st.Breaker = u.breaker()
		}
		msg, failed := res.failed[name]
		if u.live {
			if err := u.check(ctx); err != nil {
				msg, failed = u.failure(err), true
			}
		}
		switch {
		case failed && u.optional:
			st.Ready, st.Check = false, msg
			b.Degraded = append(b.Degraded, name+": "+msg)
			b.Upstreams[name] = st
			continue
		case failed:
			st.Ready, st.Check = false, msg
			b.Reasons = append(b.Reasons, name+": "+msg)
		}
		if st.Breaker == "open" {
			st.Ready = false
			b.Reasons = append(b.Reasons, name+": circuit breaker open (recent calls failed)")
		}
		b.Ready = b.Ready && st.Ready
		b.Upstreams[name] = st
	}
	slices.Sort(b.Reasons)
	slices.Sort(b.Degraded)
	return b
}

func (r *readiness) serve(w http.ResponseWriter, req *http.Request) {
	b := r.body(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !b.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(b)
}
