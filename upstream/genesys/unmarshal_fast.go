package genesys

import (
	"unicode/utf8"

	"github.com/groupdir/gateway/internal/jsonscan"
)

// The fast decoding of a page of users whose caller reads only some of
// their plain members (WithFields), as a query showing members' names and
// e-mails does. The decoding through jsontext (unmarshal.go) reads every
// member token by token, the skipped ones too: on such a page most of the
// time went on skipping. Here one pass over the bytes checks the syntax,
// skips the members nobody reads and reads the others into the same values,
// with the same decodeState (strings made by one allocation, pointers
// carved from slabs, entities copied once at their final length).
//
// It gives up, and the caller decodes the page the usual way, at anything
// it does not handle exactly as that decoding does: a body that is not
// valid JSON, a member read whose value has an unexpected type or an
// unknown enumeration value (type drift, which the usual way reports), an
// escaped member name, a number that is not a plain integer, deep nesting.
// So it only ever gives the values the usual way gives (see
// unmarshal_fast_test.go).

// The bits (Fields.users) of the members the fast decoding reads; id is
// always read.
var (
	uName, uDivision, uChat, uDepartment    = userBits["name"], userBits["division"], userBits["chat"], userBits["department"]
	uEmail, uState, uTitle, uUsername       = userBits["email"], userBits["state"], userBits["title"], userBits["username"]
	uVersion, uPreferredName, uAcdAutoAns   = userBits["version"], userBits["preferredName"], userBits["acdAutoAnswer"]
	uLanguagePref, uDateLastLogin, uWelcome = userBits["languagePreference"], userBits["dateLastLogin"], userBits["dateWelcomeSent"]
	uSelfURI                                = userBits["selfUri"]

	fastUserFields = userBits["id"] | uName | uDivision | uChat | uDepartment | uEmail | uState | uTitle | uUsername |
		uVersion | uPreferredName | uAcdAutoAns | uLanguagePref | uDateLastLogin | uWelcome | uSelfURI
)

// maxFastDepth is the deepest nesting the fast decoding follows.
const maxFastDepth = 64

// fastUserPage decodes body, a JSON object, into l when f reads only
// members in fastUserFields, and reports whether it did; when it did not, l
// is unchanged. size is the page size the request asked for (0: unknown).
func fastUserPage(body []byte, f Fields, size int, l *UserEntityListing) bool {
	if f.users == 0 || f.users&^fastUserFields != 0 {
		return false
	}
	s := newFastScan(body, f, size)
	var out UserEntityListing
	ok := s.page(func(name []byte) bool { return s.userPageMember(&out, name) })
	return done(&s, ok, &out, l)
}

// newFastScan returns a scan of body, a page of size entities (0:
// unknown), reading f's members with a pooled decodeState.
func newFastScan(body []byte, f Fields, size int) fastScan {
	st := statePool.Get().(*decodeState)
	st.fields = f
	return fastScan{Scanner: jsonscan.Scanner{B: body}, st: st, size: min(max(size, 0), maxPooledEntities)}
}

// page reads the whole body, a JSON object, calling member with each
// member's name, positioned at its value, which member reads.
func (s *fastScan) page(member func(name []byte) bool) bool {
	return s.Peek() == '{' && s.object(member) && s.End()
}

// done ends the scan of a page read into out, putting its state back into
// the pool: when ok, the page's strings are made and out is stored into l.
// It returns ok.
func done[L any](s *fastScan, ok bool, out, l *L) bool {
	if ok {
		s.st.flush()
		*l = *out
	}
	s.st.reset()
	s.st.trim()
	statePool.Put(s.st)
	s.st = nil
	return ok
}

// fastScan is a position in the body being decoded.
type fastScan struct {
	jsonscan.Scanner
	depth int
	st    *decodeState
	// size is the page size asked for, the entities' likely number (0:
	// unknown).
	size int
}

