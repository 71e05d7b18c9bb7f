package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRefusedRequestsCarryTheRequestID(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups { total `, nil, "X-Request-Id", "req-refused-1")
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "GRAPHQL_PARSE_FAILED", r.Errors[0].Extensions["code"])
	assert.Equal(t, "req-refused-1", r.Errors[0].Extensions["requestId"])
	assert.Zero(t, e.genesysKit().Count(""))
}
