package upstream

import (
	"context"
	"net/http"
	"sync/atomic"
)

// Calls counts the upstream calls made on behalf of one GraphQL operation,
// per upstream. The gateway puts one in each request's context (WithCalls)
// and reports it in the response's extensions.
type Calls struct {
	genesys, usergroups atomic.Int64
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
