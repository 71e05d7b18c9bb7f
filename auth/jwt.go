package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Defaults of JWTOptions.
const (
	// DefaultPermissionsClaim is the claim read for permissions.
	DefaultPermissionsClaim = "permissions"
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultRefreshInterval is how often the JWKS is fetched again.
	DefaultRefreshInterval = time.Hour
	// DefaultUnknownKeyRefresh is the least time between two fetches caused
	// by tokens naming an unknown key id (kid): at most 12 a minute, so forged
	// kids cannot make the gateway hammer the JWKS, while a token signed with
	// a freshly rotated key waits at most that long (plus one fetch) and is
	// accepted, however many forged kids came before it.
	DefaultUnknownKeyRefresh = 5 * time.Second
	// jwksTimeout bounds one JWKS fetch (and a request's wait for one).
	jwksTimeout = 5 * time.Second
	// maxJWKSBody caps the JWKS document read.
	maxJWKSBody = 1 << 20
)

// Algorithms are the signing algorithms a token may use: asymmetric ones
// only, so that neither "none" nor an HMAC keyed with a public key (the
// classic algorithm confusion) is ever accepted.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTOptions configures NewJWT. JWKSURL, Issuer and Audience are required.
type JWTOptions struct {
	// JWKSURL is where the identity provider publishes its public keys
	// (AUTH_JWKS_URL).
	JWKSURL string
	// Issuer is the required iss claim (AUTH_ISSUER).
	Issuer string
	// Audience must be one of the token's aud values (AUTH_AUDIENCE).
	Audience string
	// PermissionsClaim names the claim holding the permissions, an array of
	// strings or a space-separated string (AUTH_PERMISSIONS_CLAIM; default
	// DefaultPermissionsClaim). The space-separated scope claim is always
	// read too.
	PermissionsClaim string
	// Leeway is the clock skew allowed (DefaultLeeway).
	Leeway time.Duration
	// RefreshInterval is how often the keys are fetched again
	// (DefaultRefreshInterval).
	RefreshInterval time.Duration
	// UnknownKeyRefresh is the least time between fetches caused by
	// unknown kids (DefaultUnknownKeyRefresh).
	UnknownKeyRefresh time.Duration
	// HTTPClient fetches the JWKS; nil means a client with a 5 s timeout.
	// Its answers are read up to 1 MiB.
	HTTPClient *http.Client
	// Log receives JWKS fetch failures. Nil discards.
	Log *slog.Logger
}

// JWT is the Authenticator of AUTH_MODE=jwt. Its keys come from the JWKS,
// fetched at start, every RefreshInterval, and when a token names a key id
// it does not know (see unknownKeys). Close stops the periodic fetch.
type JWT struct {
	store   jwkset.Storage // the JWKS as last fetched; reading it never fetches
	keys    keyfunc.Keyfunc
	unknown *unknownKeys
	parser  *jwt.Parser
	claim   string
	stop    context.CancelFunc
}

var _ Authenticator = (*JWT)(nil)

// NewJWT fetches the JWKS (a failure is logged, not returned: the gateway
// starts, and the keys are fetched again when a token needs them) and
// returns the authenticator.
func NewJWT(o JWTOptions) (*JWT, error) {
	if o.JWKSURL == "" || o.Issuer == "" || o.Audience == "" {
		return nil, errors.New("auth: the JWKS URL, the issuer and the audience are required")
	}
	o = o.withDefaults()
	ctx, stop := context.WithCancel(context.Background())
	client := *o.HTTPClient
	client.Transport = capBody{next: transportOf(o.HTTPClient)}
	store, err := jwkset.NewStorageFromHTTP(o.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    &client,
		Ctx:                       ctx,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           o.RefreshInterval,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			o.Log.WarnContext(ctx, "auth: fetching the JWKS failed", "error", err.Error())
		},
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: AUTH_JWKS_URL: %w", err)
	}
	// A read of an unknown kid through refreshing fetches the JWKS, without
	// a limit of its own: unknownKeys spaces and shares those reads.
	refreshing, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{o.JWKSURL: store},
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: AUTH_JWKS_URL: %w", err)
	}
	keys, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: AUTH_JWKS_URL: %w", err)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audience),
		jwt.WithLeeway(o.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	unknown := &unknownKeys{ctx: ctx, gap: o.UnknownKeyRefresh, fetch: func(ctx context.Context, kid string) {
		_, _ = refreshing.KeyRead(ctx, kid)
	}}
	return &JWT{store: store, keys: keys, unknown: unknown, parser: parser, claim: o.PermissionsClaim, stop: stop}, nil
}

