package graph

import (
	"context"
	"reflect"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/internal/jsonscan"
)

// The write phase of the direct executor: the selection and the data, in
// one pass, into one buffer, byte for byte what gqlgen would write. A
// non-null position holding null makes its parent null (the parent's bytes
// are cut off the buffer), up to the nearest nullable position, as the
// GraphQL specification says.

// pathStep is one step of the write phase's position: a field, or an index
// in a list.
type pathStep struct {
	object string
	field  *graphql.CollectedField // nil for a list index
	method bool
	index  int
}

// object writes an object; false when a non-null field of it is null (the
// object's bytes are then gone and the caller decides what null means).
func (r *run) object(p *objectPlan, obj reflect.Value, sel ast.SelectionSet, n *node) bool {
	c := r.collection(sel, p)
	if c.writes++; c.writes == 2 {
		c.prepare(p)
	}
	start := len(r.buf)
	r.buf = append(r.buf, '{')
	for i := range c.fields {
		f := &c.fields[i]
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		var fp *fieldPlan
		if c.plans != nil {
			r.buf = append(r.buf, c.keys[i]...)
			fp = c.plans[i]
		} else {
			r.buf = append(appendString(r.buf, f.Alias), ':')
			fp = p.fields[f.Name]
		}
		if f.Name == "__typename" {
			r.buf = appendString(r.buf, p.name)
			continue
		}
		r.path = append(r.path, pathStep{object: p.name, field: f, method: fp.method >= 0})
		ok := r.field(fp, obj, f, n.slot(f.Alias))
		r.path = r.path[:len(r.path)-1]
		if !ok {
			r.buf = r.buf[:start]
			return false
		}
	}
	r.buf = append(r.buf, '}')
	return true
}

// field writes one field's value.
func (r *run) field(fp *fieldPlan, obj reflect.Value, f *graphql.CollectedField, s *slot) bool {
	var kids []*node
	if s != nil {
		kids = s.kids
	}
	if fp.resolver == nil {
		return r.value(fp.out, r.read(obj, fp), f.Selections, kids)
	}
	if s.failed {
		// The resolver's error is in the response already.
		r.buf = append(r.buf, "null"...)
		return !fp.out.nonNull
	}
	if fp.out.nonNull && (!s.value.IsValid() || fp.out.ptr && s.value.IsNil()) {
		graphql.AddInvalidNullError(s.ctx, fp.out.gqlType)
		return false
	}
	return r.value(fp.out, s.value, f.Selections, kids)
}

// value writes a value of the plan's type.
func (r *run) value(vp *valuePlan, v reflect.Value, sel ast.SelectionSet, kids []*node) bool {
	if !v.IsValid() || vp.ptr && v.IsNil() {
		return r.null(vp)
	}
	if vp.ptr {
		v = v.Elem()
	}
	switch {
	case vp.elem != nil:
		if v.IsNil() && !vp.nonNull {
			r.buf = append(r.buf, "null"...)
			return true
		}
		return r.list(vp, v, sel, kids)
	case vp.object != nil:
		var n *node
		if len(kids) > 0 {
			n = kids[0]
		}
		if !r.object(vp.object, v, sel, n) {
			return r.nullBelow(vp)
		}
	case vp.scalar == stringScalar:
		r.buf = appendString(r.buf, v.String())
	case vp.scalar == enumScalar:
		// A schema enum name, which gqlgen writes with strconv.Quote: for
		// such names appendString writes the same bytes (and valid JSON
		// whatever the value; the mapping lets only schema values through).
		r.buf = appendString(r.buf, v.String())
	case vp.scalar == intScalar:
		r.buf = strconv.AppendInt(r.buf, v.Int(), 10)
	case vp.scalar == boolScalar:
		r.buf = strconv.AppendBool(r.buf, v.Bool())
	}
	return true
}

// list writes a list; a non-null item that is null makes the list null.
func (r *run) list(vp *valuePlan, v reflect.Value, sel ast.SelectionSet, kids []*node) bool {
	start := len(r.buf)
	r.buf = append(r.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		var k []*node
		if i < len(kids) {
			k = kids[i : i+1]
		}
		r.path = append(r.path, pathStep{index: i})
		ok := r.value(vp.elem, v.Index(i), sel, k)
		r.path = r.path[:len(r.path)-1]
		if !ok {
			r.buf = r.buf[:start]
			return r.nullBelow(vp)
		}
	}
	r.buf = append(r.buf, ']')
	return true
}

// null writes a null found at this position: an error when the position
// is non-null (the caller then makes its parent null).
func (r *run) null(vp *valuePlan) bool {
	if vp.nonNull {
		graphql.AddInvalidNullError(r.positionContext(), vp.gqlType)
		return false
	}
	r.buf = append(r.buf, "null"...)
	return true
}

// nullBelow handles a null that came up from below (its error already
// reported): null here if this position allows it, else further up.
func (r *run) nullBelow(vp *valuePlan) bool {
	if vp.nonNull {
		return false
	}
	r.buf = append(r.buf, "null"...)
	return true
}

// positionContext rebuilds the field contexts of the write position, for
// an error's path. Only the error path pays for it.
func (r *run) positionContext() context.Context {
	ctx := r.ctx
	for _, st := range r.path {
		fc := &graphql.FieldContext{Object: st.object, IsMethod: st.method}
		if st.field != nil {
			fc.Field = *st.field
		} else {
			i := st.index
			fc.Index = &i
		}
		ctx = graphql.WithFieldContext(ctx, fc)
	}
	return ctx
}

// appendString appends s as a JSON string, escaped byte for byte as
// gqlgen's MarshalString escapes it: quotes, backslashes and the control
// characters 0x00-0x1F (\t, \r, \n by name, the others as \u00XX with
// upper-case hex digits); every other byte as it is (0x7F, U+2028 and
// U+2029 are valid in a JSON string; the upstream decoders make every
// string valid UTF-8).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; ; {
		j := jsonscan.PlainRun(s, i)
		buf = append(buf, s[i:j]...)
		if j == len(s) {
			return append(buf, '"')
		}
		switch c := s[j]; c {
		case '\t':
			buf = append(buf, `\t`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '"':
			buf = append(buf, `\"`...)
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i = j + 1
	}
}

// hexDigits are gqlgen's (graphql.MarshalString).
const hexDigits = "0123456789ABCDEF"
