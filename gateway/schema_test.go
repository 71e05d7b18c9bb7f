package gateway

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/groupdir/gateway/graph"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden keeps the printed schemas in testdata, so that every
// change to the public contract shows up in review: the schema served by
// default, and the one served with GATEWAY_FEDERATION=true (with the
// federation fields, types and directives).
func TestSchemaGolden(t *testing.T) {
	for golden, schema := range map[string]*ast.Schema{
		"schema.golden.graphql":            graph.PlainSchema(),
		"schema.federation.golden.graphql": graph.NewExecutableSchema(graph.Config{}).Schema(),
	} {
		var buf bytes.Buffer
		formatter.NewFormatter(&buf, formatter.WithComments()).FormatSchema(schema)
		golden = filepath.Join(repoRoot, "testdata", golden)
		if *update {
			require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run go test ./gateway -run TestSchemaGolden -update")
		assert.Equal(t, string(want), buf.String(), "the schema changed: review it, then go test ./gateway -run TestSchemaGolden -update")
	}
}
