package upstream

import (
	"errors"
	"strings"
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

func TestCheckOpaqueID(t *testing.T) {
	for id, ok := range map[string]bool{
		"b42a6f0e3c1d4e5f8a9b0c1d2e3f4a5b":       true, // the platform's "N" form
		"B42A6F0E3C1D4E5F8A9B0C1D2E3F4A5B":       true,
		"6a0f0000-0000-4000-8000-000000000000":   true,
		"{6a0f0000-0000-4000-8000-000000000000}": false,
		"grp_ops-2":                              true,
		strings.Repeat("a", MaxOpaqueIDLen):      true,
		strings.Repeat("a", MaxOpaqueIDLen+1):    false,
		"":                                       false,
		"-":                                      false,
		"_-_":                                    false,
		"..":                                     false,
		"a/b":                                    false,
		"x?y=1":                                  false,
		"a#b":                                    false,
		"a&b=c":                                  false,
		"%2e%2e":                                 false,
		"a b":                                    false,
		"a\r\nb":                                 false,
		"a\x00":                                  false,
		"é":                                      false,
	} {
		err := CheckOpaqueID("id", id)
		assert.Equal(t, ok, err == nil, id)
		if !ok {
			assert.True(t, errors.Is(err, ErrInvalidInput), id)
		}
	}
}

func TestOpaqueIDKey(t *testing.T) {
	assert.Equal(t, OpaqueIDKey("6a0f0000000040008000000000000000"), OpaqueIDKey("6A0F0000-0000-4000-8000-000000000000"))
	assert.NotEqual(t, OpaqueIDKey("grp_a"), OpaqueIDKey("grpa"))
}
