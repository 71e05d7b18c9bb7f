package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/groupdir/gateway/upstream"
)

// tokenPath is the token endpoint under the login URL.
const tokenPath = "/oauth/token"

// TokenEarlyExpiry is how long before its expiry the gateway's token is
// replaced, as the Genesys SDK does (it refreshes at expires_in - 60 s).
const TokenEarlyExpiry = 60 * time.Second

// ErrNoToken is returned, before any request is sent, by a call whose
// context carries no caller token on a Client that has no token source. It
// matches upstream.ErrUnauthorized.
var ErrNoToken = fmt.Errorf("genesys: no access token (no caller token and no token source): %w", upstream.ErrUnauthorized)

// oauthErrorCodes are the RFC 6749 error codes a token endpoint may answer
// with. Any other value of the "error" field is dropped rather than risk
// putting text the endpoint echoed (a credential) into an error.
var oauthErrorCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "server_error": true, "temporarily_unavailable": true,
}

// Token fetching limits.
const (
	// defaultTokenFetchTimeout bounds one token request when the HTTP
	// client has no timeout of its own.
	defaultTokenFetchTimeout = 10 * time.Second
	// TokenBreakerFailures is how many token requests in a row that find
	// the endpoint unavailable (timeout, connection failure, 5xx) open the
	// token endpoint's circuit breaker.
	TokenBreakerFailures = 5
	// TokenBreakerOpenTimeout is how long the open breaker fails token
	// requests at once before one probe request is let through.
	TokenBreakerOpenTimeout = 5 * time.Second
)

// Tokens is the gateway's own Genesys access token, from the OAuth client
// credentials grant. It is reused until TokenEarlyExpiry before it expires,
// or until a call reports it refused (Invalidate). A new one is fetched by
// one request at a time (golang.org/x/sync/singleflight), whatever the
// number of waiters; each waiter waits only as long as its own context
// allows, while the fetch itself is bounded by its own timeout and runs to
// its end for the others. The token endpoint has its own circuit breaker
// (sony/gobreaker), so a failing token endpoint never opens the API's.
//
// A failure wraps upstream.ErrCredentials around an *upstream.Error (the
// endpoint answered with an error: Path /oauth/token, Status, Code = the
// RFC 6749 "error" value), an *upstream.TransportError (no usable answer, a
// timeout, the breaker open) or an *upstream.InputError (a malformed
// loginURL); none of them holds the client secret, a token or the
// endpoint's body. Tokens is safe for concurrent use.
type Tokens struct {
	cfg     *clientcredentials.Config
	httpCtx context.Context // carries the HTTP client for oauth2
	err     error           // a malformed login URL
	timeout time.Duration
	breaker *gobreaker.CircuitBreaker[*oauth2.Token]
	flight  singleflight.Group

	mu  sync.Mutex
	cur *oauth2.Token
}

var _ oauth2.TokenSource = (*Tokens)(nil)

// NewTokenSource returns the gateway's token source: the OAuth client
// credentials grant against <loginURL>/oauth/token (Basic authentication,
// form body grant_type=client_credentials), sent through hc (so its timeouts
// apply and redirects are not followed; nil means upstream.NewHTTPClient's
// defaults). hc should not carry the API's upstream.Resilience: the token
// endpoint has its own breaker, and one fetch serves every waiter.
func NewTokenSource(loginURL, clientID, clientSecret string, hc *http.Client) *Tokens {
	if hc == nil {
		hc = upstream.NewHTTPClient(upstream.ClientOptions{})
	}
	login, err := parseBaseURL("loginURL", loginURL)
	login.Path += tokenPath
	tc := &http.Client{
		Transport:     sendTransport{hc: hc},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = defaultTokenFetchTimeout
	}
	return &Tokens{
		cfg: &clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			TokenURL:     login.String(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		httpCtx: context.WithValue(context.Background(), oauth2.HTTPClient, tc),
		err:     err,
		timeout: timeout,
		breaker: gobreaker.NewCircuitBreaker[*oauth2.Token](gobreaker.Settings{
			Name:        "genesys-token",
			MaxRequests: 1,
			Timeout:     TokenBreakerOpenTimeout,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= TokenBreakerFailures },
			// A refusal (400, 401: a misconfigured client) says the endpoint works.
			IsSuccessful: func(err error) bool { return err == nil || !errors.Is(err, upstream.ErrUnavailable) },
		}),
	}
}

