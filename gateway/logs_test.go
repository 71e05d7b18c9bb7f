package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/telemetry/requestid"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// End-to-end tests of the structured logs and request ids (README
// "Operating it").

// logLines parses every line logged so far as JSON.
func (e *testEnv) logLines() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(e.log.String()), "\n") {
		var m map[string]any
		require.NoError(e.t, json.Unmarshal([]byte(line), &m), "a log line that is not JSON: %s", line)
		out = append(out, m)
	}
	return out
}

// linesOf returns the log lines with message msg and request id id.
func linesOf(lines []map[string]any, msg, id string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg && l["request_id"] == id {
			out = append(out, l)
		}
	}
	return out
}

func TestOneLogLinePerRequestWithTheCallersRequestID(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query TwoGroups($a: ID!) { group(id: $a) { name } userGroups(pageSize: 1) { entities { name } } }`,
		map[string]any{"a": demodata.GroupID(1)}, requestid.Header, "caller-req.42")
	require.Empty(t, r.Errors)
	assert.Equal(t, "caller-req.42", r.Header.Get(requestid.Header), "a sane incoming id is kept")

	lines := linesOf(e.logLines(), "request", "caller-req.42")
	require.Len(t, lines, 1)
	l := lines[0]
	assert.Equal(t, "INFO", l["level"])
	assert.Equal(t, "TwoGroups", l["operation"])
	assert.Equal(t, "query", l["operation_type"])
	assert.Equal(t, "success", l["outcome"])
	assert.Equal(t, "POST", l["method"])
	assert.InDelta(t, http.StatusOK, l["status"], 0)
	assert.Contains(t, l, "duration_ms")
	assert.Equal(t, map[string]any{"genesys": float64(1), "usergroups": float64(1)}, l["upstream_calls"],
		"the group lookup and the search (the token request belongs to no request)")
	assert.Empty(t, l["error_codes"])
}

func TestErrorsCarryTheRequestIDAndUpstreamErrorsAreLoggedWithTheirCorrelationID(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	e.genesysKit().Inject("GET /api/v2/groups", emukit.Fault{Status: http.StatusForbidden, Times: 1})
	r := e.post(`query Denied($id: ID!) { group(id: $id) { name } }`, map[string]any{"id": demodata.GroupID(2)},
		requestid.Header, "bad id with spaces")
	require.Equal(t, []string{"FORBIDDEN"}, r.codes())

	id := r.Header.Get(requestid.Header)
	require.NotEmpty(t, id)
	assert.NotEqual(t, "bad id with spaces", id, "an insane incoming id is replaced")
	assert.Equal(t, id, r.Errors[0].Extensions["requestId"])

	lines := e.logLines()
	warn := linesOf(lines, "upstream error", id)
	require.Len(t, warn, 1)
	assert.Equal(t, "WARN", warn[0]["level"])
	assert.Equal(t, "FORBIDDEN", warn[0]["code"])
	assert.Equal(t, "genesys", warn[0]["upstream"])
	assert.InDelta(t, http.StatusForbidden, warn[0]["status"], 0)
	assert.Equal(t, r.Errors[0].Extensions["correlationId"], warn[0]["correlationId"])
	assert.NotEmpty(t, warn[0]["correlationId"])
	req := linesOf(lines, "request", id)
	require.Len(t, req, 1)
	assert.Equal(t, []any{"FORBIDDEN"}, req[0]["error_codes"])
	assert.Equal(t, "partial", req[0]["outcome"])
	e.assertNoSecrets(r, e.canaries())
}

func TestRefusedRequestsAreLoggedWithTheirCode(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups { `, nil)
	require.Equal(t, []string{"GRAPHQL_PARSE_FAILED"}, r.codes())
	id := r.Header.Get(requestid.Header)
	require.NotEmpty(t, id)
	req := linesOf(e.logLines(), "request", id)
	require.Len(t, req, 1)
	assert.Equal(t, "refused", req[0]["outcome"])
	assert.Equal(t, "unknown", req[0]["operation"])
	assert.Equal(t, []any{"GRAPHQL_PARSE_FAILED"}, req[0]["error_codes"])
}
