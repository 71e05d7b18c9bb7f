package upstream

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVersionMismatchIsGenesysOnly: the 400 "does not match the current
// version" form is a conflict only when Genesys says it; the same words from
// the Usergroup API (which has no versions) stay a bad request.
func TestVersionMismatchIsGenesysOnly(t *testing.T) {
	msg := "The version 3 does not match the current version 4"
	g := &Error{Upstream: Genesys, Status: http.StatusBadRequest, Message: msg}
	u := &Error{Upstream: Usergroups, Status: http.StatusBadRequest, Message: msg}
	assert.True(t, errors.Is(g, ErrConflict))
	assert.False(t, errors.Is(g, ErrBadRequest))
	assert.False(t, errors.Is(u, ErrConflict))
	assert.True(t, errors.Is(u, ErrBadRequest))
}
