package upstream

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Calls counts the upstream calls made on behalf of one GraphQL operation,
// per upstream, and can cap them. The gateway puts one in each request's
// context (WithCalls) and reports it in the response's extensions; the
// per-caller quota caps it (Limit) before the operation runs.
type Calls struct {
	genesys, usergroups atomic.Int64
	// started counts the calls a Resilience let past the cap (start), max
	// is the cap on started (0: none).
	started, max atomic.Int64
	// staleAge is the age, in nanoseconds, of the oldest answer served
	// stale to the operation (0: none).
	staleAge atomic.Int64
}

// MarkStale records that an upstream answer of age was served from the
// read cache past its freshness, because the upstream could not be asked
// (ReadSharingOptions.StaleFor). A nil *Calls records nothing.
func (c *Calls) MarkStale(age time.Duration) {
	if c == nil {
		return
	}
	age = max(age, 1)
	for {
		old := c.staleAge.Load()
		if int64(age) <= old || c.staleAge.CompareAndSwap(old, int64(age)) {
			return
		}
	}
}

// Stale returns the age of the oldest answer served stale to the
// operation, and whether there was one.
func (c *Calls) Stale() (time.Duration, bool) {
	age := time.Duration(c.staleAge.Load())
	return age, age > 0
}

// Add records one call to the named upstream.
func (c *Calls) Add(upstreamName string) {
	switch upstreamName {
	case Genesys:
		c.genesys.Add(1)
	case Usergroups:
		c.usergroups.Add(1)
	}
}

// Genesys returns the calls made to the Genesys API.
func (c *Calls) Genesys() int64 { return c.genesys.Load() }

// Usergroups returns the calls made to the Usergroup API.
func (c *Calls) Usergroups() int64 { return c.usergroups.Load() }

// Total returns the calls made to both upstreams.
func (c *Calls) Total() int64 { return c.Genesys() + c.Usergroups() }

// Limit lets at most n (> 0) more calls start through a Resilience, retries
// included; further calls fail with a *CallLimitError and are not made. It
// is the backstop behind an estimate of the operation's calls that might be
// too low.
func (c *Calls) Limit(n int) {
	if c != nil && n > 0 {
		c.max.Store(c.started.Load() + int64(n))
	}
}

// start claims one call under the cap, or returns a *CallLimitError. A nil
// *Calls allows every call.
func (c *Calls) start(upstreamName string) error {
	if c == nil {
		return nil
	}
	for {
		n, limit := c.started.Load(), c.max.Load()
		if limit > 0 && n >= limit {
			return &CallLimitError{Upstream: upstreamName, Max: limit}
		}
		if c.started.CompareAndSwap(n, n+1) {
			return nil
		}
	}
}

// unstart gives back a call start claimed but that was not made.
func (c *Calls) unstart() {
	if c != nil {
		c.started.Add(-1)
	}
}

// CallLimitError is a call refused, and not made, because its operation
// started as many upstream calls as its cap allows (Calls.Limit).
type CallLimitError struct {
	// Upstream is the upstream the call was for.
	Upstream string
	// Max is the operation's cap.
	Max int64
}

// Error implements error.
func (e *CallLimitError) Error() string {
	return e.Upstream + ": call not made: the operation reached its cap of " + strconv.FormatInt(e.Max, 10) + " upstream calls"
}

type callsKey struct{}

// WithCalls returns a context whose upstream calls are counted in c.
func WithCalls(ctx context.Context, c *Calls) context.Context {
	return context.WithValue(ctx, callsKey{}, c)
}

// CallsFrom returns the counter WithCalls put in ctx, or nil.
func CallsFrom(ctx context.Context) *Calls {
	c, _ := ctx.Value(callsKey{}).(*Calls)
	return c
}

// CountCalls wraps rt so that every request sent through it is counted in
// the Calls of its context, under upstreamName.
func CountCalls(upstreamName string, rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if c := CallsFrom(r.Context()); c != nil {
			c.Add(upstreamName)
		}
		return rt.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