// str reads a string (the next byte is its quote) and returns its quoted
// bytes, whether it holds an escape and whether it is plain (no escape,
// only ASCII: its bytes are its value). Invalid UTF-8 is let through, as
// the usual decoding allows it.
func (s *fastScan) str() (quoted []byte, escaped, plain, ok bool) {
	start, i := s.I, s.I+1
	ascii := true
	for {
		if i = jsonscan.PlainASCIIRun(s.B, i); i == len(s.B) {
			return nil, false, false, false
		}
		switch c := s.B[i]; {
		case c == '"':
			s.I = i + 1
			return s.B[start:s.I], escaped, ascii && !escaped, true
		case c >= utf8.RuneSelf:
			ascii = false
			i = jsonscan.PlainRun(s.B, i+1)
			continue
		case c < ' ':
			return nil, false, false, false
		}
		escaped = true
		if i+1 >= len(s.B) {
			return nil, false, false, false
		}
		switch s.B[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(s.B) || !isHex(s.B[i+2]) || !isHex(s.B[i+3]) || !isHex(s.B[i+4]) || !isHex(s.B[i+5]) {
				return nil, false, false, false
			}
			i += 6
		default:
			return nil, false, false, false
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skip reads a value of any kind.
func (s *fastScan) skip() bool {
	switch s.Peek() {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{':
		return s.object(func([]byte) bool { return s.skip() })
	case '[':
		return s.array(s.skip)
	case 't':
		return s.Literal("true")
	case 'f':
		return s.Literal("false")
	case 'n':
		return s.Literal("null")
	}
	_, ok := s.Number()
	return ok
}

// object reads an object (the next byte is its brace), calling member
// with each member's name, positioned at its value, which member reads.
// A name with an escape gives up.
func (s *fastScan) object(member func(name []byte) bool) bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.I++
	if s.Peek() == '}' {
		s.I++
		s.depth--
		return true
	}
	for {
		if s.Peek() != '"' {
			return false
		}
		name, escaped, _, ok := s.str()
		if !ok || escaped || s.Peek() != ':' {
			return false
		}
		s.I++
		if !member(name[1 : len(name)-1]) {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case '}':
			s.I++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array (the next byte is its bracket), calling elem at
// each element, which elem reads.
func (s *fastScan) array(elem func() bool) bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.I++
	if s.Peek() == ']' {
		s.I++
		s.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case ']':
			s.I++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// text reads a string into dst (pending until the state's flush) and
// returns its unquoted bytes; null reads as "" (nil bytes). Another kind
// gives up.
func (s *fastScan) text(dst *string) ([]byte, bool) {
	switch s.Peek() {
	case 'n':
		*dst = ""
		return nil, s.Literal("null")
	case '"':
	default:
		return nil, false
	}
	quoted, _, plain, ok := s.str()
	if !ok {
		return nil, false
	}
	if plain {
		return s.st.pendPlain(dst, quoted[1:len(quoted)-1]), true
	}
	return s.st.pend(dst, quoted), true
}

// string is text without the bytes.
func (s *fastScan) string(dst *string) bool {
	_, ok := s.text(dst)
	return ok
}

// int reads a plain integer of at most maxFastDigits digits into dst.
func (s *fastScan) int(dst *int) bool {
	n, ok := s.int64()
	*dst = int(n)
	return ok
}

func (s *fastScan) int64() (int64, bool) {
	if c := s.Peek(); c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	v, ok := s.Number()
	if !ok {
		return 0, false
	}
	return parseInt(v)
}

func (s *fastScan) userPageMember(l *UserEntityListing, name []byte) bool {
	if string(name) == "entities" {
		return fastEntities(s, &l.Entities, &s.st.users, s.userMember)
	}
	return s.pageMember(&l.Page, name)
}

// pageMember reads a member of a page's envelope, and skips any other.
func (s *fastScan) pageMember(p *Page, name []byte) bool {
	var ok bool
	switch string(name) {
	case "pageSize":
		return s.int(&p.PageSize)
	case "pageNumber":
		return s.int(&p.PageNumber)
	case "total":
		p.Total, ok = s.int64()
		return ok
	case "pageCount":
		return s.int(&p.PageCount)
	case "firstUri":
		return s.string(&p.FirstURI)
	case "previousUri":
		return s.string(&p.PreviousURI)
	case "nextUri":
		return s.string(&p.NextURI)
	case "lastUri":
		return s.string(&p.LastURI)
	case "selfUri":
		return s.string(&p.SelfURI)
	}
	return s.skip()
}

// fastEntities reads the entities array of a page, each entity an object
// whose members member reads. With the page size asked for, the entities
// are read into a slice of that capacity, which becomes the answer's (no
// copy), unless the page holds less than half of it; otherwise they are
// read through the state's scratch and copied into a slice of their final
// length, as readEntities does.
func fastEntities[T any](s *fastScan, dst *[]T, scratch *[]T, member func(*T, []byte) bool) bool {
	switch s.Peek() {
	case 'n':
		*dst = nil
		return s.Literal("null")
	case '[':
	default:
		return false
	}
	st := s.st
	elems := (*scratch)[:0]
	if s.size > 0 {
		elems = make([]T, 0, s.size)
	}
	ok := s.array(func() bool {
		if s.Peek() != '{' {
			return false
		}
		if len(elems) == cap(elems) {
			st.flush() // the entities are about to move
		}
		var zero T
		elems = append(elems, zero)
		e := &elems[len(elems)-1]
		return s.object(func(name []byte) bool { return member(e, name) })
	})
	if ok {
		st.flush()
		if s.size > 0 && len(elems) >= cap(elems)/2 {
			*dst = elems
		} else {
			*dst = append(make([]T, 0, len(elems)), elems...)
		}
	}
	if s.size == 0 {
		// Cleared to its capacity: a failed read leaves elements past
		// its length.
		clear(elems[:cap(elems)])
		*scratch = elems[:0]
	}
	return ok
}

// userMember reads a member of a user when f reads it, and otherwise
// skips it (a switch rather than skipUser's map lookup per name).
func (s *fastScan) userMember(u *User, name []byte) bool {
	read := s.st.fields.users
	switch string(name) {
	case "id":
		return s.string(&u.ID)
	case "name":
		if read&uName != 0 {
			return s.string(&u.Name)
		}
	case "division":
		if read&uDivision != 0 {
			return fastPtr(s, &u.Division, &s.st.divisions, s.division)
		}
	case "chat":
		if read&uChat != 0 {
			return fastPtr(s, &u.Chat, &s.st.chats, s.chat)
		}
	case "department":
		if read&uDepartment != 0 {
			return s.string(&u.Department)
		}
	case "email":
		if read&uEmail != 0 {
			return s.string(&u.Email)
		}
	case "state":
		if read&uState != 0 {
			b, ok := s.text((*string)(&u.State))
			return ok && (b == nil || knownState(b))
		}
	case "title":
		if read&uTitle != 0 {
			return s.string(&u.Title)
		}
	case "username":
		if read&uUsername != 0 {
			return s.string(&u.Username)
		}
	case "version":
		if read&uVersion != 0 {
			return s.int(&u.Version)
		}
	case "preferredName":
		if read&uPreferredName != 0 {
			return s.string(&u.PreferredName)
		}
	case "acdAutoAnswer":
		if read&uAcdAutoAns != 0 {
			return s.boolPtr(&u.AcdAutoAnswer)
		}
	case "languagePreference":
		if read&uLanguagePref != 0 {
			return s.string(&u.LanguagePreference)
		}
	case "dateLastLogin":
		if read&uDateLastLogin != 0 {
			return s.string(&u.DateLastLogin)
		}
	case "dateWelcomeSent":
		if read&uWelcome != 0 {
			return s.string(&u.DateWelcomeSent)
		}
	case "selfUri":
		if read&uSelfURI != 0 {
			return s.string(&u.SelfURI)
		}
	}
	return s.skip()
}

// fastPtr reads an optional object into dst, as readPtr does: null is
// nil, an object is read by decode into *dst, taken from sl when nil.
func fastPtr[T any](s *fastScan, dst **T, sl *slab[T], decode func(*T) bool) bool {
	switch s.Peek() {
	case 'n':
		*dst = nil
		return s.Literal("null")
	case '{':
	default:
		return false
	}
	if *dst == nil {
		*dst = sl.next()
	}
	return decode(*dst)
}

func (s *fastScan) division(d *Division) bool {
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "id":
			return s.string(&d.ID)
		case "name":
			return s.string(&d.Name)
		case "selfUri":
			return s.string(&d.SelfURI)
		}
		return s.skip()
	})
}

func (s *fastScan) chat(c *Chat) bool {
	return s.object(func(name []byte) bool {
		if string(name) == "jabberId" {
			return s.string(&c.JabberID)
		}
		return s.skip()
	})
}

// boolPtr reads an optional boolean, as readBoolPtr does.
func (s *fastScan) boolPtr(dst **bool) bool {
	switch s.Peek() {
	case 'n':
		*dst = nil
		return s.Literal("null")
	case 't', 'f':
	default:
		return false
	}
	v := s.B[s.I] == 't'
	if !s.Literal("true") && !s.Literal("false") {
		return false
	}
	if *dst == nil {
		*dst = s.st.bools.next()
	}
	**dst = v
	return true
}