func (o JWTOptions) withDefaults() JWTOptions {
	if o.PermissionsClaim == "" {
		o.PermissionsClaim = DefaultPermissionsClaim
	}
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.UnknownKeyRefresh <= 0 {
		o.UnknownKeyRefresh = DefaultUnknownKeyRefresh
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: jwksTimeout}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Close stops the periodic JWKS fetch.
func (a *JWT) Close() { a.stop() }

// Authenticate verifies the request's bearer JWT and returns r's context
// with its caller: the sub claim, holding the permissions of the configured
// claim and of scope.
func (a *JWT) Authenticate(r *http.Request) (context.Context, error) {
	raw := bearer(r)
	if raw == "" {
		return nil, errMissing
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, a.keyfunc(r.Context())); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, unauthenticated("the bearer token has expired", err)
		}
		return nil, unauthenticated(msgInvalid, err)
	}
	sub, err := claims.GetSubject()
	if err != nil || sub == "" {
		return nil, unauthenticated(msgInvalid, errors.New("the token has no sub claim"))
	}
	perms := append(stringsOf(claims[a.claim]), stringsOf(claims["scope"])...)
	return WithCaller(r.Context(), NewCaller(sub, perms)), nil
}

// keyfunc returns the token's verification key. A key id the gateway does
// not hold first waits for the next shared JWKS fetch (unknownKeys.await).
func (a *JWT) keyfunc(ctx context.Context) jwt.Keyfunc {
	verify := a.keys.KeyfuncCtx(ctx)
	return func(token *jwt.Token) (any, error) {
		if kid, _ := token.Header["kid"].(string); kid != "" {
			if _, err := a.store.KeyRead(ctx, kid); errors.Is(err, jwkset.ErrKeyNotFound) {
				a.unknown.await(ctx, kid)
			}
		}
		return verify(token)
	}
}

// unknownKeys fetches the JWKS again for tokens naming a key id the gateway
// does not hold (a rotated key, or a forged kid). Fetches are shared and
// spaced: every such token waits for the next fetch that starts after it
// arrived, and fetches start at least gap apart. So a flood of forged kids
// costs at most one fetch per gap, and never starves a token signed with a
// freshly rotated key, which waits at most gap plus one fetch.
type unknownKeys struct {
	ctx   context.Context // ends with the authenticator
	gap   time.Duration
	fetch func(ctx context.Context, kid string)

	mu      sync.Mutex
	last    time.Time     // when the last fetch started
	pending chan struct{} // closed when the next fetch ends; nil if none is due
}

// await waits, at most as long as ctx allows and gap plus one fetch, for a
// fetch that starts after the call.
func (u *unknownKeys) await(ctx context.Context, kid string) {
	ctx, cancel := context.WithTimeout(ctx, u.gap+jwksTimeout)
	defer cancel()
	u.mu.Lock()
	if u.pending == nil {
		u.pending = make(chan struct{})
		go u.run(u.pending, time.Until(u.last.Add(u.gap)), kid)
	}
	done := u.pending
	u.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// run starts the due fetch after wait, then tells its waiters.
func (u *unknownKeys) run(done chan struct{}, wait time.Duration, kid string) {
	defer close(done)
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-u.ctx.Done():
			return
		}
	}
	u.mu.Lock()
	u.pending, u.last = nil, time.Now() // tokens arriving from now on wait for the next fetch
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(u.ctx, jwksTimeout)
	defer cancel()
	u.fetch(ctx, kid)
}

// stringsOf reads a claim that is an array of strings or a space-separated
// string; anything else gives nothing.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// capBody reads at most maxJWKSBody bytes of every answer.
type capBody struct{ next http.RoundTripper }

// RoundTrip sends req and caps the answer's body.
func (c capBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxJWKSBody), resp.Body}
	}
	return resp, err
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}
