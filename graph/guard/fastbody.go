package guard

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/groupdir/gateway/internal/jsonscan"
)

// The fast decoding of a plain request body. decodeOne reads a body
// through jsontext token by token (the query, then each variable's name
// and value through requestOptions' unmarshaler, a reflect map insertion
// and the duplicate-name bookkeeping): on the harness's W1 (a 6 KB query
// and 100 variables) that was about 12.5 % of the gateway's CPU. Here one
// pass over the bytes checks the syntax and builds the same body.
//
// It gives up, and readPOST decodes the body with decodeOne as before, at
// anything outside a plain subset: a member other than query,
// operationName, variables and extensions, one given twice, a member of
// the wrong type, a name repeated in any object, an escaped member name,
// invalid UTF-8 or a control character in a string, nesting deeper than
// maxBodyDepth, invalid JSON, anything but whitespace after the object. So
// every refusal, and every odd case, keeps decodeOne's answer and message;
// and what it decodes is what decodeOne decodes (see fastbody_test.go).

// maxBodyDepth is the deepest nesting of objects and arrays the fast
// decoding follows, the body's own object included.
const maxBodyDepth = 32

// The members of a body the fast decoding reads, as bits of bodyScan.seen.
const (
	seenQuery = 1 << iota
	seenOperationName
	seenVariables
	seenExtensions
)

// fastBody decodes data, a JSON object, into b when it is a plain request
// (see above), and reports whether it did; when it did not, b is
// unchanged.
func fastBody(data []byte, b *body) bool {
	members := membersPool.Get().(*[]readMember)
	s := bodyScan{Scanner: jsonscan.Scanner{B: data}, members: *members}
	var out body
	ok := s.Peek() == '{' && s.object(func(name []byte) bool { return s.member(&out, name) }) && s.End()
	if cap(s.members) <= maxPooledMembers {
		clear(s.members) // a read that gave up leaves members
		*members = s.members[:0]
		membersPool.Put(members)
	}
	if ok {
		*b = out
	}
	return ok
}

// membersPool holds bodyScan.members slices (*[]readMember) of at most
// maxPooledMembers.
var membersPool = sync.Pool{New: func() any { return new([]readMember) }}

// maxPooledMembers is the capacity of the largest bodyScan.members put
// back into membersPool.
const maxPooledMembers = 1024

// bodyScan is a position in the body being decoded.
type bodyScan struct {
	jsonscan.Scanner
	depth int
	// seen holds the bits of the body's members read so far.
	seen int
	// members holds the members read of the objects being read, innermost
	// last.
	members []readMember
}

// readMember is a member of an object being read.
type readMember struct {
	name  string
	value any
}

// member reads the body's member name, once each.
func (s *bodyScan) member(out *body, name []byte) bool {
	var bit int
	switch string(name) {
	case "query":
		bit = seenQuery
	case "operationName":
		bit = seenOperationName
	case "variables":
		bit = seenVariables
	case "extensions":
		bit = seenExtensions
	default:
		return false
	}
	if s.seen&bit != 0 {
		return false
	}
	s.seen |= bit
	switch bit {
	case seenQuery:
		return nullable(s, &out.Query, '"', s.strPtr)
	case seenOperationName:
		return nullable(s, &out.OperationName, '"', s.strPtr)
	case seenVariables:
		return nullable(s, &out.Variables, '{', s.mapValue)
	default:
		return nullable(s, &out.Extensions, '{', s.mapValue)
	}
}

// nullable reads null as T's zero value, or, when the next byte is first,
// the value read reads; anything else gives up.
func nullable[T any](s *bodyScan, dst *T, first byte, read func() (T, bool)) bool {
	switch s.Peek() {
	case 'n':
		var zero T
		*dst = zero
		return s.Literal("null")
	case first:
		v, ok := read()
		*dst = v
		return ok
	}
	return false
}

// strPtr reads a string into a new pointer.
func (s *bodyScan) strPtr() (*string, bool) {
	v, ok := s.str()
	return &v, ok
}

// value reads any JSON value as decodeOne reads it into an any: objects as
// map[string]any, arrays as []any, numbers as json.Number.
func (s *bodyScan) value() (any, bool) {
	switch s.Peek() {
	case '"':
		return s.str()
	case '{':
		return s.mapValue()
	case '[':
		a := []any{}
		ok := s.items(']', func() bool {
			v, ok := s.value()
			a = append(a, v)
			return ok
		})
		return a, ok
	case 't':
		return true, s.Literal("true")
	case 'f':
		return false, s.Literal("false")
	case 'n':
		return nil, s.Literal("null")
	}
	n, ok := s.Number()
	return json.Number(n), ok
}

