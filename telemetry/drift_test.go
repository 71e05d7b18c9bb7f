package telemetry

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
)

func TestDriftIsCountedAndLoggedOncePerInterval(t *testing.T) {
	var logs bytes.Buffer
	tel := New(Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	now := time.Unix(1e9, 0)
	tel.drift.now = func() time.Time { return now }
	obs := tel.DriftObserver()
	for range 5 {
		obs.Drifted("genesys", "version")
	}
	obs.Drifted("genesys", "state")
	obs.Drifted("usergroups", "version")
	warnings := func() []string {
		var out []string
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, `"level":"WARN"`) {
				out = append(out, line)
			}
		}
		return out
	}
	counter := func(upstreamName, field string) float64 {
		return testutil.ToFloat64(tel.metrics.decodeDrift.WithLabelValues(upstreamName, field))
	}
	assert.InDelta(t, 5, counter("genesys", "version"), 0)
	assert.InDelta(t, 1, counter("genesys", "state"), 0)
	assert.InDelta(t, 1, counter("usergroups", "version"), 0)
	w := warnings()
	assert.Len(t, w, 3, "one warning per (upstream, field)")
	assert.Contains(t, w[0], `"upstream":"genesys","field":"version","unlogged_since_last_warning":0`)

	now = now.Add(driftLogInterval - time.Second)
	obs.Drifted("genesys", "version")
	assert.Len(t, warnings(), 3, "still within the interval")
	now = now.Add(time.Second)
	obs.Drifted("genesys", "version")
	w = warnings()
	assert.Len(t, w, 4)
	assert.Contains(t, w[3], `"field":"version","unlogged_since_last_warning":5`)
	assert.InDelta(t, 7, counter("genesys", "version"), 0)
}

func TestDriftFieldLabelsAreBounded(t *testing.T) {
	tel := New(Options{})
	for i := range maxDriftFields + 10 {
		tel.DriftObserver().Drifted("genesys", "f"+strings.Repeat("x", i))
	}
	assert.InDelta(t, 10, testutil.ToFloat64(tel.metrics.decodeDrift.WithLabelValues("genesys", labelOther)), 0)
}
