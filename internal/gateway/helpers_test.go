package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// repoRoot is the repository root, relative to this package's directory
// (where go test runs): the clients, deploy files, bench queries and golden
// schemas the tests read live there.
const repoRoot = "../.."

// testEnv is a gateway in demo mode behind a real HTTP server, with its
// emulators reachable for fault injection and call accounting.
type testEnv struct {
	t   testing.TB
	gw  *Gateway
	srv *httptest.Server
	log *syncBuffer
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// setup starts a demo-mode gateway; env overrides configuration variables
// (upstream variables are ignored: the test always runs the emulators).
func setup(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	return setupSized(t, env, demodata.Demo)
}

// setupSized is setup with a data set of the given size (benchmarks use
// demodata.Bench) and New's options (tracing, readiness TTL).
func setupSized(t testing.TB, env map[string]string, size demodata.Size, opts ...Option) *testEnv {
	t.Helper()
	cfg, err := LoadConfig(func(k string) string {
		if v, ok := env[k]; ok || k != "UPSTREAM_READ_CACHE_TTL" {
			return v
		}
		return "0" // tests that do not set it count every upstream call: no read cache
	})
	require.NoError(t, err)
	logs := &syncBuffer{}
	gw, err := New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		append([]Option{withDemo(size)}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		srv.Close()
		gw.Close()
	})
	return &testEnv{t: t, gw: gw, srv: srv, log: logs}
}

func (e *testEnv) genesysKit() *emukit.Kit    { return e.gw.demo.genesys.Kit() }
func (e *testEnv) usergroupsKit() *emukit.Kit { return e.gw.demo.usergroups.Kit() }

// resetCalls forgets the emulators' call accounting.
func (e *testEnv) resetCalls() {
	e.genesysKit().Reset()
	e.usergroupsKit().Reset()
}

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gqlResponse is a decoded GraphQL response.
type gqlResponse struct {
	Status     int
	Header     http.Header     `json:"-"`
	Data       map[string]any  `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        json.RawMessage `json:"-"`
}

// codes returns the extensions.code of every error.
func (r gqlResponse) codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i], _ = e.Extensions["code"].(string)
	}
	return out
}

// post sends a GraphQL request as JSON and decodes the answer.
func (e *testEnv) post(query string, vars map[string]any, headers ...string) gqlResponse {
	e.t.Helper()
	out, err := e.send(query, vars, headers...)
	require.NoError(e.t, err, string(out.Raw))
	return out
}

// send is post for any goroutine: it returns what fails instead of failing
// the test.
func (e *testEnv) send(query string, vars map[string]any, headers ...string) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResponse{}, err
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return roundTrip(req)
}

func (e *testEnv) do(req *http.Request) gqlResponse {
	e.t.Helper()
	out, err := roundTrip(req)
	require.NoError(e.t, err, string(out.Raw))
	return out
}

// roundTrip sends req and decodes the answer.
func roundTrip(req *http.Request) (gqlResponse, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err == nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") {
		err = json.Unmarshal(raw, &out)
	}
	return out, err
}

// dig walks a decoded JSON value by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func urlEncode(s string) string { return url.QueryEscape(s) }

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

// peerEnv is the environment of a second gateway instance on a's
// emulators (as a replica on the same upstreams), with env on top. It
// leaves demo mode, so the limits demo mode turns off are turned off here
// too unless env sets them.
func peerEnv(a *testEnv, env map[string]string) map[string]string {
	c := a.gw.cfg
	out := map[string]string{
		"GENESYS_API_URL": c.GenesysAPIURL, "GENESYS_LOGIN_URL": c.GenesysLoginURL,
		"GENESYS_CLIENT_ID": c.GenesysClientID, "GENESYS_CLIENT_SECRET": c.GenesysSecret,
		"USERGROUP_API_URL": c.UsergroupURL, "USERGROUP_COMPANY_ID": fmt.Sprint(c.UsergroupCompanyID),
		"USERGROUP_INTEGRATION_KEY": c.UsergroupKey,
		"AUTH_MODE":                 "none", "GATEWAY_ENV": "development",
		"AUTH_RATE_LIMIT_PER_MINUTE": "0", "GENESYS_RATE_LIMIT_PER_MINUTE": "0", "USERGROUP_RATE_LIMIT_PER_MINUTE": "0",
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// setupPeer starts a second gateway on a's emulators, as setup does.
func setupPeer(t *testing.T, a *testEnv, env map[string]string) *testEnv {
	t.Helper()
	return setupSized(t, peerEnv(a, env), demodata.Demo)
}

// replicas starts two gateway instances, A (demo mode, with the
// emulators) and B (on A's emulators), sharing one Redis; env applies to
// both.
func replicas(t *testing.T, rs *redistest.Server, env map[string]string) (a, b *testEnv) {
	t.Helper()
	e := map[string]string{"REDIS_URL": rs.URL()}
	for k, v := range env {
		e[k] = v
	}
	a = setup(t, e)
	return a, setupPeer(t, a, e)
}

// freeLoopbackAddr returns a loopback address with a port free now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// buildBinary builds the command at the repository root (go build .) into
// the test's temporary folder and returns the binary's path.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the test builds the gateway binary")
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir = repoRoot
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}
