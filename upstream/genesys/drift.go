package genesys

import (
	"sync"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/groupdir/gateway/upstream"
)

// Type drift (see upstream.Tolerant): the client decodes every answer as
// the official SDK does, a member of an unexpected JSON type dropped rather
// than failing the answer, and reports each drifted member to the
// DriftObserver given with WithDriftObserver.

// WithDriftObserver sets the observer told of each drifted member of an
// answer (upstream.Genesys and the member's JSON name).
func WithDriftObserver(o upstream.DriftObserver) Option {
	return func(c *Client) { c.decoding = newDecoding(o) }
}

// decoding holds a client's decoding options: with its drift report, one
// per Fields.
type decoding struct {
	report func(field string)
	all    jsonv2.Options // for the zero Fields

	mu    sync.RWMutex
	cache map[Fields]jsonv2.Options
}

func newDecoding(o upstream.DriftObserver) *decoding {
	report := func(string) {}
	if o != nil {
		report = func(field string) { o.Drifted(upstream.Genesys, field) }
	}
	return &decoding{report: report, all: newUnmarshalOptions(Fields{}, report), cache: map[Fields]jsonv2.Options{}}
}

// maxCachedOptions bounds the decoding options kept per Fields: one per
// distinct selection, and a flood of distinct documents must not grow it.
const maxCachedOptions = 256

// optionsFor returns the decoding options for f, built once per Fields
// (up to maxCachedOptions, then for each call).
func (d *decoding) optionsFor(f Fields) jsonv2.Options {
	if f == (Fields{}) {
		return d.all
	}
	d.mu.RLock()
	o, ok := d.cache[f]
	d.mu.RUnlock()
	if ok {
		return o
	}
	o = newUnmarshalOptions(f, d.report)
	d.mu.Lock()
	if len(d.cache) < maxCachedOptions {
		d.cache[f] = o
	}
	d.mu.Unlock()
	return o
}

// Known implements upstream.Enum: the documented states.
func (s State) Known() bool { return knownState(s) }

// Known implements upstream.Enum: the documented group types.
func (t GroupType) Known() bool { return knownGroupType(t) }

// Known implements upstream.Enum: the documented visibilities.
func (v Visibility) Known() bool { return knownVisibility(v) }

// Known implements upstream.Enum: the documented group contact types.
func (t GroupContactType) Known() bool { return knownContactType(t) }

// Known implements upstream.Enum: the documented condition operations.
func (o ConditionOperation) Known() bool {
	return o == OperationAnd || o == OperationOr || o == OperationNot
}

// Known implements upstream.Enum: the documented comparators.
func (c Comparator) Known() bool {
	switch c {
	case EqualTo, NotEqualTo, LessThan, GreaterThan, GreaterThanOrEqualTo, LessThanOrEqualTo:
		return true
	}
	return false
}

// The value checks of the enumerations the hand decoders read, on the
// bytes of a member as on a typed value.

func knownState[S ~string | ~[]byte](s S) bool {
	switch string(s) {
	case string(StateActive), string(StateInactive), string(StateDeleted):
		return true
	}
	return false
}

func knownGroupType[S ~string | ~[]byte](s S) bool {
	switch string(s) {
	case string(GroupTypeOfficial), string(GroupTypeSocial):
		return true
	}
	return false
}

func knownVisibility[S ~string | ~[]byte](s S) bool {
	switch string(s) {
	case string(VisibilityPublic), string(VisibilityOwners), string(VisibilityMembers):
		return true
	}
	return false
}

func knownContactType[S ~string | ~[]byte](s S) bool {
	switch string(s) {
	case string(GroupContactRing), string(GroupContactPhone):
		return true
	}
	return false
}
