package telemetry

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampledHandlerBoundsPerFieldLines(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewSampledHandler(slog.NewJSONHandler(&buf, nil))).With("request", "r")
	for range 100 {
		log.Warn("upstream error", "code", "UPSTREAM_UNAVAILABLE", "upstream", "genesys")
		log.Warn("upstream error", "code", "RATE_LIMITED", "upstream", "genesys")
		log.Info("request", "status", 200)
	}
	count := func(sub string) int { return strings.Count(buf.String(), sub) }
	assert.Equal(t, SampledBurst, count(`"code":"UPSTREAM_UNAVAILABLE"`), "one kind: its burst")
	assert.Equal(t, SampledBurst, count(`"code":"RATE_LIMITED"`), "another kind has its own")
	assert.Equal(t, 100, count(`"msg":"request"`), "other lines are never sampled")

	time.Sleep(300 * time.Millisecond) // one more line's worth
	buf.Reset()
	log.Warn("upstream error", "code", "UPSTREAM_UNAVAILABLE", "upstream", "genesys")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.EqualValues(t, 100-SampledBurst, line["unlogged_since_last"], "the next line says how many were not written")
	assert.Equal(t, "r", line["request"])
}
