package genesys

import (
	"context"
	"net/http"
	"net/url"

	"github.com/groupdir/gateway/upstream"
)

// GetFieldConfig returns the profile field configuration of an entity type
// (EntityPerson, EntityGroup, EntityOrg or EntityExternalContact); its field
// keys are what GetGroupProfile accepts. Deprecated upstream.
//
// Upstream: GET /api/v2/fieldconfig
func (c *Client) GetFieldConfig(ctx context.Context, typ EntityType) (*FieldConfig, error) {
	switch typ {
	case EntityPerson, EntityGroup, EntityOrg, EntityExternalContact:
	default:
		return nil, &upstream.InputError{Field: "type", Reason: "must be person, group, org or externalContact"}
	}
	return fetch[FieldConfig](ctx, c, http.MethodGet, "/api/v2/fieldconfig", url.Values{"type": {string(typ)}}, nil)
}
