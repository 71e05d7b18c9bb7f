package genesys

import (
	"context"
	"net/http"
)

// GetDynamicSettings returns the group's dynamic membership definition (a
// preview API). A group without one is expected to answer 404.
//
// Upstream: GET /api/v2/groups/{groupId}/dynamicsettings
func (c *Client) GetDynamicSettings(ctx context.Context, id string) (*DynamicGroupDefinition, error) {
	path, err := groupPath(id, "/dynamicsettings")
	if err != nil {
		return nil, err
	}
	return fetch[DynamicGroupDefinition](ctx, c, http.MethodGet, path, nil, nil)
}

// PutDynamicSettings creates or replaces the group's dynamic membership
// definition (a preview API; the success answer has no content).
//
// Upstream: PUT /api/v2/groups/{groupId}/dynamicsettings
func (c *Client) PutDynamicSettings(ctx context.Context, id string, q DynamicGroupQuery) error {
	path, err := groupPath(id, "/dynamicsettings")
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodPut, path, nil, q, nil)
}

// DeleteDynamicSettings removes the group's dynamic membership definition (a
// preview API; the success answer has no content).
//
// Upstream: DELETE /api/v2/groups/{groupId}/dynamicsettings
func (c *Client) DeleteDynamicSettings(ctx context.Context, id string) error {
	path, err := groupPath(id, "/dynamicsettings")
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, path, nil, nil, nil)
}

// PreviewDynamicGroup returns how many users q would select (a preview API,
// deprecated upstream).
//
// Upstream: POST /api/v2/groups/dynamicsettings/preview
func (c *Client) PreviewDynamicGroup(ctx context.Context, q DynamicGroupQuery) (*DynamicGroupQueryPreview, error) {
	return fetch[DynamicGroupQueryPreview](ctx, c, http.MethodPost, groupsPath+"/dynamicsettings/preview", nil, q)
}
