package origins

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAllows(t *testing.T) {
	o := New([]string{"https://App.example.com/", "http://localhost:*"})
	for origin, want := range map[string]bool{
		"https://app.example.com":            true,
		"https://app.example.com:8443":       false,
		"http://app.example.com":             false,
		"http://localhost":                   true,
		"http://localhost:3000":              true,
		"http://LOCALHOST:5173":              true,
		"http://localhost:123456":            false,
		"http://localhost:":                  false,
		"http://localhost:3000.evil.example": false,
		"http://localhost.evil.example":      false,
		"https://localhost:3000":             false,
		"":                                   false,
	} {
		assert.Equal(t, want, o.Allows(origin), origin)
	}
	assert.True(t, New(nil).Empty())
	assert.False(t, o.Empty())
}
