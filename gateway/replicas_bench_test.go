package gateway

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream/demodata"
)

// BenchmarkRedisOverhead measures what REDIS_URL adds per request, with
// the caller and Usergroup limits on in both runs, so that the memory run
// counts in the process what the Redis run counts in Redis (the Genesys
// limit stays off: the emulator reports a 300-a-minute allowance, which
// would make the run measure waits; a Genesys call costs Redis what a
// Usergroup call does):
// two read workloads of the side-by-side benchmark (W2: 2 upstream calls,
// W3: 26), a keyed createUserGroup (a new key each time) and an
// addUserGroupUsers (the user group's lock). Besides ns/op it reports the
// CPU of this process (gateway, emulators and client together) and of
// redis-server per request. Run the two stores in separate processes
// (-bench 'BenchmarkRedisOverhead/memory/', then .../redis/): in one
// process the second run is slowed by the first one's leftovers.
func BenchmarkRedisOverhead(b *testing.B) {
	const unlimited = "1000000" // far above what the run spends, with a GCRA interval (60 µs) Redis's clock resolves
	env := map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": unlimited, "USERGROUP_RATE_LIMIT_PER_MINUTE": unlimited}
	rs := redistest.Start(b)
	for _, store := range []string{"memory", "redis"} {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		if store == "redis" {
			e["REDIS_URL"] = rs.URL()
		}
		b.Run(store, func(b *testing.B) {
			benchRedisOverhead(b, rs, store, setupSized(b, e, demodata.Bench))
		})
		runtime.GC() // the other run's emulators and data do not weigh on this one
	}
}

// benchRedisOverhead runs the workloads on g (store names the run).
func benchRedisOverhead(b *testing.B, rs *redistest.Server, store string, g *testEnv) {
	for _, w := range []struct {
		name  string
		query string
		vars  func(i int) map[string]any
		key   bool
	}{
		{"W2", w2Query, w2Vars, false},
		{"W3", w3Query, w3Vars, false},
		{"keyed-createUserGroup", createUG, func(i int) map[string]any {
			return map[string]any{"name": "Bench", "ext": fmt.Sprintf("bench-%s-%d", store, i)}
		}, true},
		{"addUserGroupUsers", addUGUsers, func(i int) map[string]any {
			return map[string]any{"id": demodata.UserGroupID(1), "ids": []string{demodata.UserID(100 + i%50)}}
		}, false},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			self, srv := cpuTime(0), cpuTime(rs.PID())
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var headers []string
				if w.key {
					headers = []string{"Idempotency-Key", fmt.Sprintf("%s-%d-%d", store, time.Now().UnixNano(), i)}
				}
				r := g.post(w.query, w.vars(i), headers...)
				if len(r.Errors) > 0 {
					b.Fatal(string(r.Raw))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(0)-self)/float64(b.N)/1e3, "cpu-µs/op")
			b.ReportMetric(float64(cpuTime(rs.PID())-srv)/float64(b.N)/1e3, "redis-cpu-µs/op")
		})
	}
}

// cpuTime is the user and system CPU time, in ns, of process pid (0: this
// process).
func cpuTime(pid int) int64 {
	if pid == 0 {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 14th and 15th, in clock ticks of 10 ms.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return (ut + st) * int64(10*time.Millisecond)
}