// mapValue reads an object (the next byte is its brace) into a map made
// at its final size: its members are kept on s.members until its end. A
// repeated name gives up.
func (s *bodyScan) mapValue() (map[string]any, bool) {
	mark := len(s.members)
	ok := s.object(func(name []byte) bool {
		v, ok := s.value()
		s.members = append(s.members, readMember{name: string(name), value: v})
		return ok
	})
	if !ok {
		return nil, false
	}
	read := s.members[mark:]
	m := make(map[string]any, len(read))
	for _, e := range read {
		m[e.name] = e.value
	}
	clear(read)
	s.members = s.members[:mark]
	return m, len(m) == len(read)
}

// object reads an object (the next byte is its brace), calling member
// with each member's name, positioned at its value, which member reads.
// A name with an escape gives up.
func (s *bodyScan) object(member func(name []byte) bool) bool {
	return s.items('}', func() bool {
		if s.Peek() != '"' {
			return false
		}
		name, ok := s.name()
		if !ok || s.Peek() != ':' {
			return false
		}
		s.I++
		return member(name)
	})
}

// items reads the items of an object or an array (the next byte is its
// opening bracket, end its closing one), calling item at each, which item
// reads.
func (s *bodyScan) items(end byte, item func() bool) bool {
	if s.depth++; s.depth > maxBodyDepth {
		return false
	}
	s.I++
	if s.Peek() == end {
		s.I++
		s.depth--
		return true
	}
	for item() {
		switch s.Peek() {
		case ',':
			s.I++
		case end:
			s.I++
			s.depth--
			return true
		default:
			return false
		}
	}
	return false
}

// quoted reads a string (the next byte is its quote) and returns its
// quoted bytes and whether it holds an escape. A control character or
// invalid UTF-8 gives up; escapes are checked when they are unquoted.
func (s *bodyScan) quoted() (q []byte, escaped, ok bool) {
	start, i := s.I, s.I+1
	for {
		if i = jsonscan.PlainASCIIRun(s.B, i); i >= len(s.B) {
			return nil, false, false
		}
		switch c := s.B[i]; {
		case c == '"':
			s.I = i + 1
			return s.B[start:s.I], escaped, true
		case c == '\\':
			escaped = true
			i += 2
		case c < ' ':
			return nil, false, false
		default:
			r, n := utf8.DecodeRune(s.B[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, false
			}
			i += n
		}
	}
}

// str reads a string, unquoted as jsontext does; an invalid escape gives
// up.
func (s *bodyScan) str() (string, bool) {
	q, escaped, ok := s.quoted()
	switch {
	case !ok:
		return "", false
	case !escaped:
		return string(q[1 : len(q)-1]), true
	}
	return unquote(q[1 : len(q)-1])
}

// unquote returns the text of a string's quoted content in, checked by
// quoted, with its escapes replaced as jsonwire.AppendUnquote replaces
// them (in one allocation, and a run at a time rather than a byte at a
// time); anything AppendUnquote would refuse or replace, such as an
// unpaired surrogate, gives up.
func unquote(in []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(in))
	for {
		i := bytes.IndexByte(in, '\\')
		if i < 0 {
			out.Write(in)
			return out.String(), true
		}
		out.Write(in[:i])
		if i+1 == len(in) {
			return "", false
		}
		c := in[i+1]
		in = in[i+2:]
		switch c {
		case '"', '\\', '/':
			out.WriteByte(c)
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r, ok := hex4(in)
			if !ok {
				return "", false
			}
			in = in[4:]
			if utf16.IsSurrogate(r) {
				if len(in) < 6 || in[0] != '\\' || in[1] != 'u' {
					return "", false
				}
				low, ok := hex4(in[2:])
				if r = utf16.DecodeRune(r, low); !ok || r == utf8.RuneError {
					return "", false
				}
				in = in[6:]
			}
			out.WriteRune(r)
		default:
			return "", false
		}
	}
}

// hex4 returns the value of the 4 hexadecimal digits b starts with.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// name reads a member name (the next byte is its quote) and returns its
// bytes; an escaped name gives up.
func (s *bodyScan) name() ([]byte, bool) {
	q, escaped, ok := s.quoted()
	if !ok || escaped {
		return nil, false
	}
	return q[1 : len(q)-1], true
}
