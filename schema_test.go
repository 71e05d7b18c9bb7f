package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/groupdir/gateway/graph"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden keeps the printed schema in testdata, so that every
// change to the public contract shows up in review.
func TestSchemaGolden(t *testing.T) {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithComments()).FormatSchema(graph.NewExecutableSchema(graph.Config{}).Schema())
	golden := filepath.Join("testdata", "schema.golden.graphql")
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestSchemaGolden -update")
	assert.Equal(t, string(want), buf.String(), "the schema changed: review it, then go test -run TestSchemaGolden -update")
}
