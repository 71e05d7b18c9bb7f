package genesys

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The hand-written decoding of the hot answer types (pages of users, of
// groups and of group search results): json v2's reflection spends much of a page's decoding time on
// looking up member names and on allocating every pointer field, string and
// small slice on its own, and it grows the entities slice one doubling at a
// time (2.5 times the final slice). The functions here read the same tokens
// and give exactly the values plain json v2 gives (see unmarshal_test.go),
// with:
//   - the strings of a page made by one allocation (they are collected and
//     made when the page is done, or before a slice holding one would move);
//   - pointer targets and small slices carved from slabs;
//   - the entities decoded into a reused scratch slice, then copied into a
//     slice of their final length.
//
// Every value that is not of the expected JSON kind (null, a string for a
// number, a fractional number for an int...) is handed to json v2 itself,
// so that it is decoded, or reported with its JSON pointer, exactly as
// before.

// unmarshalOptions are the options with which the client decodes every
// answer that reads all members; they are built once (see optionsFor for
// the others).
var unmarshalOptions = newUnmarshalOptions(Fields{})

// allowDuplicateNames lets a repeated member name through (the last one
// wins), as encoding/json and the Genesys SDKs' decoders do, rather than
// failing the whole page: a quirk of the upstream must not become an
// outage. Tracking the names of every object was 10-15 % of a page's
// decoding.
var allowDuplicateNames = jsontext.AllowDuplicateNames(true)

// newUnmarshalOptions returns the options that decode the hot types by
// hand, reading only f's members of users and groups.
func newUnmarshalOptions(f Fields) jsonv2.Options {
	return jsonv2.JoinOptions(allowDuplicateNames, jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
		jsonv2.UnmarshalFromFunc(entry(decodeUserPage, f)),
		jsonv2.UnmarshalFromFunc(entry(decodeGroupPage, f)),
		jsonv2.UnmarshalFromFunc(entry(decodeSearchPage, f)),
		jsonv2.UnmarshalFromFunc(entry(decodeUser, f)),
		jsonv2.UnmarshalFromFunc(entry(decodeGroup, f)),
	)))
}

// slab hands out distinct values allocated size at a time. The values of a
// slab's chunk stay in memory as long as one of them is used: a slab is
// only for the small parts of an answer.
type slab[T any] struct {
	free []T
	size int
}

// next returns a pointer to a new zero T.
func (s *slab[T]) next() *T {
	p := &s.room()[:1][0]
	s.free = s.free[1:]
	return p
}

// room returns a slice of length 0 whose capacity is the free values.
func (s *slab[T]) room() []T {
	if len(s.free) == 0 {
		s.free = make([]T, s.size)
	}
	return s.free[:0]
}

// take marks the first n values returned by room as used.
func (s *slab[T]) take(n int) { s.free = s.free[n:] }

// pendingString is a string field waiting for the strings to be made:
// buf[start:end] of its decodeState.
type pendingString struct {
	dst        *string
	start, end int
}

// decodeState is what one decoding call shares between the objects it
// decodes. States are pooled with their buffers, scratch slices and slabs.
type decodeState struct {
	// buf holds the unquoted bytes of the pending strings.
	buf     []byte
	pending []pendingString
	// raw is the chunk copyRaw carves from.
	raw []byte
	// seen is where some of the pending strings are, by stringHash.
	seen [256]span
	// name holds an unquoted member name that had escapes.
	name []byte
	// fields are the members of users and groups to decode.
	fields Fields

	bools         slab[bool]
	divisions     slab[Division]
	chats         slab[Chat]
	contacts      slab[Contact]
	images        slab[Image]
	groupContacts slab[GroupContact]
	owners        slab[User]

	// users and groups are the scratch of readEntities.
	users  []User
	groups []Group
}

// Limits of what a pooled state keeps: a larger buffer or scratch (an
// answer of several MiB) is dropped rather than held by the pool.
const (
	maxPooledBytes    = 1 << 20
	maxPooledPending  = 1 << 14
	maxPooledEntities = 1000
)

