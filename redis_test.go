package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// redisServer is a real redis-server (Debian's redis-server package) run
// by a test on a free loopback port, with its data in a temporary
// directory (append-only file on, so that a restart keeps what a crash of
// Redis would keep).
type redisServer struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts a redis-server for the test and stops it at its end.
// Without the binary the test fails under CI (CI=true: .ci/run installs
// it) and is skipped elsewhere.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is missing: install the Debian package redis-server")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	r := &redisServer{t: t, bin: bin, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// URL is the server's REDIS_URL.
func (r *redisServer) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// start runs the server and waits (at most 10 s) until it answers.
func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--dir", r.dir, "--protected-mode", "no")
	require.NoError(r.t, r.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		require.True(r.t, time.Now().Before(deadline), "redis-server did not answer: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
}

// stop shuts the server down (SIGTERM: it writes its append-only file)
// and waits for it.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
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
func replicas(t *testing.T, rs *redisServer, env map[string]string) (a, b *testEnv) {
	t.Helper()
	e := map[string]string{"REDIS_URL": rs.URL()}
	for k, v := range env {
		e[k] = v
	}
	a = setup(t, e)
	return a, setupPeer(t, a, e)
}

// pid is the server's process id.
func (r *redisServer) pid() int { return r.cmd.Process.Pid }
