package gateway

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/bench/budget/budgetbench"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// The four N+1 shapes of the side-by-side benchmark (../shared/bench), with
// the query files the harness sends to this gateway.

func readQuery(name string) string {
	b, err := os.ReadFile(filepath.Join(repoRoot, "bench", "gateway", "queries", name+".graphql"))
	if err != nil {
		panic(err)
	}
	return string(b)
}

var (
	w1Query = readQuery("w1")
	w2Query = readQuery("w2")
	w3Query = readQuery("w3")
	w4Query = readQuery("w4")
)

func w1Vars(variant int) map[string]any {
	vars := map[string]any{}
	for i := range 100 {
		vars[fmt.Sprintf("id%03d", i)] = demodata.GroupID((variant*37 + i) % demodata.Bench.Groups)
	}
	return vars
}

func w2Vars(variant int) map[string]any {
	return map[string]any{"pageNumber": variant%10 + 1, "pageSize": 50}
}

func w3Vars(variant int) map[string]any {
	return map[string]any{"pageNumber": variant%20 + 1, "pageSize": 25, "membersPageSize": 25}
}

func w4Vars(variant int) map[string]any {
	return map[string]any{"groupId": demodata.GroupID(variant % 100), "pageNumber": variant%2 + 1, "pageSize": 100}
}

// workload is one shape with the upstream calls it must cost.
type workload struct {
	name      string
	query     string
	vars      func(int) map[string]any
	genesys   map[string]int
	usergroup map[string]int
}

var workloads = []workload{
	{"W1", w1Query, w1Vars, map[string]int{routeGroups: 1}, nil},
	{"W2", w2Query, w2Vars, map[string]int{routeGroups: 1}, map[string]int{routeUGSearch: 1}},
	{"W3", w3Query, w3Vars, map[string]int{routeGroups: 1, routeMembers: 25}, nil},
	{"W4", w4Query, w4Vars, map[string]int{routeMembers: 1}, nil},
}

// apiCounts returns the calls per route without the token endpoint.
func apiCounts(k *emukit.Kit) map[string]int {
	m := k.CountsByRoute()
	delete(m, "POST /oauth/token")
	if len(m) == 0 {
		return nil
	}
	return m
}

func TestWorkloadCallCounts(t *testing.T) {
	e := setupSized(t, nil, demodata.Bench)
	for _, w := range workloads {
		t.Run(w.name, func(t *testing.T) {
			e.resetCalls()
			r := e.post(w.query, w.vars(0))
			require.Empty(t, r.Errors)
			assert.Equal(t, w.genesys, apiCounts(e.genesysKit()))
			assert.Equal(t, w.usergroup, apiCounts(e.usergroupsKit()))
		})
	}
}

func TestW3MemberPagesGoOutTogether(t *testing.T) {
	e := setupSized(t, nil, demodata.Bench)
	e.genesysKit().Inject(routeMembers, emukit.Fault{Latency: 300 * time.Millisecond})
	e.resetCalls()
	r := e.post(w3Query, w3Vars(0))
	require.Empty(t, r.Errors)
	assert.Equal(t, 25, e.genesysKit().Count(routeMembers))
	assert.Equal(t, 25, e.genesysKit().MaxInFlight(), "the 25 member pages are in flight at once")
}

func TestW2UnlinkedUserGroupsHaveNoGroup(t *testing.T) {
	e := setupSized(t, nil, demodata.Bench)
	r := e.post(w2Query, w2Vars(0))
	require.Empty(t, r.Errors)
	for _, ug := range dig(r.Data, "userGroups", "entities").([]any) {
		id := dig(ug, "id").(string)
		var i int
		_, err := fmt.Sscanf(id[len(id)-12:], "%x", &i)
		require.NoError(t, err)
		if i%10 == 9 || i%10 == 4 {
			assert.Nil(t, dig(ug, "group"), id)
		} else {
			assert.Equal(t, demodata.GroupName(i%demodata.Bench.Groups), dig(ug, "group", "name"), id)
		}
	}
}

