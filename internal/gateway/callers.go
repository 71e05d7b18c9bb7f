package gateway

import (
	"fmt"
	"net/http"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/upstream"
)

// newAuthenticator returns the authenticator of cfg.AuthMode (docs/auth.md). AUTH_MODE=none in production is
// allowed only when set explicitly (LoadConfig checks that) and is warned
// about here.
func (g *Gateway) newAuthenticator() (auth.Authenticator, error) {
	switch g.cfg.AuthMode {
	case auth.ModeJWT:
		o := g.cfg.AuthJWT
		o.HTTPClient = upstream.NewHTTPClient(upstream.ClientOptions{})
		o.Log = g.log
		a, err := auth.NewJWT(o)
		if err != nil {
			return nil, fmt.Errorf("AUTH_MODE=jwt: %w", err)
		}
		return a, nil
	case auth.ModeGenesys:
		return auth.NewGenesys(auth.GenesysOptions{Client: g.genesys}), nil
	}
	if g.cfg.Env == envProduction {
		g.log.Warn("AUTH_MODE=none in production: every caller may call every field, with the gateway's own credentials; " +
			"set AUTH_MODE=jwt or AUTH_MODE=genesys unless a proxy in front authenticates and authorises the callers")
	}
	return auth.None{TrustedProxyHops: g.cfg.TrustedProxyHops}, nil
}

// callerScope is the idempotency scope of a request: its caller, so that
// two callers' Idempotency-Keys never meet.
func callerScope(r *http.Request) string {
	if c := auth.CallerFrom(r.Context()); c != nil {
		return c.Subject
	}
	return ""
}

// closeAuthenticator stops what the authenticator runs in the background
// (the JWKS refresh).
func (g *Gateway) closeAuthenticator() {
	if c, ok := g.authn.(interface{ Close() }); ok {
		c.Close()
	}
}
