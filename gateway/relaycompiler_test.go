package gateway

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// relayDir holds the Relay operations the schema must accept and the pinned
// relay-compiler (npm ci there installs it; .ci/run does).
var relayDir = filepath.Join(repoRoot, "clients", "relay")

// relayCompiler returns node and relay-compiler's entry point (see nodeWith).
func relayCompiler(t *testing.T) (node, cli string) {
	t.Helper()
	node = nodeWith(t, relayDir, "relay-compiler/cli.js")
	cli, err := filepath.Abs(filepath.Join(relayDir, "node_modules", "relay-compiler", "cli.js"))
	require.NoError(t, err)
	return node, cli
}

// compileRelay compiles the operations of clients/relay/src, plus extra
// files, against the printed schema in a scratch copy (nothing is written
// to the tree) and returns the copy, the compiler's output, the artifacts
// and the compiler's error.
func compileRelay(t *testing.T, extra map[string]string) (dir, out string, artifacts []string, err error) {
	t.Helper()
	node, cli := relayCompiler(t)
	dir = t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.CopyFS(src, os.DirFS(filepath.Join(relayDir, "src"))))
	for _, name := range []string{"package.json", "store-check.mjs"} {
		raw, err := os.ReadFile(filepath.Join(relayDir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), raw, 0o644))
	}
	modules, err := filepath.Abs(filepath.Join(relayDir, "node_modules"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(modules, filepath.Join(dir, "node_modules")))
	for name, text := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	schema, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "schema.golden.graphql"))
	require.NoError(t, err)
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(relayDir, "relay.config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &cfg))
	cfg["schema"] = schema
	raw, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "relay.config.json"), raw, 0o644))

	raw, runErr := runNode(t, dir, nil, node, cli)
	entries, _ := os.ReadDir(filepath.Join(src, "__generated__"))
	for _, e := range entries {
		artifacts = append(artifacts, e.Name())
	}
	return dir, string(raw), artifacts, runErr
}

// runNode runs a command in dir, bounded by two minutes, and returns its
// combined output.
func runNode(t *testing.T, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	return cmd.CombinedOutput()
}

// TestRelayCompilerAcceptsTheSchema: Relay's compiler accepts the
// connections (@connection), the Node refetches (@refetchable on Group and
// Query), @deleteRecord on deletedId and node(id:) against the schema.
func TestRelayCompilerAcceptsTheSchema(t *testing.T) {
	_, out, artifacts, err := compileRelay(t, nil)
	require.NoError(t, err, out)
	for _, want := range []string{"GroupListPaginationQuery", "GroupCardRefetchQuery", "GroupSearchPaginationQuery",
		"UserGroupListPaginationQuery", "MutationsDeleteGroupMutation", "MutationsNodeQuery"} {
		assert.Contains(t, artifacts, want+".graphql.js")
	}

	// The compiler really checks against the schema: an unknown field fails.
	_, out, _, err = compileRelay(t, map[string]string{"Bad.js": "graphql`query BadQuery { groupsConnection(first: 1) { nope } }`;\n"})
	require.Error(t, err)
	assert.True(t, strings.Contains(out, "nope"), out)
}

// TestRelayStoreKeepsOneTypePerID feeds one relay-runtime store with the
// gateway's answers to queries and mutations of every type with an id (a
// group, its members and rules, a profile, a delete payload, user groups,
// nodes) and fails when a record changes __typename: what an id shared by
// two types does to a normalised store.
func TestRelayStoreKeepsOneTypePerID(t *testing.T) {
	dir, out, _, err := compileRelay(t, nil)
	require.NoError(t, err, out)
	node, _ := relayCompiler(t)
	e := setup(t, nil)
	ids, err := json.Marshal(map[string]string{"group": demodata.GroupID(13), "other": demodata.GroupID(14),
		"userGroup": demodata.UserGroupID(4)})
	require.NoError(t, err)
	raw, err := runNode(t, dir, []string{"GATEWAY_URL=" + e.srv.URL + "/query"}, node, "store-check.mjs", string(ids))
	require.NoError(t, err, string(raw))
	var result struct {
		Seen      map[string][]string `json:"seen"`
		Conflicts []any               `json:"conflicts"`
	}
	require.NoError(t, json.Unmarshal(raw, &result), string(raw))
	assert.Empty(t, result.Conflicts)
	assert.Subset(t, result.Seen["group again"], []string{"Group", "Member", "UserGroup", "DynamicDefinition", "GroupProfile",
		"DeletePayload", "Division"})
}
