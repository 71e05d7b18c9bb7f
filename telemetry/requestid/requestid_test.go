package requestid

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPickKeepsSaneIDsOnly(t *testing.T) {
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"uuid", "0b6b6f9e-5d5b-4d4e-9a43-2f1f3c1c9d10", true},
		{"dots and underscores", "req_1.2-abc", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"empty", "", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"CR LF injection", "abc\r\nSet-Cookie: x", false},
		{"quote", `a"b`, false},
		{"non-ASCII", "idé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Pick(tt.in)
			if tt.kept {
				assert.Equal(t, tt.in, got)
				return
			}
			_, err := uuid.Parse(got)
			assert.NoError(t, err, "a generated id is a UUID")
		})
	}
}

func TestPickGeneratesDistinctIDs(t *testing.T) {
	assert.NotEqual(t, Pick(""), Pick(""))
}

func TestContext(t *testing.T) {
	assert.Empty(t, From(context.Background()))
	ctx := With(context.Background(), "abc")
	require.Equal(t, "abc", From(ctx))
}
