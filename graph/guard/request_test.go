package guard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBody: a body is read whole whatever length was announced, in one
// buffer of the announced size when it is right, and the size limit still
// applies.
func TestReadBody(t *testing.T) {
	body := strings.Repeat(`{"query":"{ id }"}`, 700)
	for _, n := range []int64{-1, 0, int64(len(body)), int64(len(body)) - 100, int64(len(body)) + 100} {
		got, err := readBody(iotest.HalfReader(strings.NewReader(body)), n)
		require.NoError(t, err, n)
		assert.Equal(t, body, string(got), n)
	}
	got, err := readBody(strings.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	assert.Equal(t, len(body)+1, cap(got), "one buffer of the announced size")

	_, err = readBody(iotest.ErrReader(io.ErrUnexpectedEOF), 10)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	w := httptest.NewRecorder()
	_, err = readBody(http.MaxBytesReader(w, io.NopCloser(strings.NewReader(body)), 100), 50)
	var tooBig *http.MaxBytesError
	assert.True(t, errors.As(err, &tooBig), "the limit applies when the body is longer than announced")
}
