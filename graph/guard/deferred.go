package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Incremental delivery of @defer.
//
// gqlgen's executor answers an operation with deferred fragments with an
// initial response and one incremental response per deferred fragment and
// object. A client that accepts multipart/mixed gets them as they come, in
// the format of the 2022-08-24 @defer proposal that Apollo Client
// (Defer20220824Handler) and urql read: parts of a multipart/mixed
// body, the first {"data", "hasNext": true}, the next ones {"incremental":
// [{"data", "path", "label", "errors"}], "hasNext"}. Any other client gets
// one ordinary response with the deferred data merged in.
//
// gqlgen writes a deferred field into the initial data as a null, even a
// non-null one; the proposal leaves it out. So every payload is rewritten
// with the operation's selection: deferred fields are dropped (or, when
// merging, replaced by their value at the same place).

// mediaMultipartMixed is the incremental delivery media type.
const mediaMultipartMixed = "multipart/mixed"

// multipartBoundary separates the parts; Apollo Client and urql default to
// it too.
const multipartBoundary = "-"

// acceptsMultipart reports whether the Accept header lists multipart/mixed
// (with any parameters, deferSpec among them) with a non-zero weight.
func acceptsMultipart(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != mediaMultipartMixed {
			continue
		}
		if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q == 0 {
			continue
		}
		return true
	}
	return false
}

