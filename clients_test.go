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

	"github.com/groupdir/gateway/upstream/demodata"
)

// jsClientsDir holds the JavaScript client scripts and their lockfile
// (`npm ci` there installs them; .ci/run does it).
const jsClientsDir = "clients/js"

// requireNode returns the node binary, or skips the test when Node.js or the
// installed clients are missing; under CI (CI=true) it fails instead.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		msg := what + ": install Node.js 20+ and run `npm ci` in " + jsClientsDir + " (make clients)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(jsClientsDir, "node_modules", "@apollo", "client", "package.json")); err != nil {
		missing("the JavaScript clients are not installed")
	}
	return node
}

// TestJSClients runs real frontend clients against a demo gateway over
// HTTP on 127.0.0.1: Apollo Client 4 (persisted queries over POST and GET,
// its normalised cache, @defer) and urql (@defer over multipart/mixed).
// Each script asserts what it sees and prints a summary.
func TestJSClients(t *testing.T) {
	node := requireNode(t)
	for script, checks := range map[string][]string{
		"apollo.mjs": {"apq-post", "apq-get", "normalised-cache", "defer"},
		"urql.mjs":   {"query", "defer"},
	} {
		t.Run(strings.TrimSuffix(script, ".mjs"), func(t *testing.T) {
			e := setup(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, script, e.srv.URL+"/query", demodata.GroupID(1))
			cmd.Dir = jsClientsDir
			out, err := cmd.Output()
			var stderr string
			if exit, ok := err.(*exec.ExitError); ok {
				stderr = string(exit.Stderr)
			}
			require.NoError(t, err, "%s\n%s", out, stderr)
			var summary struct {
				Checks []string `json:"checks"`
			}
			require.NoError(t, json.Unmarshal(out, &summary), string(out))
			assert.Equal(t, checks, summary.Checks)
			t.Logf("%s", out)
		})
	}
}
