package genesys

import (
	"bytes"
	"encoding/binary"
	"sync"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/groupdir/gateway/upstream"
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
// A value of an unexpected JSON kind is type drift (upstream.Tolerant):
// the readers here drop it (or read a string sent for an integer) and
// report it, as the generic path does for every other type, so that both
// give the same values and the same reports (see unmarshal_test.go).
// Invalid UTF-8 in a string is mangled as U+FFFD, as json v2 does with
// jsontext.AllowInvalidUTF8: an SDK-like leniency that also keeps every
// string the gateway serves valid UTF-8.

// allowDuplicateNames lets a repeated member name through (the last one
// wins), as encoding/json and the Genesys SDKs' decoders do, rather than
// failing the whole page: a quirk of the upstream must not become an
// outage. Tracking the names of every object was 10-15 % of a page's
// decoding.
var allowDuplicateNames = jsontext.AllowDuplicateNames(true)

// lenient are the options of every decoding, by hand or not: duplicate
// names and invalid UTF-8 let through.
var lenient = jsonv2.JoinOptions(allowDuplicateNames, jsontext.AllowInvalidUTF8(true))

// newUnmarshalOptions returns the options that decode the hot types by
// hand, reading only f's members of users and groups, and every other
// type with json v2 made tolerant; drifted members go to report.
func newUnmarshalOptions(f Fields, report func(field string)) jsonv2.Options {
	return jsonv2.JoinOptions(lenient, jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
		jsonv2.UnmarshalFromFunc(entry(decodeUserPage, f, report)),
		jsonv2.UnmarshalFromFunc(entry(decodeGroupPage, f, report)),
		jsonv2.UnmarshalFromFunc(entry(decodeSearchPage, f, report)),
		jsonv2.UnmarshalFromFunc(entry(decodeUser, f, report)),
		jsonv2.UnmarshalFromFunc(entry(decodeGroup, f, report)),
		upstream.Tolerant(report),
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
	// report is told of each drifted member.
	report func(field string)

	bools         slab[bool]
	divisions     slab[Division]
	chats         slab[Chat]
	contacts      slab[Contact]
	images        slab[Image]
	groupContacts slab[GroupContact]
	owners        slab[User]
	expansions    slab[UserExpansions]

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
		expansions: slab[UserExpansions]{size: 16},
	}
}}

// entry adapts the decoding function of a T to json v2's unmarshalers: it
// decodes a JSON object with a pooled decodeState and leaves every other
// kind of value to the next unmarshaler (jsonv2.SkipFunc).
func entry[T any](decode func(*jsontext.Decoder, *decodeState, *T) error, f Fields,
	report func(string)) func(*jsontext.Decoder, *T) error {
	return func(dec *jsontext.Decoder, v *T) error {
		if dec.PeekKind() != '{' {
			return jsonv2.SkipFunc
		}
		st := statePool.Get().(*decodeState)
		st.fields, st.report = f, report
		err := decode(dec, st, v)
		if err == nil {
			st.flush()
		}
		st.reset()
		st.trim()
		st.report = nil
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
// must read that value. A value that is not an object goes to json v2
// (tolerant: drift when not null).
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
	_, err := readText(dec, st, dst)
	return err
}

// readEnum is readString for a member whose documented values known
// accepts: another value is kept and reported as drift.
func readEnum(dec *jsontext.Decoder, st *decodeState, dst *string, known func([]byte) bool) error {
	b, err := readText(dec, st, dst)
	if err == nil && b != nil && !known(b) {
		st.report(upstream.DriftField(dec))
	}
	return err
}

// readText is readString; it returns the unquoted bytes of the string
// (valid until the next read), or nil when there was no string: a null
// reads as "", any other value as "" and drift.
func readText(dec *jsontext.Decoder, st *decodeState, dst *string) ([]byte, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	if v.Kind() != '"' {
		*dst = ""
		st.drifted(dec, v)
		return nil, nil
	}
	return st.pend(dst, v), nil
}

// pend makes the string quoted (checked to be a valid JSON string) pending
// for dst and returns its unquoted bytes (valid until the next read).
func (st *decodeState) pend(dst *string, quoted []byte) []byte {
	if raw := quoted[1 : len(quoted)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return st.pendPlain(dst, raw)
	}
	p := pendingString{dst: dst, start: len(st.buf)}
	// The string was checked: the only error left is invalid UTF-8,
	// which AppendUnquote mangles as json v2 does.
	st.buf, _ = jsontext.AppendUnquote(st.buf, quoted)
	p.end = len(st.buf)
	st.pending = append(st.pending, p)
	return st.buf[p.start:p.end]
}

// pendPlain is pend of a string whose bytes, raw, are its value (no
// escape, valid UTF-8), as the fast decoding knows from its scan.
func (st *decodeState) pendPlain(dst *string, raw []byte) []byte {
	p := pendingString{dst: dst}
	p.start, p.end = st.intern(raw)
	st.pending = append(st.pending, p)
	return st.buf[p.start:p.end]
}

// drifted reports the value v just read from dec, unless it is null.
func (st *decodeState) drifted(dec *jsontext.Decoder, v jsontext.Value) {
	if v.Kind() != 'n' {
		st.report(upstream.DriftField(dec))
	}
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

// maxFastDigits is the longest integer readInt converts by itself: 9
// digits always fit GraphQL's Int (see upstream.Integer).
const maxFastDigits = 9

// readInt reads an integer into dst. Anything but a plain integer of at
// most maxFastDigits digits goes to upstream.Integer: a string holding an
// integer, or drift (0).
func readInt[I int | int64](dec *jsontext.Decoder, st *decodeState, dst *I) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if n, ok := parseInt(v); ok {
		*dst = I(n)
		return nil
	}
	n, _, drift := upstream.Integer(v)
	*dst = I(n)
	if drift {
		st.report(upstream.DriftField(dec))
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

// readBool reads a boolean into dst (null and drift: false).
func readBool(dec *jsontext.Decoder, st *decodeState, dst *bool) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*dst = v.Kind() == 't'
	if v.Kind() != 't' && v.Kind() != 'f' {
		st.drifted(dec, v)
	}
	return nil
}

// readBoolPtr reads an optional boolean into dst, taking a new target
// from the bools slab (null and drift: nil).
func readBoolPtr(dec *jsontext.Decoder, st *decodeState, dst **bool) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if v.Kind() != 't' && v.Kind() != 'f' {
		*dst = nil
		st.drifted(dec, v)
		return nil
	}
	if *dst == nil {
		*dst = st.bools.next()
	}
	**dst = v.Kind() == 't'
	return nil
}

// readPtr reads an optional object into dst with decode, taking a new
// target from s (or from new when s is nil) when dst is nil (null and
// drift are nil).
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
// (null and drift are nil, [] is an empty slice, as with json v2). The elements are
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
