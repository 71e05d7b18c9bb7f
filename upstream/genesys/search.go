package genesys

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/groupdir/gateway/upstream"
)

// maxQ64 bounds a q64 cursor so that its URL stays within what servers
// accept.
const maxQ64 = 8 << 10

// searchPath is the group search endpoint.
const searchPath = groupsPath + "/search"

// SearchGroups runs a group search. The search index is eventually
// consistent: a group just created may not be found at once. A criterion
// without a Type, nested ones included, is an InputError: the API requires
// it.
//
// Upstream: POST /api/v2/groups/search
func (c *Client) SearchGroups(ctx context.Context, r GroupSearchRequest) (*GroupsSearchResponse, error) {
	if err := checkCriteria(r.Query); err != nil {
		return nil, err
	}
	return fetch[GroupsSearchResponse](ctx, c, http.MethodPost, searchPath, nil, r)
}

// checkCriteria refuses a criterion, at any depth, whose Type is empty.
func checkCriteria(cs []GroupSearchCriteria) error {
	for _, sc := range cs {
		if sc.Type == "" {
			return &upstream.InputError{Field: "type", Reason: "every search criterion needs a type"}
		}
		if err := checkCriteria(sc.Group); err != nil {
			return err
		}
	}
	return nil
}

// SearchGroupsByCursor replays a search page from the q64 cursor of an
// earlier answer (see CursorQ64), expanding the named parts of each group.
// q64 must be the decoded base64 value, at most 8 KiB.
//
// Upstream: GET /api/v2/groups/search
func (c *Client) SearchGroupsByCursor(ctx context.Context, q64 string, expand []string) (*GroupsSearchResponse, error) {
	if q64 == "" || len(q64) > maxQ64 || strings.IndexFunc(q64, notBase64) >= 0 {
		return nil, &upstream.InputError{Field: "q64", Reason: "must be a base64 search cursor of at most 8 KiB"}
	}
	if slices.Contains(expand, "") {
		return nil, &upstream.InputError{Field: "expand", Reason: "must not hold an empty value"}
	}
	q := url.Values{"q64": {q64}}
	if len(expand) > 0 {
		q["expand"] = expand
	}
	return fetch[GroupsSearchResponse](ctx, c, http.MethodGet, searchPath, q, nil)
}

// CursorQ64 returns the q64 cursor of a GroupsSearchResponse page URI
// (PreviousPage, CurrentPage, NextPage), e.g. "/api/v2/groups/search?q64=H4sI...%3D"
// gives "H4sI...=", or "" when the URI carries none.
func CursorQ64(pageURI string) string {
	u, err := url.Parse(pageURI)
	if err != nil {
		return ""
	}
	return u.Query().Get("q64")
}

// notBase64 reports a rune outside the standard and URL-safe base64 alphabets.
func notBase64(r rune) bool {
	return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || strings.ContainsRune("+/-_=", r))
}
