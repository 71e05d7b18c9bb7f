package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// End-to-end tests of several replicas sharing one real Redis (REDIS_URL):
// two gateway instances on the same emulators (docs/operating.md, "Running several
// replicas").

func TestReplicasShareIdempotencyKeys(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, nil)
	k := a.usergroupsKit()
	vars := map[string]any{"name": "Keyed", "ext": "replica-1"}

	first := a.post(createUG, vars, "Idempotency-Key", "rk-1")
	require.Empty(t, first.Errors, string(first.Raw))
	again := b.post(createUG, vars, "Idempotency-Key", "rk-1")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "B replays A's answer")
	assert.JSONEq(t, string(first.Raw), string(again.Raw))
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "one upstream POST")

	other := b.post(createUG, map[string]any{"name": "Other", "ext": "replica-1"}, "Idempotency-Key", "rk-1")
	assert.Equal(t, []string{"BAD_USER_INPUT"}, other.codes(), "other input with the key, on the other replica")

	// Concurrent to both: the first holds the key while the upstream is slow.
	k.Inject(usergroupsemu.RouteCreate, emukit.Fault{Latency: time.Second, Times: 1})
	vars = map[string]any{"name": "Race", "ext": "replica-2"}
	done := make(chan gqlResponse, 1)
	go func() {
		r, err := a.send(createUG, vars, "Idempotency-Key", "rk-2")
		if err != nil {
			r.Errors = append(r.Errors, gqlError{Message: err.Error()})
		}
		done <- r
	}()
	require.Eventually(t, func() bool { return k.Count(usergroupsemu.RouteCreate) == 2 }, 10*time.Second, 5*time.Millisecond)
	r := b.post(createUG, vars, "Idempotency-Key", "rk-2")
	assert.Equal(t, []string{"CONFLICT"}, r.codes(), "B while A runs it")
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
	require.Empty(t, (<-done).Errors)
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteCreate))
	assert.Equal(t, 1, a.gw.demo.usergroups.UserGroupsByExternalID("replica-2"))
}

func TestReplicasLoseNoConcurrentMembershipChange(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, nil)
	// A little upstream latency widens the read-merge-write window.
	a.usergroupsKit().Inject(usergroupsemu.RouteGet, emukit.Fault{Latency: 2 * time.Millisecond})
	ug := demodata.UserGroupID(1)
	before, ok := a.gw.demo.usergroups.UserGroup(ug)
	require.True(t, ok)
	users := userIDs(5000, 100)
	var wg sync.WaitGroup
	results := make([]gqlResponse, len(users))
	errs := make([]error, len(users))
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := a
			if i%2 == 1 {
				e = b
			}
			results[i], errs[i] = e.send(addUGUsers, map[string]any{"id": ug, "ids": []string{u}})
		}()
	}
	wg.Wait()
	for i := range users {
		require.NoError(t, errs[i])
		require.Empty(t, results[i].Errors, string(results[i].Raw))
		require.Equal(t, "COMPLETE", dig(results[i].Data, "addUserGroupUsers", "status"))
	}
	after, _ := a.gw.demo.usergroups.UserGroup(ug)
	have := userSetOf(after.UserIDs)
	lost := 0
	for _, u := range users {
		if !have[u] {
			lost++
		}
	}
	assert.Zero(t, lost, "users lost")
	assert.Equal(t, len(before.UserIDs)+len(users), len(after.UserIDs))
}

// userSetOf indexes ids.
func userSetOf(ids []string) map[string]bool {
	s := map[string]bool{}
	for _, id := range ids {
		s[id] = true
	}
	return s
}

