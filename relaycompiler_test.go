package main

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
)

// relayDir holds the Relay operations the schema must accept and the pinned
// relay-compiler (npm ci there installs it; .ci/run does).
var relayDir = filepath.Join("clients", "relay")

// relayCompiler returns node and relay-compiler's entry point. Without
// them the test skips, except under CI (CI set), where it must run.
func relayCompiler(t *testing.T) (node, cli string) {
	t.Helper()
	node, err := exec.LookPath("node")
	cli, _ = filepath.Abs(filepath.Join(relayDir, "node_modules", "relay-compiler", "cli.js"))
	if _, statErr := os.Stat(cli); err == nil && statErr == nil {
		return node, cli
	}
	if os.Getenv("CI") != "" {
		t.Fatal("node or relay-compiler is missing: .ci/run installs them (apt-get install -y nodejs npm; npm ci in clients/relay)")
	}
	t.Skip("node or relay-compiler is missing: install Node.js and run npm ci in clients/relay")
	return "", ""
}

// compileRelay compiles the operations of clients/relay/src, plus extra
// files, against the printed schema in a scratch copy (nothing is written
// to the tree) and returns the compiler's output and error.
func compileRelay(t *testing.T, extra map[string]string) (string, []string, error) {
	t.Helper()
	node, cli := relayCompiler(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.CopyFS(src, os.DirFS(filepath.Join(relayDir, "src"))))
	for name, text := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	schema, err := filepath.Abs(filepath.Join("testdata", "schema.golden.graphql"))
	require.NoError(t, err)
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(relayDir, "relay.config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &cfg))
	cfg["schema"] = schema
	raw, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "relay.config.json"), raw, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, cli)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, runErr := cmd.CombinedOutput()
	entries, _ := os.ReadDir(filepath.Join(src, "__generated__"))
	artifacts := make([]string, len(entries))
	for i, e := range entries {
		artifacts[i] = e.Name()
	}
	return string(out), artifacts, runErr
}

// TestRelayCompilerAcceptsTheSchema: Relay's compiler accepts the
// connections (@connection), the Node refetches (@refetchable on Group and
// Query), @deleteRecord on deletedId and node(id:) against the schema.
func TestRelayCompilerAcceptsTheSchema(t *testing.T) {
	out, artifacts, err := compileRelay(t, nil)
	require.NoError(t, err, out)
	for _, want := range []string{"GroupListPaginationQuery", "GroupCardRefetchQuery", "GroupSearchPaginationQuery",
		"UserGroupListPaginationQuery", "MutationsDeleteGroupMutation", "MutationsNodeQuery"} {
		assert.Contains(t, artifacts, want+".graphql.ts")
	}

	// The compiler really checks against the schema: an unknown field fails.
	out, _, err = compileRelay(t, map[string]string{"Bad.ts": "graphql`query BadQuery { groupsConnection(first: 1) { nope } }`;\n"})
	require.Error(t, err)
	assert.True(t, strings.Contains(out, "nope"), out)
}
