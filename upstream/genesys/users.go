package genesys

import (
	"context"
	"net/http"
	"net/url"
)

// GetUserMe returns the user the call's token belongs to, with its roles
// and permissions. Called with WithCallerToken, it tells the gateway what the
// caller may do.
//
// Upstream: GET /api/v2/users/me
func (c *Client) GetUserMe(ctx context.Context) (*UserMe, error) {
	return fetch[UserMe](ctx, c, http.MethodGet, "/api/v2/users/me", url.Values{"expand": {"authorization"}}, nil)
}
