package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
	// by tokens naming an unknown key id (kid): a rotated key is picked up at
	// once, while forged kids cannot make the gateway hammer the JWKS.
	DefaultUnknownKeyRefresh = time.Minute
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
	// UnknownKeyRefresh is the least time between fetches caused by an
	// unknown kid (DefaultUnknownKeyRefresh).
	UnknownKeyRefresh time.Duration
	// HTTPClient fetches the JWKS; nil means a client with a 5 s timeout.
	// Its answers are read up to 1 MiB.
	HTTPClient *http.Client
	// Log receives JWKS fetch failures. Nil discards.
	Log *slog.Logger
}

// JWT is the Authenticator of AUTH_MODE=jwt. Its keys come from the JWKS,
// fetched at start, every RefreshInterval, and when a token names a key id
// it does not know. Close stops the periodic fetch.
type JWT struct {
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
	claim  string
	stop   context.CancelFunc
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
	keys, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{o.JWKSURL}, keyfunc.Override{
		Client:            &client,
		HTTPTimeout:       jwksTimeout,
		RateLimitWaitMax:  jwksTimeout,
		RefreshInterval:   o.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(o.UnknownKeyRefresh), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				o.Log.WarnContext(ctx, "auth: fetching the JWKS failed", "error", err.Error())
			}
		},
	})
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
	return &JWT{keys: keys, parser: parser, claim: o.PermissionsClaim, stop: stop}, nil
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
	if _, err := a.parser.ParseWithClaims(raw, claims, a.keys.KeyfuncCtx(r.Context())); err != nil {
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