var statePool = sync.Pool{New: func() any {
	return &decodeState{
		bools: slab[bool]{size: 64}, divisions: slab[Division]{size: 32}, chats: slab[Chat]{size: 64},
		contacts: slab[Contact]{size: 32}, images: slab[Image]{size: 16},
		groupContacts: slab[GroupContact]{size: 32}, owners: slab[User]{size: 8},
	}
}}

// entry adapts the decoding function of a T to json v2's unmarshalers: it
// decodes a JSON object with a pooled decodeState and leaves every other
// kind of value to json v2 (jsonv2.SkipFunc).
func entry[T any](decode func(*jsontext.Decoder, *decodeState, *T) error, f Fields) func(*jsontext.Decoder, *T) error {
	return func(dec *jsontext.Decoder, v *T) error {
		if dec.PeekKind() != '{' {
			return jsonv2.SkipFunc
		}
		st := statePool.Get().(*decodeState)
		st.fields = f
		err := decode(dec, st, v)
		if err == nil {
			st.flush()
		}
		st.reset()
		st.trim()
		statePool.Put(st)
		return err
	}
}

// flush makes the pending strings, all with one allocation, and stores
// them into their fields. It must run before a field with a pending string
// can move (an element of a slice that grows).
func (st *decodeState) flush() {
	if len(st.pending) == 0 {
		return
	}
	s := string(st.buf)
	for _, p := range st.pending {
		*p.dst = s[p.start:p.end]
	}
	st.reset()
}

// reset drops the pending strings (made or abandoned).
func (st *decodeState) reset() {
	clear(st.pending)
	clear(st.seen[:])
	st.buf, st.pending = st.buf[:0], st.pending[:0]
}

// trim drops the buffers and scratch slices that are over the pool's
// limits.
func (st *decodeState) trim() {
	if cap(st.buf) > maxPooledBytes || cap(st.pending) > maxPooledPending {
		st.buf, st.pending = nil, nil
	}
	if cap(st.users) > maxPooledEntities {
		st.users = nil
	}
	if cap(st.groups) > maxPooledEntities {
		st.groups = nil
	}
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
	v, err := dec.ReadValue()
	if err != nil || v.Kind() != '"' {
		return fallback(dec, v, err, dst)
	}
	p := pendingString{dst: dst}
	if bytes.IndexByte(v, '\\') < 0 {
		p.start, p.end = st.intern(v[1 : len(v)-1])
	} else {
		p.start = len(st.buf)
		if st.buf, err = jsontext.AppendUnquote(st.buf, v); err != nil {
			return err
		}
		p.end = len(st.buf)
	}
	st.pending = append(st.pending, p)
	return nil
}

// fallback decodes v, just read from dec, into dst with json v2 (a null,
// or a value of an unexpected kind), and completes json v2's error with
// v's JSON pointer, as json v2 gives it when it reads the value itself.
// err is the error of the read, returned as it is.
func fallback(dec *jsontext.Decoder, v jsontext.Value, err error, dst any) error {
	if err != nil {
		return err
	}
	err = jsonv2.Unmarshal(v, dst)
	var se *jsonv2.SemanticError
	if errors.As(err, &se) && se.JSONPointer == "" {
		se.JSONPointer = dec.StackPointer()
	}
	return err
}

// maxInterned is the longest string intern looks for among the pending
// ones (as json v2's own string cache).
const maxInterned = 256

// span is where a pending string is in a decodeState's buf.
type span struct{ start, end int }

// intern returns where b is in buf: where an equal pending string already
// is (a page repeats its division, state, contact types...), or where it
// is appended.
func (st *decodeState) intern(b []byte) (start, end int) {
	var slot *span
	if len(b) <= maxInterned {
		slot = &st.seen[stringHash(b)%uint32(len(st.seen))]
		if slot.end-slot.start == len(b) && string(st.buf[slot.start:slot.end]) == string(b) {
			return slot.start, slot.end
		}
	}
	start = len(st.buf)
	st.buf = append(st.buf, b...)
	if slot != nil {
		*slot = span{start, len(st.buf)}
	}
	return start, len(st.buf)
}

// stringHash hashes the length and the first and last bytes of b.
func stringHash(b []byte) uint32 {
	h := uint32(len(b)) * 0x9e3779b1
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint32(b) * 0x85ebca77
		h ^= binary.LittleEndian.Uint32(b[len(b)-4:]) * 0xc2b2ae3d
	} else {
		for _, c := range b {
			h = (h ^ uint32(c)) * 0x27d4eb2f
		}
	}
	return h ^ h>>15
}