func TestReadCacheIsOptInAndReadsOwnWrites(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	q := `query($id: ID!) { group(id: $id) { name } }`
	vars := map[string]any{"id": demodata.GroupID(9)}
	for range 3 {
		r := e.post(q, vars)
		require.Empty(t, r.Errors)
	}
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "repeated reads are served from the cache")
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Fresh"}) { name } }`, vars)
	require.Empty(t, r.Errors)
	r = e.post(q, vars)
	require.Empty(t, r.Errors)
	assert.Equal(t, "Fresh", dig(r.Data, "group", "name"), "a write clears the cache")

	plain := setup(t, nil)
	for range 2 {
		plain.post(q, vars)
	}
	assert.Equal(t, 2, plain.genesysKit().Count(routeGroups), "off by default")
}

// TestPrefetchedLookupsRunInOneGoroutine: W1's 100 aliased group fields
// read one prefetched call, W2's 50 linked groups another, W3's 25 members
// fields 25 prefetched pages; the
// direct executor waits for them and runs the fields one after the other
// (graph.Pending, resolvers.Pending) rather than starting a goroutine for
// each that would only park on them. Before, one W1 request created over
// 100 goroutines, one W2 request over 50, one W3 request over 75.
func TestPrefetchedLookupsRunInOneGoroutine(t *testing.T) {
	e := setupSized(t, nil, demodata.Bench)
	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	for _, tc := range []struct {
		w   workload
		max uint64
	}{{workloads[0], 40}, {workloads[1], 40}, {workloads[2], 64}} {
		t.Run(tc.w.name, func(t *testing.T) {
			require.Empty(t, e.post(tc.w.query, tc.w.vars(1)).Errors) // connections and token in place
			// New upstream connections start goroutines too (a few per
			// dial, however warm the pool): the fewest of a few requests.
			n := uint64(math.MaxUint64)
			for i := range 5 {
				e.resetCalls()
				before := created()
				r := e.post(tc.w.query, tc.w.vars(2+i))
				n = min(n, created()-before)
				require.Empty(t, r.Errors)
				assert.Equal(t, tc.w.genesys, apiCounts(e.genesysKit()), "the same calls")
			}
			t.Logf("%d goroutines created", n)
			assert.Less(t, n, tc.max, "goroutines created by one request (gateway, emulator and client)")
		})
	}
}

func BenchmarkWorkloads(b *testing.B) {
	e := setupSized(b, nil, demodata.Bench)
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			e.resetCalls()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r := e.post(w.query, w.vars(i))
				if len(r.Errors) > 0 {
					b.Fatal(r.Errors)
				}
			}
			b.StopTimer()
			calls := e.genesysKit().Count("") + e.usergroupsKit().Count("") - e.genesysKit().Count("POST /oauth/token")
			b.ReportMetric(float64(calls)/float64(b.N), "upstream-calls/op")
		})
	}
}

func TestResponsesAreCompressedWhenAccepted(t *testing.T) {
	e := setup(t, nil)
	body := `{"query":"{ groups(pageSize: 40) { entities { id name description memberCount } } }"}`
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Contains(t, string(plain), demodata.GroupName(0))
}

// TestBudgetBenchmarkShort runs the budget benchmark (bench/budget) for a
// few seconds against the gateway with its default read cache, on
// emulators that enforce the upstream budgets, so that the benchmark keeps
// working: every request of the mix is answered, and the cache makes
// fewer upstream calls than there are answers.
func TestBudgetBenchmarkShort(t *testing.T) {
	budgets := budgetbench.Budgets{GenesysPerMinute: 300, UsergroupPerMinute: 300}
	ups, err := budgetbench.StartUpstreams(budgets)
	require.NoError(t, err)
	t.Cleanup(ups.Close)
	env := ups.GatewayEnv(budgets)
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	gw, err := New(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		srv.Close()
		gw.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := budgetbench.Run(ctx, budgetbench.Options{URL: srv.URL + "/query", Dialect: budgetbench.Gateway,
		Rate: 40, Duration: 3 * time.Second, Users: 60, ActorEvery: time.Second, Seed: 1, Upstreams: ups})
	require.NoError(t, err)
	t.Log(budgetbench.TableHeader + res.Row() + res.PerOpLine())
	require.Positive(t, res.Sent)
	assert.Zero(t, res.Failed, "every request is answered or refused for a budget")
	assert.Equal(t, res.Sent, res.Answered, "well within the budgets, nothing is refused")
	assert.Less(t, res.GenesysCalls+res.UsergroupCalls, res.Answered, "the read cache answers most reads")
	assert.Positive(t, res.Changes, "the actor changed the probe group")
}
