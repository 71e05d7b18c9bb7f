package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryLimit(t *testing.T) {
	previous := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(previous) })
	const cgroupLimit = 1 << 30
	tests := []struct {
		name     string
		env      string // GOMEMLIMIT
		cgroup   memlimit.Provider
		want     int64
		provided bool
	}{
		{"cgroup limit", "", memlimit.Limit(cgroupLimit), cgroupLimit * 9 / 10, true},
		{"cgroup without a limit", "", func() (uint64, error) { return 0, memlimit.ErrNoLimit }, defaultMemoryLimit, true},
		{"no cgroup", "", func() (uint64, error) { return 0, errors.New("no cgroup mount") }, defaultMemoryLimit, true},
		{"GOMEMLIMIT wins", "100MiB", memlimit.Limit(cgroupLimit), 77 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tt.env)
			t.Setenv("AUTOMEMLIMIT", "") // restored after the test
			require.NoError(t, os.Unsetenv("AUTOMEMLIMIT"))
			debug.SetMemoryLimit(77 << 20) // as the runtime would have set it from GOMEMLIMIT
			called := false
			limit, err := setMemoryLimit(func() (uint64, error) {
				called = true
				return tt.cgroup()
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, limit)
			assert.Equal(t, tt.want, debug.SetMemoryLimit(-1))
			assert.Equal(t, tt.provided, called)
		})
	}
}

// maxBodyChildEnv marks the child process of BenchmarkMaxBodyMemory.
const maxBodyChildEnv = "GATEWAY_MAX_BODY_MEMORY_CHILD"

// maxBodyRequest is a request of about the default body cap (262,088
// bytes, as the red team's case 58): 6,700 ids for groups(ids:), coerced as
// a variable and refused BAD_USER_INPUT by the resolver without an upstream
// call.
func maxBodyRequest() []byte {
	ids := make([]string, 6700)
	for i := range ids {
		ids[i] = fmt.Sprintf("6a0f0000-0000-4000-8000-%012d", i)
	}
	b, _ := json.Marshal(map[string]any{"query": "query($ids: [ID!]!) { groups(ids: $ids) { total } }", "variables": map[string]any{"ids": ids}})
	return b
}

// BenchmarkMaxBodyMemory measures red team case 58: each iteration sends
// 100 concurrent requests of about 256 KiB to a gateway in a child process
// started as main starts it (GOGC=400, setMemoryLimit), and reports the
// child's peak RSS (VmHWM) above its RSS before the first round, and how
// many requests the body budget refused (503). "defaults" runs with the
// default limits; "unbounded" without a soft memory limit or body budget
// (GOMEMLIMIT=off, as the gateway was before). Linux only (/proc).
//
//	go test -run '^$' -bench BenchmarkMaxBodyMemory -benchtime 5x ./gateway
func BenchmarkMaxBodyMemory(b *testing.B) {
	body := maxBodyRequest()
	for name, env := range map[string][]string{
		"defaults":  nil,
		"unbounded": {"GOMEMLIMIT=off", "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT=1099511627776", "GATEWAY_MAX_IN_FLIGHT=100000"},
	} {
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMaxBodyMemoryChild$", "-test.count=1")
			child.Env = append(append(os.Environ(), maxBodyChildEnv+"=1"), env...)
			stdin, err := child.StdinPipe()
			require.NoError(b, err)
			stdout, err := child.StdoutPipe()
			require.NoError(b, err)
			require.NoError(b, child.Start())
			exited := make(chan error, 1)
			base := childAddress(b, stdout, exited, child)
			defer func() {
				_ = stdin.Close()
				<-exited
			}()
			before := procStatusKiB(b, child.Process.Pid, "VmRSS")
			var refused, other atomic.Int64
			for b.Loop() {
				var wg sync.WaitGroup
				for range 100 {
					wg.Go(func() {
						resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
						if err != nil {
							other.Add(1)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
						case http.StatusServiceUnavailable:
							refused.Add(1)
						default:
							other.Add(1)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(procStatusKiB(b, child.Process.Pid, "VmHWM")-before)/1024, "MiB-peak-rise")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
			require.Zero(b, other.Load(), "every request answered 200 or 503")
		})
	}
}

// procStatusKiB reads a kB field of /proc/<pid>/status.
func procStatusKiB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(b, err)
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(b, err)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestMaxBodyMemoryChild is the child of BenchmarkMaxBodyMemory: a demo
// gateway with main's memory settings and the GATEWAY_* limits of its
// environment, on loopback, serving until stdin closes. It prints its
// address as the fragment-cycle child does (childAddress reads it).
func TestMaxBodyMemoryChild(t *testing.T) {
	if os.Getenv(maxBodyChildEnv) == "" {
		t.Skip("runs only as the child of BenchmarkMaxBodyMemory")
	}
	_, err := TuneRuntime()
	require.NoError(t, err)
	env := map[string]string{}
	for _, name := range []string{"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT", "GATEWAY_MAX_IN_FLIGHT"} {
		env[name] = os.Getenv(name)
	}
	e := setup(t, env)
	fmt.Println(cycleAddrLine + e.srv.URL)
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Log(err)
	}
}
