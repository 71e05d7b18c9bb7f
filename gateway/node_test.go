package gateway

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodeWith returns the node binary once Node.js and the npm packages of dir
// are installed (probe: a file of one of them, under dir/node_modules).
// Without them the test skips; under CI (CI set) it fails instead, since
// .ci/run installs both (Debian's nodejs and npm, then make clients).
func nodeWith(t *testing.T, dir, probe string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(probe)))
	}
	if err != nil {
		msg := "needs Node.js 20+ and `npm ci` in " + dir + " (make clients; .ci/run does both): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}
