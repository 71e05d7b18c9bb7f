package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// Selective decoding (only the user and group members an operation names
// are decoded) must keep every value the operation shows, however it names
// the field: through a named fragment, an interface fragment, a field under
// @include, or owners and managers that are Members too.
func TestSelectiveDecodingKeepsEverySelectedValue(t *testing.T) {
	e := setup(t, nil)
	vars := map[string]any{"id": demodata.GroupID(0), "yes": true}
	full := e.post(`query($id: ID!) { group(id: $id) { memberCount description owners { id email }
		members(pageSize: 3) { entities { id email title division { name } } } } }`, vars)
	require.Empty(t, full.Errors)
	selective := e.post(`fragment M on Member { email } query($id: ID!, $yes: Boolean!) { group(id: $id) {
		... on Team { memberCount } description @include(if: $yes) owners { id ...M }
		members(pageSize: 3) { entities { id ...M ... on Member { title division { name } } } } } }`, vars)
	require.Empty(t, selective.Errors)
	assert.Equal(t, full.Data, selective.Data)
	for _, path := range [][]any{{"group", "memberCount"}, {"group", "description"}, {"group", "owners", 0, "id"},
		{"group", "members", "entities", 0, "email"}, {"group", "members", "entities", 0, "title"},
		{"group", "members", "entities", 0, "division", "name"}} {
		assert.NotNil(t, dig(selective.Data, path...), "%v", path)
	}
}