func TestReplicasShareTheCallerLimit(t *testing.T) {
	rs := redistest.Start(t)
	const perMinute = 6
	a, b := replicas(t, rs, map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": fmt.Sprint(perMinute)})
	const q = `{ userGroups(pageSize: 1) { pageSize } }`
	for i := range perMinute {
		e := a
		if i%2 == 1 {
			e = b
		}
		r := e.post(q, nil)
		require.Empty(t, r.Errors, "call %d of the budget", i+1)
	}
	for _, e := range []*testEnv{a, b} {
		r := e.post(q, nil)
		assert.Equal(t, []string{"RATE_LIMITED"}, r.codes(), "the caller's budget is spent on both replicas")
		assert.Equal(t, http.StatusTooManyRequests, r.Status)
	}
}

func TestReplicasWhenRedisFails(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "100"})
	k := a.usergroupsKit()
	ug := demodata.UserGroupID(2)
	vars := map[string]any{"name": "Before", "ext": "outage-1"}
	first := a.post(createUG, vars, "Idempotency-Key", "ok-1")
	require.Empty(t, first.Errors)

	rs.Stop()
	posts := k.Count(usergroupsemu.RouteCreate)
	r := b.post(createUG, map[string]any{"name": "During", "ext": "outage-2"}, "Idempotency-Key", "ok-2")
	assert.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes(), "a keyed mutation is refused, not run unprotected")
	assert.EqualValues(t, 2, r.Errors[0].Extensions["retryAfter"])
	assert.Equal(t, "2", r.Header.Get("Retry-After"))
	assert.Equal(t, posts, k.Count(usergroupsemu.RouteCreate), "nothing sent")

	puts := k.Count(usergroupsemu.RouteUpdate)
	r = a.post(addUGUsers, map[string]any{"id": ug, "ids": userIDs(7000, 1)})
	assert.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes(), "no membership change without the shared lock")
	assert.Equal(t, puts, k.Count(usergroupsemu.RouteUpdate))

	r = b.post(`{ userGroups(pageSize: 1) { pageSize } }`, nil)
	assert.Empty(t, r.Errors, "reads go on; limits are counted per replica")
	assert.Contains(t, b.log.String(), "rate limits are counted per replica")

	ready := readyz(t, a)
	assert.Equal(t, http.StatusOK, ready.status, "Redis is named but does not take the replica out")
	assert.Equal(t, false, dig(ready.body, "upstreams", "redis", "ready"))
	assert.Contains(t, fmt.Sprint(dig(ready.body, "degraded")), "redis")
	assert.Contains(t, metricsText(t, a), "gateway_redis_errors_total")
	assert.NotContains(t, metricsText(t, a), "gateway_redis_errors_total 0")

	rs.Restart() // recovery without a restart of the gateways
	again := b.post(createUG, vars, "Idempotency-Key", "ok-1")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "the record written before the outage survived it")
	r = b.post(createUG, map[string]any{"name": "During", "ext": "outage-2"}, "Idempotency-Key", "ok-2")
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, posts+1, k.Count(usergroupsemu.RouteCreate), "the refused mutation ran once, when retried")
	r = a.post(addUGUsers, map[string]any{"id": ug, "ids": userIDs(7000, 1)})
	require.Empty(t, r.Errors, string(r.Raw))
	ready = readyz(t, a)
	assert.Equal(t, true, dig(ready.body, "upstreams", "redis", "ready"))
	assert.Eventually(t, func() bool { // the limiter asks Redis again a second after its last failure
		r := b.post(`{ userGroups(pageSize: 1) { pageSize } }`, nil)
		return len(r.Errors) == 0 && strings.Contains(b.log.String(), "rate limits are shared by the replicas again")
	}, 5*time.Second, 100*time.Millisecond)
}

// readyzAnswer is a decoded /readyz answer.
type readyzAnswer struct {
	status int
	body   map[string]any
}

func readyz(t *testing.T, e *testEnv) readyzAnswer {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/readyz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out readyzAnswer
	out.status = resp.StatusCode
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out.body))
	return out
}

func metricsText(t *testing.T, e *testEnv) string {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestReplicasShareTheUsergroupBudget(t *testing.T) {
	rs := redistest.Start(t)
	// 12 a minute: a burst of 2, then one call every 6 s, longer than the
	// operation may wait.
	a, b := replicas(t, rs, map[string]string{"USERGROUP_RATE_LIMIT_PER_MINUTE": "12", "UPSTREAM_OPERATION_TIMEOUT": "1s"})
	const q = `{ userGroups(pageSize: 1) { pageSize } }`
	require.Empty(t, a.post(q, nil).Errors)
	require.Empty(t, b.post(q, nil).Errors)
	searches := a.usergroupsKit().Count(usergroupsemu.RouteSearch)
	r := b.post(q, nil)
	assert.Equal(t, []string{"RATE_LIMITED"}, r.codes(), "the Usergroup key's burst is spent by both replicas together")
	assert.Equal(t, searches, a.usergroupsKit().Count(usergroupsemu.RouteSearch), "no call made")
}

// TestReplicasSharePersistedQueries: a query registered through automatic
// persisted queries on A runs by its hash alone on B.
func TestReplicasSharePersistedQueries(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, nil)
	hash := sha256Of(groupNameQuery)
	vars := map[string]any{"id": demodata.GroupID(1)}

	assertPersistedRefusal(t, b.postJSON(t, map[string]any{"extensions": apq(hash), "variables": vars}),
		guard.CodePersistedQueryNotFound)
	reg := a.postJSON(t, map[string]any{"query": groupNameQuery, "extensions": apq(hash), "variables": vars})
	require.Empty(t, reg.Errors, string(reg.Raw))

	r := b.postJSON(t, map[string]any{"extensions": apq(hash), "variables": vars})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, demodata.GroupName(1), dig(r.Data, "group", "name"))
}

