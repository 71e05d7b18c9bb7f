// Package jsonscan holds the byte-level pieces shared by the gateway's
// one-pass JSON decoders (the Genesys pages of upstream/genesys, the
// request bodies of graph/guard): a position in a JSON text that skips
// whitespace and reads literals and numbers, and the scan of a string's
// plain run 8 bytes at a time. Each decoder builds its values on top and
// gives up, to a full decoder, on anything it does not read exactly.
package jsonscan

import (
	"math/bits"
	"unicode/utf8"
)

// Scanner is a position in a JSON text.
type Scanner struct {
	// B is the text and I the index of the next byte to read.
	B []byte
	I int
}

// WS skips whitespace.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek returns the next byte after whitespace, or 0 at the end.
func (s *Scanner) Peek() byte {
	// Compact JSON has no whitespace: a byte above space is returned
	// at once, without entering WS's loop.
	if s.I < len(s.B) && s.B[s.I] > ' ' {
		return s.B[s.I]
	}
	s.WS()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// End reports whether only whitespace is left.
func (s *Scanner) End() bool {
	s.WS()
	return s.I == len(s.B)
}

// Literal reads lit (true, false or null).
func (s *Scanner) Literal(lit string) bool {
	if len(s.B)-s.I < len(lit) || string(s.B[s.I:s.I+len(lit)]) != lit {
		return false
	}
	s.I += len(lit)
	return true
}

// Number reads a JSON number and returns its bytes.
func (s *Scanner) Number() ([]byte, bool) {
	b := s.B
	start, i := s.I, s.I
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = Digits(b, i)
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		j := Digits(b, i+1)
		if j == i+1 {
			return nil, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := Digits(b, i)
		if j == i {
			return nil, false
		}
		i = j
	}
	s.I = i
	return b[start:i], true
}

// Digits returns the index of the first byte from i on that is not a
// decimal digit.
func Digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// Words of 8 bytes for plainRun.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// Text is the bytes of a JSON text, or of a string to be written into one.
type Text interface{ ~string | ~[]byte }

// PlainRun returns the index of the first byte from i on that ends a
// string's plain run (a quote, a backslash or a control character), or
// len(b). Bytes from 0x80 on (UTF-8 sequences, valid or not) are plain.
// The writer of a JSON string escapes the byte it stops at.
func PlainRun[T Text](b T, i int) int { return plainRun(b, i, 0) }

// PlainASCIIRun is PlainRun that also ends at a byte from 0x80 on, for a
// caller that checks UTF-8 itself.
func PlainASCIIRun[T Text](b T, i int) int { return plainRun(b, i, highs) }

// plainRun tests 8 bytes at a time: in (x-ones) &^ x & highs the lowest set
// bit marks the first zero byte of x (higher ones may be borrows), and
// w & high marks the bytes from 0x80 on when high is highs.
func plainRun[T Text](b T, i int, high uint64) int {
	for ; i+8 <= len(b); i += 8 {
		w := load64(b, i)
		q, bs := w^(ones*'"'), w^(ones*'\\')
		if m := ((q-ones)&^q | (bs-ones)&^bs | (w-ones*' ')&^w | w&high) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < ' ' || high != 0 && c >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// load64 returns the 8 bytes of b from i as a little-endian word (the
// compiler makes it one load, for a string as for a slice).
func load64[T Text](b T, i int) uint64 {
	w := b[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}
