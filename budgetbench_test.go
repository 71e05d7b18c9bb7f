package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/bench/budget/budgetbench"
	"github.com/groupdir/gateway/upstream/demodata"
)

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
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	gw, err := newGateway(cfg, slog.New(slog.DiscardHandler), demodata.Demo)
	require.NoError(t, err)
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		srv.Close()
		gw.close()
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
