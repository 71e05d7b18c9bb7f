package jsonscan

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// naiveRun is PlainRun (ascii false) or PlainASCIIRun a byte at a time.
func naiveRun(b []byte, i int, ascii bool) int {
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < ' ' || ascii && c >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// TestPlainRuns compares the 8-bytes-at-a-time scans with a byte-at-a-time
// one on random texts of the bytes that matter, from every start.
func TestPlainRuns(t *testing.T) {
	alphabet := []byte{'a', 'Z', ' ', '"', '\\', 0x1f, 0x7f, 0x80, 0xc3, 0xff, '0'}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(rng.IntN(26))
			}
		}
		for i := 0; i <= len(b); i++ {
			assert.Equal(t, naiveRun(b, i, false), PlainRun(b, i), "PlainRun(%q, %d)", b, i)
			assert.Equal(t, naiveRun(b, i, true), PlainASCIIRun(b, i), "PlainASCIIRun(%q, %d)", b, i)
			assert.Equal(t, naiveRun(b, i, false), PlainRun(string(b), i), "PlainRun of a string")
			assert.Equal(t, naiveRun(b, i, true), PlainASCIIRun(string(b), i), "PlainASCIIRun of a string")
		}
	}
}

func TestNumber(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "-0": "-0", "12,": "12", "-1.5e+3]": "-1.5e+3", "1E9": "1E9",
		"0.25}": "0.25", "01": "0", "3.0e-0 ": "3.0e-0"} {
		s := Scanner{B: []byte(in)}
		n, ok := s.Number()
		assert.True(t, ok, in)
		assert.Equal(t, want, string(n), in)
		assert.Equal(t, len(want), s.I, in)
	}
	for _, in := range []string{"", "-", "+1", ".5", "1.", "1e", "1e+", "-x", "x"} {
		s := Scanner{B: []byte(in)}
		_, ok := s.Number()
		assert.False(t, ok, in)
		assert.Zero(t, s.I, "a number given up on leaves the position: %q", in)
	}
}

func TestScanner(t *testing.T) {
	s := Scanner{B: []byte(" \t\r\n true , nul")}
	assert.Equal(t, byte('t'), s.Peek())
	assert.True(t, s.Literal("true"))
	assert.False(t, s.End())
	assert.Equal(t, byte(','), s.Peek())
	s.I++
	s.WS()
	assert.False(t, s.Literal("null"), "a cut literal")
	assert.False(t, s.Literal("nul "), "another literal")
	s.I = len(s.B)
	assert.Zero(t, s.Peek())
	assert.True(t, s.End())
}
