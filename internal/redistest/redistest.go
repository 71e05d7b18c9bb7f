// Package redistest runs a real redis-server (Debian's redis-server
// package) for tests: on a free loopback port, with its data in a
// temporary directory and the append-only file on, so that a restart keeps
// what a crash of Redis would keep.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Server is one redis-server run by a test.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// Start starts a redis-server for the test and stops it at its end.
// Without the binary the test fails under CI (CI=true: .ci/run installs
// it) and is skipped elsewhere.
func Start(t testing.TB) *Server {
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
	r := &Server{t: t, bin: bin, port: port, dir: t.TempDir()}
	r.Restart()
	t.Cleanup(r.Stop)
	return r
}

// URL is the server's REDIS_URL.
func (r *Server) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// Restart runs the stopped server again, on the same port and data, and
// waits (at most 10 s) until it answers.
func (r *Server) Restart() {
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

// Stop shuts the server down (SIGTERM: it writes its append-only file)
// and waits for it.
func (r *Server) Stop() {
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

// PID is the server's process id.
func (r *Server) PID() int { return r.cmd.Process.Pid }
