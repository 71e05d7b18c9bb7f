package telemetry

import (
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Label values that stand for many.
const (
	// labelOther is a value past a label's bound.
	labelOther = "other"
	// labelAnonymous is the operation label of an operation without a name.
	labelAnonymous = "anonymous"
	// labelUnknown is the operation label of a request refused before an
	// operation was found in it.
	labelUnknown = "unknown"
)

// Bounds of the label sets.
const (
	// maxOperationNames is how many distinct GraphQL operation names get a
	// label of their own; later names share labelOther.
	maxOperationNames = 100
	// maxOperationNameLen is the longest operation name kept as a label.
	maxOperationNameLen = 64
	// maxUpstreamOperations bounds the distinct upstream operations.
	maxUpstreamOperations = 100
)

// boundedSet hands out label values: the first max distinct values it is
// given are their own label, any later one is labelOther. It is safe for
// concurrent use.
type boundedSet struct {
	max  int
	mu   sync.Mutex
	seen map[string]struct{}
}

func newBoundedSet(maxValues int) *boundedSet {
	return &boundedSet{max: maxValues, seen: map[string]struct{}{}}
}

// label returns v, or labelOther once the set is full and v is new.
func (s *boundedSet) label(v string) string {
	if !s.admit(v) {
		return labelOther
	}
	return v
}

// admit reports whether v has a label of its own: it was seen before, or
// the set has room for it.
func (s *boundedSet) admit(v string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return true
	}
	if len(s.seen) >= s.max {
		return false
	}
	s.seen[v] = struct{}{}
	return true
}

// operationLabel is the label of a GraphQL operation name: labelAnonymous
// for an operation without one, labelOther for a name that is too long or
// past the bound.
func (s *boundedSet) operationLabel(name string) string {
	switch {
	case name == "":
		return labelAnonymous
	case len(name) > maxOperationNameLen:
		return labelOther
	}
	return s.label(name)
}

// upstreamOperation names an upstream call by method and path template:
// the path with every id segment (a UUID or a number) replaced by {id},
// e.g. "GET /api/v2/groups/{id}/members". The query string is never part
// of it (the Usergroup API's credentials travel there).
func upstreamOperation(req *http.Request) string {
	segs := strings.Split(req.URL.Path, "/")
	for i, s := range segs {
		if isID(s) {
			segs[i] = "{id}"
		}
	}
	return req.Method + " " + strings.Join(segs, "/")
}

// isID reports whether a path segment is an identifier: a UUID or digits.
func isID(seg string) bool {
	if seg == "" {
		return false
	}
	if strings.Trim(seg, "0123456789") == "" {
		return true
	}
	return len(seg) == 36 && uuid.Validate(seg) == nil
}

// isTokenRequest reports whether op is the OAuth token request.
func isTokenRequest(op string) bool {
	return strings.HasPrefix(op, http.MethodPost+" ") && strings.HasSuffix(op, "/oauth/token")
}
