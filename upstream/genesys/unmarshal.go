package genesys

import (
	"bytes"
	"errors"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The hand-written decoding of the hot answer types (pages of users and of
// groups): json v2's reflection spends most of a page's decoding time on
// looking up member names, allocating every pointer field and string on its
// own, and growing the entities slice one doubling at a time. The functions
// here read the same tokens and give exactly the values plain json v2 gives
// (see unmarshal_test.go), with a page's pointer targets taken from slabs,
// an object's strings made by one allocation and the entities slice
// allocated once at its final length. Every value that is not of the
// expected JSON kind (null, a string for a number, a fractional number for
// an int...) is handed to json v2 itself, so that it is decoded, or
// reported with its JSON pointer, exactly as before.

// unmarshalOptions are the options with which the client decodes every
// answer; they are built once.
var unmarshalOptions = jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
	jsonv2.UnmarshalFromFunc(entry(decodeUserPage)),
	jsonv2.UnmarshalFromFunc(entry(decodeGroupPage)),
	jsonv2.UnmarshalFromFunc(entry(decodeUser)),
	jsonv2.UnmarshalFromFunc(entry(decodeGroup)),
))

// slabSize is how many values of a kind a slab allocates at once.
const slabSize = 32

// slab hands out pointers to distinct values allocated slabSize at a time.
type slab[T any] struct{ free []T }

// next returns a pointer to a new zero T.
func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// pendingString is a string field waiting for its object's strings to be
// made: buf[start:end] of its decodeState.
type pendingString struct {
	dst        *string
	start, end int
}

// decodeState is what one decoding call shares between the objects it
// decodes.
type decodeState struct {
	// buf holds the unquoted bytes of the pending strings.
	buf     []byte
	pending []pendingString
	bools   slab[bool]
	divs    slab[Division]
	chats   slab[Chat]
	// name holds an unquoted member name that had escapes.
	name []byte
}

// entry adapts the decoding function of a T to json v2's unmarshalers: it
// decodes a JSON object with a fresh decodeState and leaves every other
// kind of value to json v2 (json v2.SkipFunc).
func entry[T any](decode func(*jsontext.Decoder, *decodeState, *T) error) func(*jsontext.Decoder, *T) error {
	return func(dec *jsontext.Decoder, v *T) error {
		if dec.PeekKind() != '{' {
			return jsonv2.SkipFunc
		}
		var st decodeState
		if err := decode(dec, &st, v); err != nil {
			return err
		}
		st.flush()
		return nil
	}
}

// flush makes the pending strings, all with one allocation, and stores
// them into their fields. It must run before a pending field can move (an
// element of a slice that grows).
func (st *decodeState) flush() {
	if len(st.pending) == 0 {
		return
	}
	s := string(st.buf)
	for _, p := range st.pending {
		*p.dst = s[p.start:p.end]
	}
	st.buf, st.pending = st.buf[:0], st.pending[:0]
}

