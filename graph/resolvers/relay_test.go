package resolvers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

func TestPageFor(t *testing.T) {
	tests := []struct {
		start, count, max   int
		size, number, pages int
	}{
		{0, 10, 100, 10, 1, 1},    // from the start
		{20, 10, 100, 10, 3, 1},   // aligned
		{3, 10, 100, 13, 1, 1},    // within page 1 of 13
		{25, 25, 100, 25, 2, 1},   // aligned
		{95, 100, 100, 100, 1, 2}, // no page up to 100 holds [95, 195)
		{7, 0, 100, 1, 8, 1},      // an empty window still reads the total
	}
	for _, tt := range tests {
		size, number, pages := pageFor(tt.start, tt.count, tt.max)
		assert.Equal(t, []int{tt.size, tt.number, tt.pages}, []int{size, number, pages}, "%+v", tt)
		if pages == 1 && tt.count > 0 {
			assert.LessOrEqual(t, (number-1)*size, tt.start)
			assert.GreaterOrEqual(t, number*size, tt.start+tt.count)
		}
	}
}

// list is a paged upstream of n items (item i is i) that counts its calls.
type list struct {
	n, calls int
	total    bool
}

func (l *list) fetch(_ context.Context, size, number int) ([]int, int, error) {
	l.calls++
	var out []int
	for i := (number - 1) * size; i < min(number*size, l.n); i++ {
		out = append(out, i)
	}
	if !l.total {
		return out, -1, nil
	}
	return out, l.n, nil
}

func TestReadWindow(t *testing.T) {
	cursor := func(n int) *string { c := encodeCursor(n); return &c }
	num := func(n int) *int { return &n }
	tests := []struct {
		name                 string
		first, last          *int
		after, before        *string
		n                    int
		want                 []int
		calls                int
		hasNext, hasPrevious bool
	}{
		{"first page", num(3), nil, nil, nil, 10, []int{0, 1, 2}, 1, true, false},
		{"after, misaligned", num(3), nil, cursor(3), nil, 10, []int{4, 5, 6}, 1, true, true},
		{"to the end", num(5), nil, cursor(6), nil, 10, []int{7, 8, 9}, 1, false, true},
		{"past the end", num(5), nil, cursor(9), nil, 10, nil, 1, false, true},
		{"last before", nil, num(3), nil, cursor(5), 10, []int{2, 3, 4}, 1, true, true},
		{"last of all", nil, num(3), nil, nil, 10, []int{7, 8, 9}, 2, false, true},
		{"last of a short list", nil, num(5), nil, nil, 3, []int{0, 1, 2}, 1, false, false},
		{"last after, short list", nil, num(5), cursor(0), nil, 3, []int{1, 2}, 1, false, true},
		{"first before", num(5), nil, nil, cursor(2), 10, []int{0, 1}, 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := connectionWindow(tt.first, tt.after, tt.last, tt.before, 100, false)
			require.NoError(t, err)
			l := &list{n: tt.n, total: true}
			items, start, total, err := readWindow(context.Background(), w, 100, l.fetch)
			require.NoError(t, err)
			assert.Equal(t, tt.want, items)
			assert.Equal(t, tt.calls, l.calls)
			p := pageInfo(w, start, len(items), total)
			assert.Equal(t, tt.hasNext, p.HasNextPage, "hasNextPage")
			assert.Equal(t, tt.hasPrevious, p.HasPreviousPage, "hasPreviousPage")
			if len(items) > 0 {
				assert.Equal(t, encodeCursor(items[0]), *p.StartCursor)
			}
		})
	}
}

func TestConnectionWindowRefusals(t *testing.T) {
	one, zero := 1, 0
	bad := "bm9wZQ"
	for name, args := range map[string][4]any{
		"neither":           {nil, nil, nil, nil},
		"both":              {&one, nil, &one, nil},
		"zero":              {&zero, nil, nil, nil},
		"bad cursor":        {&one, &bad, nil, nil},
		"last needs before": {nil, nil, &one, nil},
	} {
		first, _ := args[0].(*int)
		after, _ := args[1].(*string)
		last, _ := args[2].(*int)
		before, _ := args[3].(*string)
		_, err := connectionWindow(first, after, last, before, 100, true)
		assert.ErrorIs(t, err, upstream.ErrInvalidInput, name)
	}
}
