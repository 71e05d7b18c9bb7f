package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// versionedWrites are the operations Genesys guards with the group's
// version (or that its Terraform provider retries on a version mismatch).
var versionedWrites = map[string]bool{
	"UpdateGroup": true, "UpdateGroup clearing addresses and images": true,
	"UpdateGroup replacing addresses, keeping images": true, "DeleteGroup": true, "AddGroupMembers": true,
	"AddGroupMembers without version, empty 202": true, "RemoveGroupMembers": true,
}

// TestVersionConflictForms: 409, 400 "… does not match the current
// version …" and, on the versioned writes only, 408 are ErrConflict; the
// 400 form is not ErrBadRequest; a 408 elsewhere is ErrUnavailable; any
// other 400 stays ErrBadRequest.
func TestVersionConflictForms(t *testing.T) {
	forms := []struct {
		name          string
		status        int
		code, message string
		// onVersioned and elsewhere are the sentinel the form must match on
		// a versioned write and on any other operation.
		onVersioned, elsewhere error
	}{
		{"409", http.StatusConflict, "general.conflict", "Unexpected version", upstream.ErrConflict, upstream.ErrConflict},
		{"400 mismatch", http.StatusBadRequest, "bad.request", "The version 3 does not match the current version 4",
			upstream.ErrConflict, upstream.ErrConflict},
		{"408", http.StatusRequestTimeout, "client.timeout", "The request timed out", upstream.ErrConflict, upstream.ErrUnavailable},
		{"400 other", http.StatusBadRequest, "bad.request", "The version is required", upstream.ErrBadRequest, upstream.ErrBadRequest},
	}
	sentinels := []error{upstream.ErrBadRequest, upstream.ErrConflict, upstream.ErrUnavailable}
	seen := 0
	for _, op := range operations() {
		if versionedWrites[op.name] {
			seen++
		}
		for _, f := range forms {
			t.Run(op.name+"/"+f.name, func(t *testing.T) {
				c, mux := setup(t)
				mux.HandleFunc(op.method+" "+op.path, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(f.status)
					fmt.Fprintf(w, `{"message":%q,"code":%q,"status":%d,"messageParams":{"v":4},"details":[],"errors":[]}`,
						f.message, f.code, f.status)
				})
				_, err := op.call(context.Background(), c)
				want := f.elsewhere
				if versionedWrites[op.name] {
					want = f.onVersioned
				}
				for _, s := range sentinels {
					assert.Equal(t, s == want, errors.Is(err, s), "errors.Is(err, %v)", s)
				}
				var ue *upstream.Error
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, versionedWrites[op.name], ue.VersionedWrite)
			})
		}
	}
	assert.Equal(t, len(versionedWrites), seen, "every versioned write is among the operations")
}