// readObject reads a JSON object and calls member for each of its members,
// with the member's name (unquoted) and dec positioned at its value; member
// must read that value. A value that is not an object goes to json v2.
func readObject[T any](dec *jsontext.Decoder, st *decodeState, v *T,
	member func(*jsontext.Decoder, *decodeState, *T, []byte) error) error {
	if dec.PeekKind() != '{' {
		return jsonv2.UnmarshalDecode(dec, v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := member(dec, st, v, st.unquoteName(name)); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// unquoteName returns the unquoted name, valid until the next read from
// the decoder (member functions switch on string(name), which does not
// allocate).
func (st *decodeState) unquoteName(name jsontext.Value) []byte {
	if bytes.IndexByte(name, '\\') < 0 {
		return name[1 : len(name)-1]
	}
	st.name, _ = jsontext.AppendUnquote(st.name[:0], name) // ReadValue validated it
	return st.name
}

// readString reads a string into dst (pending until the next flush).
func readString(dec *jsontext.Decoder, st *decodeState, dst *string) error {
	if dec.PeekKind() != '"' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	start := len(st.buf)
	if bytes.IndexByte(v, '\\') < 0 {
		st.buf = append(st.buf, v[1:len(v)-1]...)
	} else if st.buf, err = jsontext.AppendUnquote(st.buf, v); err != nil {
		return err
	}
	st.pending = append(st.pending, pendingString{dst: dst, start: start, end: len(st.buf)})
	return nil
}

// maxFastDigits is the longest integer readInt converts by itself: 18
// digits always fit an int64.
const maxFastDigits = 18

// readInt reads an integer into dst. Anything but a plain integer of at
// most maxFastDigits digits is converted (or refused) by json v2.
func readInt[I int | int64](dec *jsontext.Decoder, dst *I) error {
	if dec.PeekKind() != '0' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if n, ok := parseInt(v); ok {
		*dst = I(n)
		return nil
	}
	if err := jsonv2.Unmarshal(v, dst); err != nil {
		return pointAt(dec, err)
	}
	return nil
}

// parseInt converts a JSON number made of at most maxFastDigits digits and
// an optional minus sign.
func parseInt(v []byte) (int64, bool) {
	digits := v
	if len(v) > 0 && v[0] == '-' {
		digits = v[1:]
	}
	if len(digits) == 0 || len(digits) > maxFastDigits {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) != len(v) {
		n = -n
	}
	return n, true
}

// pointAt completes the error json v2 gave for a value already read from
// dec with the JSON pointer of that value, as json v2 gives it when it
// reads the value itself.
func pointAt(dec *jsontext.Decoder, err error) error {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) && se.JSONPointer == "" {
		se.JSONPointer = dec.StackPointer()
	}
	return err
}

// readBool reads a boolean into dst.
func readBool(dec *jsontext.Decoder, dst *bool) error {
	if k := dec.PeekKind(); k != 't' && k != 'f' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	*dst = tok.Bool()
	return nil
}

// readBoolPtr reads an optional boolean into dst, taking a new target
// from the bools slab (null is nil).
func readBoolPtr(dec *jsontext.Decoder, st *decodeState, dst **bool) error {
	if k := dec.PeekKind(); k != 't' && k != 'f' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	if *dst == nil {
		*dst = st.bools.next()
	}
	return readBool(dec, *dst)
}

// readPtr reads an optional object into dst with decode, taking a new
// target from s (or from new when s is nil) when dst is nil (null is nil).
func readPtr[T any](dec *jsontext.Decoder, st *decodeState, dst **T, s *slab[T],
	decode func(*jsontext.Decoder, *decodeState, *T) error) error {
	if dec.PeekKind() != '{' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	switch {
	case *dst != nil:
	case s != nil:
		*dst = s.next()
	default:
		*dst = new(T)
	}
	return decode(dec, st, *dst)
}

// readRaw copies a value as it is sent, as json v2 does for a
// jsontext.Value (null is "null").
func readRaw(dec *jsontext.Decoder, dst *jsontext.Value) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*dst = append((*dst)[:0], v...)
	return nil
}

// readSlice reads an array into dst, decoding each element with decode
// (null is nil, [] is an empty slice, as with json v2). The pending
// strings are flushed after every element, before the slice can grow.
func readSlice[T any](dec *jsontext.Decoder, st *decodeState, dst *[]T,
	decode func(*jsontext.Decoder, *decodeState, *T) error) error {
	if dec.PeekKind() != '[' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	s := (*dst)[:0]
	if s == nil {
		s = []T{}
	}
	for dec.PeekKind() != ']' {
		var zero T
		s = append(s, zero)
		if err := decode(dec, st, &s[len(s)-1]); err != nil {
			return err
		}
		st.flush()
	}
	*dst = s
	_, err := dec.ReadToken()
	return err
}

// scratchPool keeps the scratch slices into which readEntities decodes.
type scratchPool[T any] struct{ sync.Pool }

// readEntities reads the entities array of a page into dst through a
// pooled scratch slice, so that dst is allocated once, at its final length
// (growing it one doubling at a time allocated 2.5 times the page).
func readEntities[T any](dec *jsontext.Decoder, st *decodeState, dst *[]T, pool *scratchPool[T],
	decode func(*jsontext.Decoder, *decodeState, *T) error) error {
	if dec.PeekKind() != '[' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	scratch, _ := pool.Get().(*[]T)
	if scratch == nil {
		scratch = new([]T)
	}
	defer func() {
		// Cleared to its capacity: a failed read leaves elements past
		// its length.
		clear((*scratch)[:cap(*scratch)])
		*scratch = (*scratch)[:0]
		pool.Put(scratch)
	}()
	if err := readSlice(dec, st, scratch, decode); err != nil {
		return err
	}
	*dst = append(make([]T, 0, len(*scratch)), *scratch...)
	return nil
}
