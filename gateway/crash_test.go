package gateway

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// TestKilledReplicaKeyedCreateIsReconciled is the outside test of case 75
// with a real SIGKILL: a gateway process (this package's binary) runs a
// keyed createUserGroup; the Usergroup API applies it and the answer is
// held back until the process is killed; the client then repeats the
// request with the same Idempotency-Key on another replica sharing the
// Redis. The repeat waits (CONFLICT) while the dead owner's lease runs,
// then is reconciled by ExternalId: one user group, one POST.
func TestKilledReplicaKeyedCreateIsReconciled(t *testing.T) {
	rs := redistest.Start(t)
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the test builds the gateway binary")
	a := setup(t, map[string]string{"REDIS_URL": rs.URL()})
	k := a.usergroupsKit()

	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir = repoRoot
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	applied := make(chan struct{})
	target, err := url.Parse(a.gw.cfg.UsergroupURL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost {
			return nil
		}
		close(applied) // the create is applied upstream; its answer never arrives
		<-resp.Request.Context().Done()
		return errors.New("held until the gateway died")
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	ug := httptest.NewServer(proxy)
	t.Cleanup(ug.Close)

	addr := freeLoopbackAddr(t)
	child := exec.Command(bin)
	for k, v := range peerEnv(a, map[string]string{"REDIS_URL": rs.URL(), "USERGROUP_API_URL": ug.URL,
		"LISTEN_ADDR": addr, "UPSTREAM_OPERATION_TIMEOUT": "2s", "LOG_LEVEL": "error"}) {
		child.Env = append(child.Env, k+"="+v)
	}
	var logs bytes.Buffer
	child.Stdout, child.Stderr = &logs, &logs
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond, "the gateway process did not start: %s", &logs)

	vars := map[string]any{"name": "Crash", "ext": "E75"}
	go func() {
		body := `{"query":` + strconv.Quote(createUG) + `,"variables":{"name":"Crash","ext":"E75"}}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/query", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k75")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-applied:
	case <-time.After(20 * time.Second):
		t.Fatalf("the create never reached the Usergroup API: %s", &logs)
	}
	require.NoError(t, child.Process.Kill()) // SIGKILL: nothing of it runs any more
	_ = child.Wait()
	require.Equal(t, 1, a.gw.demo.usergroups.UserGroupsByExternalID("E75"))

	r := a.post(createUG, vars, "Idempotency-Key", "k75")
	assert.Equal(t, []string{"CONFLICT"}, r.codes(), "the dead owner's lease still runs")
	deadline := time.Now().Add(30 * time.Second)
	for len(r.Errors) > 0 && r.codes()[0] == "CONFLICT" && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		r = a.post(createUG, vars, "Idempotency-Key", "k75")
	}
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "E75", dig(r.Data, "createUserGroup", "externalId"))
	assert.Equal(t, 1, a.gw.demo.usergroups.UserGroupsByExternalID("E75"), "one user group with the ExternalId")
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "the create was never sent again")

	again := a.post(createUG, vars, "Idempotency-Key", "k75")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(r.Raw), string(again.Raw))
}

// freeLoopbackAddr returns a loopback address with a port free now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
