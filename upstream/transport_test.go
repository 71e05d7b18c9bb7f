package upstream

import (
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadAll(t *testing.T) {
	for _, tc := range []struct {
		name          string
		body          string
		length, limit int64
		want          string
		wantErr       bool
	}{
		{name: "as announced", body: "0123456789", length: 10, limit: 100, want: "0123456789"},
		{name: "longer than announced", body: "0123456789abc", length: 10, limit: 100, want: "0123456789abc"},
		{name: "longer than announced, cut past the limit", body: "0123456789abcdef", length: 10, limit: 12, want: "0123456789abc"},
		{name: "shorter than announced", body: "01234", length: 10, limit: 100, wantErr: true},
		{name: "not announced", body: "0123456789", length: -1, limit: 100, want: "0123456789"},
		{name: "not announced, past the limit", body: "0123456789", length: -1, limit: 4, want: "01234"},
		{name: "empty", body: "", length: 0, limit: 100, want: ""},
		{name: "not announced, empty", body: "", length: -1, limit: 100, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per read: the reads that follow the announced length
			// must not depend on the reader filling a buffer.
			b, err := readAll(iotest.OneByteReader(strings.NewReader(tc.body)), tc.length, tc.limit)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
	// Bodies of unknown length are read through pooled buffers: what one
	// read returned is not overwritten by the next.
	first, err := readAll(strings.NewReader("first body"), -1, 100)
	require.NoError(t, err)
	_, err = readAll(strings.NewReader("second, longer body"), -1, 100)
	require.NoError(t, err)
	assert.Equal(t, "first body", string(first))
}
