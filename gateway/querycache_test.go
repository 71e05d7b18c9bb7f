package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/emukit"
)

// TestCommentVariedDocumentReportsItsOwnLocations sends one query twice
// through the gateway, the second time after two comment lines: both hit
// the cache once the first was validated, and each error names the line of
// its own text.
func TestCommentVariedDocumentReportsItsOwnLocations(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusBadRequest})
	query := `{ groups(pageSize: 1) { total } }`
	line := func(r gqlResponse) any {
		var body struct {
			Errors []struct {
				Locations []struct{ Line int } `json:"locations"`
			} `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(r.Raw, &body))
		require.NotEmpty(t, body.Errors, string(r.Raw))
		require.NotEmpty(t, body.Errors[0].Locations, string(r.Raw))
		return body.Errors[0].Locations[0].Line
	}
	assert.Equal(t, 1, line(e.post(query, nil)))
	assert.Equal(t, 3, line(e.post("# one\n# two\n"+query, nil)))
	assert.Equal(t, 1, line(e.post(query, nil)))
}
