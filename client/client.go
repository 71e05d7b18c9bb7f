// Package client is a typed Go client of the directory gateway, generated
// with genqlient (github.com/Khan/genqlient) from the schema the gateway
// serves (../testdata/schema.golden.graphql) and the operations in
// operations.graphql: one Go function per operation (GroupsByIDs,
// GroupWithMembers, UserGroups, SearchGroups, CreateGroup, UpdateGroup,
// DeleteGroup, AddGroupMembers, ...), with typed variables and results.
//
//	c := client.New("https://directory.example.com/query", httpClient)
//	resp, err := client.GroupsByIDs(ctx, c, []string{id})
//
// Optional fields are pointers. In inputs, nil is left out of the request,
// which the gateway reads as "not given" (on update inputs: "keep the
// value"); the list fields of the update inputs are pointers to slices, so
// that nil keeps the list and a pointer to an empty slice clears it. DateTime
// values are time.Time.
//
// Mutations can carry an Idempotency-Key (WithIdempotencyKey), which makes a
// retry of the same request safe: the gateway replays the first answer.
//
// httpClient carries the caller's authentication: with AUTH_MODE=jwt, an
// http.Client that adds "Authorization: Bearer <token>" (for example
// golang.org/x/oauth2's client-credentials client); see docs/services.md.
//
// Errors: a GraphQL error answer is returned as a gqlerror.List (with the
// data that did resolve); Codes lists its extensions.code values.
package client

//go:generate go tool genqlient

import (
	"context"
	"errors"
	"net/http"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// New returns a client of the gateway's GraphQL endpoint (its /query URL)
// that sends its requests with httpClient (http.DefaultClient when nil),
// adding the Idempotency-Key of WithIdempotencyKey.
func New(endpoint string, httpClient *http.Client) graphql.Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	c := *httpClient
	c.Transport = idempotencyTransport{base: httpClient.Transport}
	return graphql.NewClient(endpoint, &c)
}

type idempotencyKey struct{}

// WithIdempotencyKey returns a context whose requests, made through a
// client from New, carry the Idempotency-Key header key: the gateway keeps
// the first answer to a mutation for 24 hours and answers a retry with the
// same key, operation and variables with it, without writing again. Use a
// fresh key (a UUID) per logical change, and the same key for its retries.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// idempotencyTransport adds the context's Idempotency-Key to requests.
type idempotencyTransport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t idempotencyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	key, _ := r.Context().Value(idempotencyKey{}).(string)
	if key == "" {
		return base.RoundTrip(r)
	}
	r = r.Clone(r.Context()) // a RoundTripper must not change its request
	r.Header.Set("Idempotency-Key", key)
	return base.RoundTrip(r)
}

// Codes returns the extensions.code of every GraphQL error in err (nil when
// err holds none), e.g. BAD_USER_INPUT, FORBIDDEN, NOT_FOUND, CONFLICT,
// RATE_LIMITED, UPSTREAM_UNAVAILABLE.
func Codes(err error) []string {
	var list gqlerror.List
	if !errors.As(err, &list) {
		return nil
	}
	codes := make([]string, 0, len(list))
	for _, e := range list {
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code)
	}
	return codes
}
