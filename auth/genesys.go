package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Defaults of GenesysOptions.
const (
	// DefaultGenesysCacheTTL is how long a token's user and permissions are
	// trusted without asking Genesys again: a revoked permission or token
	// takes effect within it.
	DefaultGenesysCacheTTL = time.Minute
	// DefaultGenesysCacheSize bounds the tokens remembered.
	DefaultGenesysCacheSize = 10_000
	// userMeTimeout bounds the GET /users/me of one token.
	userMeTimeout = 15 * time.Second
)

// GenesysOptions configures NewGenesys.
type GenesysOptions struct {
	// Client asks GET /api/v2/users/me?expand=authorization.
	Client *genesys.Client
	// CacheTTL is how long an answer is kept (DefaultGenesysCacheTTL).
	CacheTTL time.Duration
	// CacheSize bounds the tokens kept (DefaultGenesysCacheSize); the least
	// recently used are forgotten first.
	CacheSize int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Genesys is the Authenticator of AUTH_MODE=genesys: the caller sends its
// own Genesys access token, Genesys says whose it is and what it may do,
// and the request's Genesys calls are made with that token.
type Genesys struct {
	client *genesys.Client
	ttl    time.Duration
	now    func() time.Time
	// cache maps the SHA-256 of a token (never the token) to its caller.
	cache  *lru.Cache[[sha256.Size]byte, cachedCaller]
	flight singleflight.Group
}

// cachedCaller is a token's caller, trusted until expires.
type cachedCaller struct {
	caller  *Caller
	expires time.Time
}

var _ Authenticator = (*Genesys)(nil)

// NewGenesys returns the authenticator.
func NewGenesys(o GenesysOptions) *Genesys {
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultGenesysCacheTTL
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultGenesysCacheSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cache, _ := lru.New[[sha256.Size]byte, cachedCaller](o.CacheSize) // only fails for a size <= 0
	return &Genesys{client: o.Client, ttl: o.CacheTTL, now: o.Now, cache: cache}
}

// Authenticate identifies the request's bearer token with Genesys (or the
// cache) and returns r's context with the caller (its Genesys user id and
// permissions) and the token for the request's Genesys calls.
func (a *Genesys) Authenticate(r *http.Request) (context.Context, error) {
	token := bearer(r)
	if token == "" {
		return nil, errMissing
	}
	caller, err := a.caller(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return genesys.WithCallerToken(WithCaller(r.Context(), caller), token), nil
}

// caller returns the token's caller from the cache, or asks Genesys once
// however many requests with the token arrive at the same moment.
func (a *Genesys) caller(ctx context.Context, token string) (*Caller, error) {
	key := sha256.Sum256([]byte(token))
	if c, ok := a.cache.Get(key); ok && a.now().Before(c.expires) {
		return c.caller, nil
	}
	v, err, _ := a.flight.Do(hex.EncodeToString(key[:]), func() (any, error) {
		// The lookup serves every request waiting on it: one going away
		// must not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), userMeTimeout)
		defer cancel()
		me, err := a.client.GetUserMe(genesys.WithCallerToken(ctx, token))
		if err != nil {
			return nil, userMeError(err)
		}
		if me.ID == "" {
			return nil, unauthenticated(msgNotUser, errors.New("users/me answered without an id"))
		}
		c := NewCaller(me.ID, me.Authorization.Permissions)
		a.cache.Add(key, cachedCaller{caller: c, expires: a.now().Add(a.ttl)})
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Caller), nil
}

// msgNotUser answers a token Genesys does not tie to a user.
const msgNotUser = "the bearer token is not a valid Genesys user token"

// userMeError maps a failed GET /users/me: a refusal of the token is 401;
// Genesys being rate limited or unreachable is not the caller's fault, so
// it is 429 or 503 and the caller may retry.
func userMeError(err error) *Error {
	var ue *upstream.Error
	switch {
	case errors.Is(err, upstream.ErrRateLimited) && errors.As(err, &ue):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: ue.RetryAfter,
			Message: "Genesys is rate limiting this token; retry later", Err: err}
	case errors.Is(err, upstream.ErrUnauthorized):
		return unauthenticated(msgInvalid, err)
	case errors.As(err, &ue) && ue.Status < http.StatusInternalServerError:
		return unauthenticated(msgNotUser, err)
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUpstreamUnavailable,
		Message: "Genesys could not be asked who the caller is; retry later", Err: err}
}
