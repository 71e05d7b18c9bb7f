package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/internal/gateway"
)

// The tests of run itself: start-up, configuration errors, graceful
// shutdown and the server's limits. Everything behind the handler is
// tested in package gateway.

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// startRun runs run in demo mode on a free loopback address, logging to
// out, and waits until it answers /healthz. stop cancels it and returns
// run's error; out may be read once stop has returned.
func startRun(t *testing.T, out io.Writer) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr = ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, getenv(map[string]string{"LISTEN_ADDR": addr}), out, out) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(25 * time.Second):
			t.Error("run did not return after cancellation")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond)
	return addr, stop
}

func TestRunStartsInDemoModeAndStops(t *testing.T) {
	var out bytes.Buffer
	_, stop := startRun(t, &out)
	require.NoError(t, stop())
	assert.Contains(t, out.String(), `"listening"`)
	first, _, _ := strings.Cut(out.String(), "\n")
	assert.Contains(t, first, "demo mode", "the first log line says so")
}

func TestRunRefusesBadConfig(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), nil, getenv(map[string]string{"GENESYS_REGION": "mypurecloud.com"}), &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GENESYS_CLIENT_ID")
	assert.Contains(t, err.Error(), "USERGROUP_API_URL")
}

// TestServerHeaderLimit runs the real server (run) and checks that request
// headers over gateway.MaxHeaderBytes are refused with 431.
func TestServerHeaderLimit(t *testing.T) {
	addr, _ := startRun(t, io.Discard)
	for size, status := range map[int]int{32 << 10: http.StatusOK, 2 * gateway.MaxHeaderBytes: http.StatusRequestHeaderFieldsTooLarge} {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		require.NoError(t, err)
		req.Header.Set("X-Padding", strings.Repeat("p", size))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, status, resp.StatusCode, "header of %d bytes", size)
	}
}

// TestImportsPointDown checks the shape of the import graph: only this
// command imports the wiring (package gateway), so nothing below it (graph,
// auth, telemetry, upstream …) points back up (a command cannot be
// imported at all).
func TestImportsPointDown(t *testing.T) {
	const module, wiring = "github.com/groupdir/gateway", "github.com/groupdir/gateway/internal/gateway"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Greater(t, len(lines), 10, "go list named the module's packages")
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			if imp == wiring {
				assert.Equal(t, module, pkg, "%s imports the wiring", pkg)
			}
		}
	}
}
