package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream"
)

// Upstream type drift (upstream.Tolerant): every drifted member of an
// answer is counted in gateway_upstream_decode_drift_total{upstream,field};
// the first drift of each (upstream, field) is logged as a warning, and
// later ones at most once per driftLogInterval, with how many were not
// logged in between, so that a drifting upstream cannot flood the log.

const (
	// driftLogInterval is the least time between two warnings about the
	// same (upstream, field).
	driftLogInterval = 10 * time.Minute
	// maxDriftFields bounds the distinct field labels: the fields are the
	// gateway's own model members, so the bound is only a safeguard.
	maxDriftFields = 100
)

// driftObserver is the upstream.DriftObserver that counts and logs drift.
type driftObserver struct {
	t      *Telemetry
	fields *boundedSet
	now    func() time.Time

	mu   sync.Mutex
	seen map[driftKey]*driftState
}

type driftKey struct{ upstream, field string }

// driftState is what is known of one (upstream, field) since its last
// warning.
type driftState struct {
	logged     time.Time
	suppressed int
}

// DriftObserver returns the upstream.DriftObserver of the upstream
// clients: it counts each drifted member and logs one warning per
// (upstream, field) and interval.
func (t *Telemetry) DriftObserver() upstream.DriftObserver { return t.drift }

func newDriftObserver(t *Telemetry) *driftObserver {
	return &driftObserver{t: t, fields: newBoundedSet(maxDriftFields), now: time.Now, seen: map[driftKey]*driftState{}}
}

// Drifted implements upstream.DriftObserver.
func (o *driftObserver) Drifted(upstreamName, field string) {
	field = o.fields.label(field)
	o.t.metrics.decodeDrift.WithLabelValues(upstreamName, field).Inc()
	k := driftKey{upstreamName, field}
	now := o.now()
	o.mu.Lock()
	s := o.seen[k]
	if s == nil {
		s = &driftState{}
		o.seen[k] = s
	} else if now.Sub(s.logged) < driftLogInterval {
		s.suppressed++
		o.mu.Unlock()
		return
	}
	suppressed := s.suppressed
	s.logged, s.suppressed = now, 0
	o.mu.Unlock()
	o.t.log.LogAttrs(context.Background(), slog.LevelWarn,
		"upstream answer member of an unexpected type or value: read as absent (or as the number a string holds, or mapped to UNKNOWN)",
		slog.String("upstream", upstreamName), slog.String("field", field), slog.Int("unlogged_since_last_warning", suppressed))
}
