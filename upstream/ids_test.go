package upstream

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{
		"6a0f0000-0000-4000-8000-000000000000":  true,
		"6A0F0000-ABCD-4000-8000-00000000FFFF":  true,
		"6a0f0000-0000-4000-8000-00000000000":   false, // 35 characters
		"6a0f0000-0000-4000-8000-0000000000000": false,
		"6a0f00000000-4000-8000-0000000000000":  false, // dash moved
		"6a0f0000-0000-4000-8000_000000000000":  false,
		"6a0g0000-0000-4000-8000-000000000000":  false,
		"6a0f0000-0000-4000-8000-00000000000-":  false,
		"------------------------------------":  false,
		"":                                      false,
		"6a0f0000-0000-4000-8000-0000000000é":   false,
	} {
		err := CheckID("id", id)
		assert.Equal(t, ok, err == nil, id)
		if !ok {
			assert.True(t, errors.Is(err, ErrInvalidInput), id)
		}
	}
}