// maxFastDigits is the longest integer readInt converts by itself: 18
// digits always fit an int64.
const maxFastDigits = 18

// readInt reads an integer into dst. Anything but a plain integer of at
// most maxFastDigits digits is converted (or refused) by json v2.
func readInt[I int | int64](dec *jsontext.Decoder, dst *I) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if n, ok := parseInt(v); ok {
		*dst = I(n)
		return nil
	}
	return fallback(dec, v, nil, dst)
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

// readBool reads a boolean into dst.
func readBool(dec *jsontext.Decoder, dst *bool) error {
	v, err := dec.ReadValue()
	if err != nil || (v.Kind() != 't' && v.Kind() != 'f') {
		return fallback(dec, v, err, dst)
	}
	*dst = v.Kind() == 't'
	return nil
}

// readBoolPtr reads an optional boolean into dst, taking a new target
// from the bools slab (null is nil).
func readBoolPtr(dec *jsontext.Decoder, st *decodeState, dst **bool) error {
	v, err := dec.ReadValue()
	if err != nil || (v.Kind() != 't' && v.Kind() != 'f') {
		return fallback(dec, v, err, dst)
	}
	if *dst == nil {
		*dst = st.bools.next()
	}
	**dst = v.Kind() == 't'
	return nil
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
func readRaw(dec *jsontext.Decoder, st *decodeState, dst *jsontext.Value) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*dst = st.copyRaw(v)
	return nil
}

// rawChunk is the size of the chunks copyRaw carves raw values from; a
// value larger than a quarter of it gets its own allocation.
const rawChunk = 4096

// copyRaw returns a copy of v carved from the state's raw chunk, its
// capacity capped so that an append to it cannot reach another value.
func (st *decodeState) copyRaw(v []byte) []byte {
	if len(v) > rawChunk/4 {
		return bytes.Clone(v)
	}
	if cap(st.raw)-len(st.raw) < len(v) {
		st.raw = make([]byte, 0, rawChunk)
	}
	start := len(st.raw)
	st.raw = append(st.raw, v...)
	return st.raw[start:len(st.raw):len(st.raw)]
}

// readSlice reads an array into dst, decoding each element with decode
// (null is nil, [] is an empty slice, as with json v2). The elements are
// carved from s when s is not nil, and otherwise appended to (*dst)[:0].
func readSlice[T any](dec *jsontext.Decoder, st *decodeState, dst *[]T, s *slab[T],
	decode func(*jsontext.Decoder, *decodeState, *T) error) error {
	if dec.PeekKind() != '[' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	var elems []T
	if s != nil {
		elems = s.room()
	} else if elems = (*dst)[:0]; elems == nil {
		elems = []T{}
	}
	carved := s != nil
	for dec.PeekKind() != ']' {
		if len(elems) == cap(elems) {
			// The elements are about to move: their pending strings
			// must be made first.
			st.flush()
			carved = false
		}
		var zero T
		elems = append(elems, zero)
		if err := decode(dec, st, &elems[len(elems)-1]); err != nil {
			return err
		}
	}
	if carved {
		s.take(len(elems))
		elems = elems[:len(elems):len(elems)]
	}
	*dst = elems
	_, err := dec.ReadToken()
	return err
}

// readEntities reads the entities array of a page into dst through the
// scratch slice, so that dst is allocated once, at its final length.
func readEntities[T any](dec *jsontext.Decoder, st *decodeState, dst *[]T, scratch *[]T,
	decode func(*jsontext.Decoder, *decodeState, *T) error) error {
	if dec.PeekKind() != '[' {
		return jsonv2.UnmarshalDecode(dec, dst)
	}
	elems := *scratch
	defer func() {
		// Cleared to its capacity: a failed read leaves elements past its
		// length.
		clear(elems[:cap(elems)])
		*scratch = elems[:0]
	}()
	if err := readSlice(dec, st, &elems, nil, decode); err != nil {
		return err
	}
	st.flush()
	*dst = append(make([]T, 0, len(elems)), elems...)
	return nil
}