// TestKilledReplicaKeyedCreateIsReconciled is the outside test of case 75
// with a real SIGKILL: a gateway process (this package's binary) runs a
// keyed createUserGroup; the Usergroup API applies it and the answer is
// held back until the process is killed; the client then repeats the
// request with the same Idempotency-Key on another replica sharing the
// Redis. The repeat waits (CONFLICT) while the dead owner's lease runs,
// then is reconciled by ExternalId: one user group, one POST.
func TestKilledReplicaKeyedCreateIsReconciled(t *testing.T) {
	rs := redistest.Start(t)
	a := setup(t, map[string]string{"REDIS_URL": rs.URL()})
	k := a.usergroupsKit()
	bin := buildBinary(t)

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

// TestReplicasInvalidateEachOthersReadCache: with the read cache on, a
// write through A ends the freshness of what B cached of the same user
// group and group, so B's next read goes upstream and shows the write.
func TestReplicasInvalidateEachOthersReadCache(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	ug, g := demodata.UserGroupID(3), demodata.GroupID(3)
	const read = `query($ug: ID!, $g: ID!) { userGroup(id: $ug) { name } group(id: $g) { name } }`
	vars := map[string]any{"ug": ug, "g": g}
	gk, uk := a.genesysKit(), a.usergroupsKit() // B runs on A's emulators

	require.Empty(t, b.post(read, vars).Errors)
	calls := func() int { return gk.Count(genesysemu.RouteGetGroups) + uk.Count(usergroupsemu.RouteGet) }
	before := calls()
	require.Empty(t, b.post(read, vars).Errors)
	require.Equal(t, before, calls(), "B serves both from its cache")

	r := a.post(`mutation($ug: ID!, $g: ID!) { updateUserGroup(id: $ug, input: {name: "Renamed on A"}) { name }
		updateGroup(id: $g, input: {name: "Group renamed on A"}) { name } }`, vars)
	require.Empty(t, r.Errors, string(r.Raw))
	require.Eventually(t, func() bool {
		got := b.post(read, vars)
		return dig(got.Data, "userGroup", "name") == "Renamed on A" && dig(got.Data, "group", "name") == "Group renamed on A"
	}, 5*time.Second, 20*time.Millisecond, "B sees A's writes long before its 1 min TTL ends")
}

// TestReplicasShareTheirReads: with the read cache on, what B read is
// served by A without an upstream call of its own, group lookups group by
// group included, so replicas spend the upstream budget once between them.
func TestReplicasShareTheirReads(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	ug, g1, g2 := demodata.UserGroupID(4), demodata.GroupID(4), demodata.GroupID(5)
	const read = `query($ug: ID!, $g: ID!) { userGroup(id: $ug) { name } group(id: $g) { name members(pageSize: 5) { total } } }`

	rb := b.post(read, map[string]any{"ug": ug, "g": g1})
	require.Empty(t, rb.Errors, string(rb.Raw))
	rb2 := b.post(`query($g: ID!) { group(id: $g) { name } }`, map[string]any{"g": g2})
	require.Empty(t, rb2.Errors)
	before := a.apiCalls() // B runs on A's emulators; A fetches its own token
	ra := a.post(read, map[string]any{"ug": ug, "g": g1})
	require.Empty(t, ra.Errors, string(ra.Raw))
	assert.Equal(t, string(dataOf(t, rb)), string(dataOf(t, ra)))
	ra2 := a.post(groupsQuery(g2, g1), nil)
	require.Empty(t, ra2.Errors)
	assert.Equal(t, before, a.apiCalls(), "A serves what B read, without a call")
}

// TestReplicasKeepAWriteReserveOfTheSharedBudget: reads through both
// replicas spend at most four fifths of a shared Genesys budget (60 a
// minute: a burst of 10, reads 8), so a mutation still gets its calls at
// once.
func TestReplicasKeepAWriteReserveOfTheSharedBudget(t *testing.T) {
	rs := redistest.Start(t)
	a, b := replicas(t, rs, map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "60", "UPSTREAM_RATE_LIMIT_MAX_WAIT": "100ms",
		"AUTH_MODE": "genesys"}) // one caller token, so one Genesys budget for both replicas
	token := []string{"Authorization", "Bearer demo-admin-token"}
	const q = `query($id: ID!) { group(id: $id) { id } }`
	refused := false
	for i := 0; i < 20 && !refused; i++ {
		e := []*testEnv{a, b}[i%2]
		r := e.post(q, map[string]any{"id": demodata.GroupID(i)}, token...)
		refused = len(r.Errors) > 0
		if refused {
			require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
		}
	}
	require.True(t, refused, "reads run out of their share of the budget")
	reads := a.genesysKit().Count(genesysemu.RouteGetGroups) // B runs on A's emulators
	// 8 reads of the budget: each replica's check of the caller's token, and
	// 6 lookups (7 with a refill); without the reserve they would take 10.
	assert.LessOrEqual(t, reads, 7, "reads leave the write reserve alone, across replicas")
	r := b.post(`mutation($id: ID!) { updateGroup(id: $id, input: {description: "still writable"}) { description } }`,
		map[string]any{"id": demodata.GroupID(2)}, token...)
	require.Empty(t, r.Errors, "the mutation (a version read and a PUT) spends the reserve: %s", r.Raw)
}
