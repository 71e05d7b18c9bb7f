package gateway

// The command at the repository root (main and run), through its binary:
// start-up in demo mode and graceful shutdown on SIGTERM, configuration
// errors, the server's limits, and the shape of the import graph. The
// binary is the only way to reach run from here, and it checks what main
// adds (signals, exit status) too.

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startBinary starts the built gateway in demo mode on a free loopback
// address, its output into out, and waits until it answers /healthz. stop
// sends SIGTERM and returns how the process ended; out may be read once
// stop has returned.
func startBinary(t *testing.T, out *bytes.Buffer) (addr string, stop func() error) {
	t.Helper()
	addr = freeLoopbackAddr(t)
	child := exec.Command(buildBinary(t))
	child.Env = []string{"LISTEN_ADDR=" + addr}
	child.Stdout, child.Stderr = out, out
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = child.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(25 * time.Second):
			_ = child.Process.Kill()
			return errors.New("the gateway did not stop after SIGTERM")
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
	}, 20*time.Second, 20*time.Millisecond, "the gateway process did not start")
	return addr, stop
}

func TestRunStartsInDemoModeAndStops(t *testing.T) {
	var out bytes.Buffer
	_, stop := startBinary(t, &out)
	require.NoError(t, stop(), "exit status 0 after SIGTERM")
	assert.Contains(t, out.String(), `"listening"`)
	first, _, _ := strings.Cut(out.String(), "\n")
	assert.Contains(t, first, "demo mode", "the first log line says so")
}

func TestRunRefusesBadConfig(t *testing.T) {
	child := exec.Command(buildBinary(t))
	child.Env = []string{"GENESYS_REGION=mypurecloud.com"}
	out, err := child.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "GENESYS_CLIENT_ID")
	assert.Contains(t, string(out), "USERGROUP_API_URL")
}

// TestServerHeaderLimit runs the real server (run) and checks that request
// headers over maxHeaderBytes are refused with 431.
func TestServerHeaderLimit(t *testing.T) {
	var out bytes.Buffer
	addr, _ := startBinary(t, &out)
	for size, status := range map[int]int{32 << 10: http.StatusOK, 2 * maxHeaderBytes: http.StatusRequestHeaderFieldsTooLarge} {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		require.NoError(t, err)
		req.Header.Set("X-Padding", strings.Repeat("p", size))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, status, resp.StatusCode, "header of %d bytes", size)
	}
}

// TestImportsPointDown checks the shape of the import graph: only the
// command imports the wiring (this package), so nothing below it (graph,
// auth, telemetry, upstream …) points back up (a command cannot be
// imported at all).
func TestImportsPointDown(t *testing.T) {
	const module, wiring = "github.com/groupdir/gateway", "github.com/groupdir/gateway/internal/gateway"
	list := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	list.Dir = repoRoot
	out, err := list.CombinedOutput()
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
