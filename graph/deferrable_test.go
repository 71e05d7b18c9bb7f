package graph

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeferrableFieldsMatchTheGeneratedCode checks DeferrableFields against
// the fields generated.go schedules with ResolveConcurrently (the only ones
// it defers), so that a field resolved concurrently for another reason (a
// model method taking a context) is not missed.
func TestDeferrableFieldsMatchTheGeneratedCode(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	require.NoError(t, err)
	object := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)\(ctx context\.Context, sel ast\.SelectionSet`)
	field := regexp.MustCompile(`case "(\w+)":\s+out\.ResolveConcurrently\(ec\.OperationContext, &deferred`)
	want := map[string]bool{}
	starts := object.FindAllSubmatchIndex(src, -1)
	for i, m := range starts {
		end := len(src)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		for _, f := range field.FindAllSubmatch(src[m[1]:end], -1) {
			want[string(src[m[2]:m[3]])+"."+string(f[1])] = true
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, DeferrableFields(NewExecutableSchema(Config{}).Schema()))
}