// Token implements oauth2.TokenSource: TokenContext without a deadline of
// the caller's (the fetch is still bounded by its own timeout).
func (s *Tokens) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext returns the held token while it is fresh, else waits, as
// long as ctx allows, for the one fetch in flight (starting it if none is).
func (s *Tokens) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if t := s.current(); t != nil {
		return t, nil
	}
	select {
	case r := <-s.flight.DoChan("token", s.fetch):
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oauth2.Token), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", upstream.ErrCredentials, &upstream.TransportError{Upstream: upstream.Genesys,
			Method: http.MethodPost, Path: tokenPath, Kind: "no access token in time",
			Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded)})
	}
}

// Invalidate drops token if it is the one held: the API refused it (401),
// so it was revoked, and the next call fetches a new one. Many calls
// refused with the same token drop it once and share one fetch.
func (s *Tokens) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.AccessToken == token {
		s.cur = nil
	}
}

// current returns the held token while it is more than TokenEarlyExpiry
// from its expiry.
func (s *Tokens) current() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || !s.cur.Expiry.IsZero() && time.Until(s.cur.Expiry) <= TokenEarlyExpiry {
		return nil
	}
	return s.cur
}

// fetch requests a new token through the breaker, bounded by the fetch
// timeout, and holds it. It runs under the single flight.
func (s *Tokens) fetch() (any, error) {
	if t := s.current(); t != nil {
		return t, nil // fetched by the flight that ended as this one began
	}
	if s.err != nil {
		return nil, fmt.Errorf("%w: %w", upstream.ErrCredentials, s.err)
	}
	t, err := s.breaker.Execute(func() (*oauth2.Token, error) {
		ctx, cancel := context.WithTimeout(s.httpCtx, s.timeout)
		defer cancel()
		t, err := s.cfg.Token(ctx)
		if err != nil {
			return nil, tokenError(err)
		}
		return t, nil
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = &upstream.TransportError{Upstream: upstream.Genesys, Method: http.MethodPost, Path: tokenPath,
			Kind: "token endpoint circuit open"}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", upstream.ErrCredentials, err)
	}
	s.mu.Lock()
	s.cur = t
	s.mu.Unlock()
	return t, nil
}

// sendTransport sends the token request with upstream.Send through hc, so
// it gets hc's timeouts, redirect policy and call counting, and a transport
// failure becomes a scrubbed *upstream.TransportError.
type sendTransport struct{ hc *http.Client }

// RoundTrip implements http.RoundTripper.
func (t sendTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return upstream.Send(t.hc, upstream.Genesys, r)
}

// tokenError maps an oauth2 failure to an error whose text holds no secret:
// oauth2's own errors may quote the endpoint's body.
func tokenError(err error) error {
	var te *upstream.TransportError
	if errors.As(err, &te) {
		return te
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Request == nil {
		return &upstream.TransportError{Upstream: upstream.Genesys, Method: http.MethodPost, Path: tokenPath,
			Kind: "token request failed"}
	}
	if re.Response.StatusCode >= 200 && re.Response.StatusCode < 300 {
		return invalidBody(re.Response, "")
	}
	var eb ErrorBody
	if oauthErrorCodes[re.ErrorCode] {
		eb.Code = re.ErrorCode
	}
	return responseError(re.Response, eb, "")
}

type callerTokenKey struct{}

// WithCallerToken returns a context whose Genesys calls are authenticated
// with the caller's own access token ("Authorization: Bearer <token>")
// instead of the gateway's token source, which is then never asked. An empty
// token means no caller token.
func WithCallerToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, callerTokenKey{}, token)
}

// UsesCallerToken reports whether the Genesys calls made with ctx carry the
// caller's own token (WithCallerToken) rather than the gateway's.
func UsesCallerToken(ctx context.Context) bool {
	t, _ := ctx.Value(callerTokenKey{}).(string)
	return t != ""
}

// token returns the access token for a call made with ctx: the caller's,
// else the gateway's (waiting for it only as long as ctx allows, when the
// source supports it, as Tokens does), else ErrNoToken.
func (c *Client) token(ctx context.Context) (string, error) {
	if t, _ := ctx.Value(callerTokenKey{}).(string); t != "" {
		return t, nil
	}
	if c.tokens == nil {
		return "", ErrNoToken
	}
	var t *oauth2.Token
	var err error
	if ts, ok := c.tokens.(interface {
		TokenContext(context.Context) (*oauth2.Token, error)
	}); ok {
		t, err = ts.TokenContext(ctx)
	} else {
		t, err = c.tokens.Token()
	}
	if err != nil {
		return "", err
	}
	if t.AccessToken == "" {
		return "", ErrNoToken
	}
	return t.AccessToken, nil
}