// incremental is one payload of the incremental part of a response.
type incremental struct {
	Data       json.RawMessage `json:"data"`
	Path       ast.Path        `json:"path"`
	Label      string          `json:"label,omitempty"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// subsequent is a multipart part after the first.
type subsequent struct {
	Incremental []incremental `json:"incremental"`
	HasNext     bool          `json:"hasNext"`
}

// deliverDeferred answers an operation whose first response has deferred
// payloads to follow: streamed as multipart/mixed parts, or merged into one
// response for a client that does not accept them.
func deliverDeferred(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request, s *shape,
	first *graphql.Response, next graphql.ResponseHandler) {
	rest := make(chan *graphql.Response)
	stop := make(chan struct{})
	defer close(stop)
	// gqlgen's response handler blocks until the next deferred result; read
	// it from another goroutine so that a client gone or a deadline passed
	// ends the request.
	go func() {
		defer close(rest)
		for {
			resp := next(ctx)
			if resp == nil {
				return
			}
			select {
			case rest <- resp:
			case <-stop:
				return
			}
		}
	}()
	receive := func() (*graphql.Response, bool) {
		select {
		case resp, ok := <-rest:
			return resp, ok
		case <-ctx.Done():
			return nil, false
		}
	}
	if !acceptsMultipart(r.Header.Get("Accept")) {
		writeMerged(w, req.media, s, first, receive)
		return
	}
	streamMultipart(w, s, first, receive)
}

// streamMultipart writes each payload as a multipart/mixed part as soon as
// it is ready.
func streamMultipart(w http.ResponseWriter, s *shape, first *graphql.Response, receive func() (*graphql.Response, bool)) {
	flush := http.NewResponseController(w).Flush
	h := w.Header()
	h.Set("Content-Type", mediaMultipartMixed+`; boundary="`+multipartBoundary+`"; deferSpec=20220824`)
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	writePart := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(internalEncodingError)
		}
		_, _ = fmt.Fprintf(w, "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n%s\r\n--%s", b, multipartBoundary)
		_ = flush()
	}
	_, _ = w.Write([]byte("\r\n--" + multipartBoundary))
	first.Data = s.rewrite(first.Data, nil, nil)
	writePart(first)
	for hasNext := true; hasNext; {
		resp, ok := receive()
		if !ok {
			break
		}
		hasNext = resp.HasNext != nil && *resp.HasNext
		writePart(subsequent{Incremental: []incremental{{Data: s.rewrite(resp.Data, resp.Path, nil),
			Path: resp.Path, Label: resp.Label, Errors: resp.Errors, Extensions: resp.Extensions}}, HasNext: hasNext})
	}
	_, _ = w.Write([]byte("--\r\n"))
	_ = flush()
}

// writeMerged waits for every payload and writes one response with the
// deferred data in place.
func writeMerged(w http.ResponseWriter, media string, s *shape, first *graphql.Response, receive func() (*graphql.Response, bool)) {
	patches := map[string]map[string]jsontext.Value{}
	for {
		resp, ok := receive()
		if !ok {
			break
		}
		first.Errors = append(first.Errors, resp.Errors...)
		if resp.Extensions != nil {
			first.Extensions = resp.Extensions // the cost so far
		}
		members, err := objectMembers(resp.Data)
		if err != nil {
			continue // a null payload: its fragment failed, as its errors say
		}
		key := pathString(resp.Path)
		if patches[key] == nil {
			patches[key] = map[string]jsontext.Value{}
		}
		for _, m := range members {
			patches[key][m.name] = m.value
		}
	}
	first.Data = s.rewrite(first.Data, nil, patches)
	first.HasNext = nil
	writeResponse(w, media, first)
}

// shape knows, for the objects of one operation's response, which members
// are deferred fields.
type shape struct {
	opCtx  *graphql.OperationContext
	schema *ast.Schema
	// deferrable are the fields the executor defers, as "Type.field".
	deferrable map[string]bool
}

// field is a collected field of a response object; placeholder says the
// executor wrote null in its place and sends its value later.
type field struct {
	graphql.CollectedField
	placeholder bool
}

// member is one member of a JSON object.
type member struct {
	name  string
	value jsontext.Value
}

// rewrite returns data (the object at path, the root when path is empty)
// without the deferred fields' placeholders, or with their values from
// patches (by path, then response name) when there are some. The members
// of an incremental payload's own object are its deferred fields' values
// and are kept. Data that cannot be read is returned as it is.
func (s *shape) rewrite(data json.RawMessage, path ast.Path, patches map[string]map[string]jsontext.Value) json.RawMessage {
	sel, def := s.opCtx.Operation.SelectionSet, s.schema.Query
	for _, step := range path {
		name, ok := step.(ast.PathName)
		if !ok {
			continue // a list index: same selection, same type
		}
		fields, err := s.fields(sel, def, nil)
		f, ok := fields[string(name)]
		if err != nil || !ok {
			return data
		}
		sel, def = f.Selections, s.typeOf(f.CollectedField)
	}
	out, err := s.object(jsontext.Value(data), sel, def, path, patches, len(path) > 0)
	if err != nil {
		return data
	}
	return json.RawMessage(out)
}

// value rewrites a field's value: objects and lists of them.
func (s *shape) value(v jsontext.Value, sel ast.SelectionSet, def *ast.Definition, path ast.Path,
	patches map[string]map[string]jsontext.Value) (jsontext.Value, error) {
	switch v.Kind() {
	case '{':
		return s.object(v, sel, def, path, patches, false)
	case '[':
		dec := jsontext.NewDecoder(bytes.NewReader(v))
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		out := []byte{'['}
		for i := 0; dec.PeekKind() != ']'; i++ {
			item, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			item, err = s.value(item, sel, def, append(path[:len(path):len(path)], ast.PathIndex(i)), patches)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, item...)
		}
		return append(out, ']'), nil
	}
	return v, nil
}

// object rewrites one response object. own keeps its deferred members (the
// object of an incremental payload).
func (s *shape) object(v jsontext.Value, sel ast.SelectionSet, def *ast.Definition, path ast.Path,
	patches map[string]map[string]jsontext.Value, own bool) (jsontext.Value, error) {
	members, err := objectMembers(v)
	if err != nil {
		return v, nil // null
	}
	fields, err := s.fields(sel, def, members)
	if err != nil {
		return nil, err
	}
	patch := patches[pathString(path)]
	out := []byte{'{'}
	for _, m := range members {
		f, known := fields[m.name]
		if known && f.placeholder && !own && m.value.Kind() == 'n' {
			value, patched := patch[m.name]
			if !patched {
				continue // a placeholder
			}
			m.value = value
		}
		if known && len(f.Selections) > 0 {
			if m.value, err = s.value(m.value, f.Selections, s.typeOf(f.CollectedField), append(path[:len(path):len(path)], ast.PathName(m.name)), patches); err != nil {
				return nil, err
			}
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		name, err := jsontext.AppendQuote(nil, m.name)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, name...), ':'), m.value...)
	}
	return append(out, '}'), nil
}

// fields returns the collected fields of an object of type def (its
// __typename member names the type of an interface or union), by response
// name. For an abstract type whose object has no __typename, the fields of
// every possible type are merged.
func (s *shape) fields(sel ast.SelectionSet, def *ast.Definition, members []member) (map[string]field, error) {
	if def == nil {
		return nil, errors.New("no type")
	}
	types := []*ast.Definition{def}
	if def.IsAbstractType() {
		types = s.schema.GetPossibleTypes(def)
		if name, ok := typename(sel, members); ok {
			types = []*ast.Definition{s.schema.Types[name]}
		}
	}
	out := map[string]field{}
	for _, t := range types {
		if t == nil {
			continue
		}
		satisfies := []string{t.Name}
		for _, i := range s.schema.GetImplements(t) {
			satisfies = append(satisfies, i.Name)
		}
		for _, f := range graphql.CollectFields(s.opCtx, sel, satisfies) {
			merged := field{CollectedField: f, placeholder: f.IsDeferred() && s.deferrable[t.Name+"."+f.Name]}
			if prev, ok := out[f.Alias]; ok {
				merged.Selections = append(prev.Selections[:len(prev.Selections):len(prev.Selections)], f.Selections...)
				merged.placeholder = merged.placeholder || prev.placeholder
			}
			out[f.Alias] = merged
		}
	}
	return out, nil
}

// typename returns the value of the object's __typename member, if the
// selection has one at its top level.
func typename(sel ast.SelectionSet, members []member) (string, bool) {
	for _, s := range sel {
		f, ok := s.(*ast.Field)
		if !ok || f.Name != "__typename" {
			continue
		}
		alias := f.Alias
		if alias == "" {
			alias = f.Name
		}
		for _, m := range members {
			var name string
			if m.name == alias && json.Unmarshal(m.value, &name) == nil {
				return name, true
			}
		}
	}
	return "", false
}

// typeOf is the named type of a collected field's values.
func (s *shape) typeOf(f graphql.CollectedField) *ast.Definition {
	if f.Definition == nil {
		return nil
	}
	return s.schema.Types[f.Definition.Type.Name()]
}

// objectMembers reads the members of a JSON object, in order; an error for
// anything else.
func objectMembers(v []byte) ([]member, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	tok, err := dec.ReadToken()
	if err != nil || tok.Kind() != '{' {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String() // before the next read voids tok
		value, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		out = append(out, member{name: name, value: value.Clone()})
	}
	return out, nil
}

// pathString is a response path as a map key.
func pathString(path ast.Path) string {
	b, _ := json.Marshal(path)
	return string(b)
}
