package gateway

import (
	"context"
	"encoding/json"
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
var jsClientsDir = filepath.Join(repoRoot, "clients", "js")

// TestJSClients runs real frontend clients against a demo gateway over
// HTTP on 127.0.0.1: Apollo Client 4 (persisted queries over POST and GET,
// its normalised cache, @defer) and urql (@defer over multipart/mixed).
// Each script asserts what it sees and prints a summary.
func TestJSClients(t *testing.T) {
	node := nodeWith(t, jsClientsDir, "@apollo/client/package.json")
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
