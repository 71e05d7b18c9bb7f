package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// The load tool end to end, small: one workload for 1 s at concurrency 2,
// through a gateway built from this repository, so that make load cannot
// rot unnoticed.
func TestLoadRunsOneWorkloadAndChecksEveryAnswer(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("the load tool reads CPU time and RSS from /proc (Linux only)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := parseFlags([]string{"-duration", "1s", "-warmup", "0s", "-concurrency", "2", "-workloads", "w2"}, &bytes.Buffer{})
	require.NoError(t, err)
	c.repo, err = filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	// Under -race the gateway is built with -race too: it reuses the
	// packages the test run compiled, and checks the gateway for data races
	// under concurrent load.
	c.gateway, err = buildGateway(ctx, c.repo, t.TempDir(), t.Output(), raceFlags...)
	require.NoError(t, err)

	rows, err := measure(ctx, c, t.Output())
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	assert.Equal(t, "w2", r.workload)
	assert.Positive(t, r.requests)
	assert.Zero(t, r.failed, r.problems)
	assert.Equal(t, 2, r.ideal, "bench/gateway/queries/w2.calls")
	assert.Equal(t, r.ideal, r.single, "one request alone costs the ideal calls")
	assert.Equal(t, 2*int(r.requests), r.calls, "a closed loop leaves nothing in flight: calls are exact")
	assert.Positive(t, r.gatewayCPU)
	assert.Positive(t, r.peakRSS)
	assert.Positive(t, r.p99)

	var out bytes.Buffer
	printTable(&out, c, rows)
	assert.Contains(t, out.String(), fmt.Sprintf("| W2 | %d | 0 |", r.requests))
}

func TestFlagsAreBounded(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "0s"}, {"-duration", "11m"}, {"-warmup", "-1s"}, {"-concurrency", "0"}, {"-concurrency", "5000"},
		{"-latency", "-1ms"}, {"-max-requests", "0"}, {"-workloads", "w5"}, {"extra"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.Error(t, err, args)
	}
	c, err := parseFlags([]string{"-workloads", "w4, w1", "-latency", "20ms"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, []string{"w4", "w1"}, []string{c.workloads[0].name, c.workloads[1].name})
	assert.Equal(t, 20*time.Millisecond, c.latency)
}

// answer builds the correct answer of variant v of workload name.
func answer(name string, v int) map[string]any {
	members := func(g, n int, chat bool) []any {
		var out []any
		for _, u := range size.MemberIndexes(g)[:n] {
			m := map[string]any{"id": demodata.UserID(u), "name": demodata.UserName(u), "email": demodata.UserEmail(u)}
			if chat {
				m["chat"] = map[string]any{"jabberId": demodata.JabberID(u)}
			}
			out = append(out, m)
		}
		return out
	}
	data := map[string]any{}
	switch name {
	case "w1":
		for i := range w1IDs {
			g := w1Group(v, i)
			data[fmt.Sprintf("g%03d", i)] = map[string]any{"id": demodata.GroupID(g), "name": demodata.GroupName(g), "memberCount": 200}
		}
	case "w2":
		var es []any
		for k := range w2PageSize {
			i := v*w2PageSize + k
			e := map[string]any{"id": demodata.UserGroupID(i), "name": demodata.UserGroupName(i),
				"externalId": size.UserGroupExternalID(i), "userIds": []any{}, "group": nil}
			if i%10 != 4 && i%10 != 9 {
				e["group"] = map[string]any{"id": demodata.GroupID(i % size.Groups), "name": demodata.GroupName(i % size.Groups)}
			}
			es = append(es, e)
		}
		data["userGroups"] = map[string]any{"entities": es}
	case "w3":
		var gs []any
		for g := range w3PageSize {
			gs = append(gs, map[string]any{"id": demodata.GroupID(g), "name": demodata.GroupName(g),
				"members": map[string]any{"entities": members(g, w3Members, false)}})
		}
		data["groups"] = map[string]any{"entities": gs}
	case "w4":
		g := v % bigGroupsW4
		data["group"] = map[string]any{"id": demodata.GroupID(g), "members": map[string]any{"entities": members(g, w4PageSize, true)}}
	}
	return map[string]any{"data": data}
}

// at returns the map or list element at path (map keys, list indexes).
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

func byName(name string) *workload {
	return workloads[slices.IndexFunc(workloads, func(w *workload) bool { return w.name == name })]
}

func TestChecksAcceptTheRightAnswerOnly(t *testing.T) {
	members := func(a map[string]any, path ...any) []any {
		return at(a, append([]any{"data"}, append(path, "members", "entities")...)...).([]any)
	}
	tests := []struct {
		name     string
		workload string
		variant  int
		status   int
		mutate   func(a map[string]any)
		ok       bool
	}{
		{"w1 right", "w1", 5, 200, func(map[string]any) {}, true},
		{"w2 right", "w2", 3, 200, func(map[string]any) {}, true},
		{"w3 right", "w3", 0, 200, func(map[string]any) {}, true},
		{"w4 right", "w4", 150, 200, func(map[string]any) {}, true},
		{"status 500", "w4", 0, 500, func(map[string]any) {}, false},
		{"GraphQL errors beside data", "w4", 0, 200, func(a map[string]any) {
			a["errors"] = []any{map[string]any{"message": "x", "extensions": map[string]any{"code": "UPSTREAM_UNAVAILABLE"}}}
		}, false},
		{"no data", "w4", 0, 200, func(a map[string]any) { a["data"] = nil }, false},
		{"w1 a group missing", "w1", 0, 200, func(a map[string]any) { delete(a["data"].(map[string]any), "g042") }, false},
		{"w1 another variant's group", "w1", 1, 200, func(a map[string]any) {
			at(a, "data", "g000").(map[string]any)["id"] = demodata.GroupID(w1Group(0, 0))
		}, false},
		{"w2 another page", "w2", 2, 200, func(a map[string]any) { a["data"] = answer("w2", 3)["data"] }, false},
		{"w2 a group for a dangling ExternalId", "w2", 0, 200, func(a map[string]any) {
			at(a, "data", "userGroups", "entities", 9).(map[string]any)["group"] = map[string]any{"id": "x", "name": "y"}
		}, false},
		{"w2 a linked group left out", "w2", 0, 200, func(a map[string]any) {
			at(a, "data", "userGroups", "entities", 0).(map[string]any)["group"] = nil
		}, false},
		{"w2 a user group short", "w2", 0, 200, func(a map[string]any) {
			ug := at(a, "data", "userGroups").(map[string]any)
			ug["entities"] = ug["entities"].([]any)[1:]
		}, false},
		{"w3 a member page short", "w3", 0, 200, func(a map[string]any) {
			m := at(a, "data", "groups", "entities", 3, "members").(map[string]any)
			m["entities"] = m["entities"].([]any)[1:]
		}, false},
		{"w3 a member of another group", "w3", 0, 200, func(a map[string]any) {
			// group 1's members are users 7..206
			members(a, "groups", "entities", 1)[0] = map[string]any{"id": demodata.UserID(3000), "email": demodata.UserEmail(3000)}
		}, false},
		{"w3 a group twice", "w3", 0, 200, func(a map[string]any) {
			gs := at(a, "data", "groups", "entities").([]any)
			gs[1] = gs[0]
		}, false},
		{"w4 another group", "w4", 7, 200, func(a map[string]any) { a["data"] = answer("w4", 8)["data"] }, false},
		{"w4 a member twice", "w4", 0, 200, func(a map[string]any) {
			ms := members(a, "group")
			ms[1] = ms[0]
		}, false},
		{"w4 a wrong chat address", "w4", 0, 200, func(a map[string]any) {
			members(a, "group")[99].(map[string]any)["chat"] = map[string]any{"jabberId": "someone@else"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := answer(tt.workload, tt.variant)
			tt.mutate(a)
			body, err := json.Marshal(a)
			require.NoError(t, err)
			err = byName(tt.workload).checkAnswer(tt.variant, tt.status, body)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestQueriesAndIdealCallsAreRead(t *testing.T) {
	for _, name := range []string{"w1", "w2", "w3", "w4"} {
		w := *byName(name)
		require.NoError(t, w.load(filepath.Join("..", "gateway", "queries")))
		assert.True(t, strings.Contains(w.query, "query "+strings.ToUpper(name)), name)
		assert.Equal(t, map[string]int{"w1": 1, "w2": 2, "w3": 26, "w4": 1}[name], w.ideal, name)
	}
}
