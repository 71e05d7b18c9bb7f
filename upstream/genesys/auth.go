package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

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

// NewTokenSource returns the gateway's token source: the OAuth client
// credentials grant against <loginURL>/oauth/token (Basic authentication,
// form body grant_type=client_credentials), sent through hc (so its timeouts
// apply and redirects are not followed; nil means upstream.NewHTTPClient's
// defaults). The token is reused until TokenEarlyExpiry before it expires,
// and however many callers wait, one token request at most is in flight.
//
// A failure is an *upstream.Error (the endpoint answered with an error:
// Path /oauth/token, Status, Code = the RFC 6749 "error" value), an
// *upstream.TransportError (no usable answer) or an *upstream.InputError (a
// malformed loginURL); none of them holds the client secret, a token or the
// endpoint's body.
func NewTokenSource(loginURL, clientID, clientSecret string, hc *http.Client) oauth2.TokenSource {
	if hc == nil {
		hc = upstream.NewHTTPClient(upstream.ClientOptions{})
	}
	login, err := parseBaseURL("loginURL", loginURL)
	login.Path += tokenPath
	cfg := &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		TokenURL:     login.String(),
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	tc := &http.Client{
		Transport:     sendTransport{hc: hc},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tc)
	return oauth2.ReuseTokenSourceWithExpiry(nil, &credentialsSource{ctx: ctx, cfg: cfg, err: err}, TokenEarlyExpiry)
}

// credentialsSource requests a new token every time it is asked; the
// ReuseTokenSource around it caches and serialises.
type credentialsSource struct {
	ctx context.Context
	cfg *clientcredentials.Config
	err error // a malformed login URL
}

// Token implements oauth2.TokenSource.
func (s *credentialsSource) Token() (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	t, err := s.cfg.Token(s.ctx)
	if err != nil {
		return nil, tokenError(err)
	}
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
// else the gateway's, else ErrNoToken.
func (c *Client) token(ctx context.Context) (string, error) {
	if t, _ := ctx.Value(callerTokenKey{}).(string); t != "" {
		return t, nil
	}
	if c.tokens == nil {
		return "", ErrNoToken
	}
	t, err := c.tokens.Token()
	if err != nil {
		return "", err
	}
	if t.AccessToken == "" {
		return "", ErrNoToken
	}
	return t.AccessToken, nil
}
