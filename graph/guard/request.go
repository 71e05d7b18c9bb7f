package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// request is what the middleware hands to the transport: the decoded
// parameters and the negotiated response media type.
type request struct {
	params *graphql.RawParams
	media  string
	// key is the document's cache key ("" when it is not cached).
	key string
	// register, when set, keeps the query as an APQ registration once it
	// passed validation.
	register func()
	// persistedGET is a GET naming a persisted query by its hash.
	persistedGET bool
}

type requestKey struct{}

func withRequest(ctx context.Context, r *request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) (*request, bool) {
	r, ok := ctx.Value(requestKey{}).(*request)
	return r, ok
}

// body is a GraphQL-over-HTTP JSON request. Unknown members are ignored,
// but kept by name in Unknown so that a case variant of a known one is
// refused.
type body struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
	// DocumentID (or Relay's doc_id) names a persisted operation.
	DocumentID *string                   `json:"documentId"`
	DocID      *string                   `json:"doc_id"`
	Unknown    map[string]jsontext.Value `json:",unknown"`
}

// incoming is a decoded request: its GraphQL parameters, and the id of the
// persisted operation it names instead of a query, if any.
type incoming struct {
	params     *graphql.RawParams
	documentID string
}

// paramNames are the members of a GraphQL request, as body and the GET
// query string name them.
var paramNames = []string{"query", "operationName", "variables", "extensions", "documentId", "doc_id"}

// readPOST reads a JSON body of at most limit bytes: a plain one in one
// pass (fastBody), any other with decodeOne.
func readPOST(w http.ResponseWriter, r *http.Request, limit int64) (*incoming, *refusal) {
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mediaJSON ||
		(params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return nil, badRequest(http.StatusUnsupportedMediaType, msgMediaType)
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	data, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge(limit)
	case err != nil:
		return nil, badRequest(http.StatusBadRequest, msgUnreadable)
	}
	switch firstByte(data) {
	case '{':
	case '[':
		return nil, badRequest(http.StatusBadRequest, msgBatch)
	default:
		return nil, badRequest(http.StatusBadRequest, msgNotObject)
	}
	var b body
	if !fastBody(data, &b) {
		if ref := decodeOne(data, &b); ref != nil {
			return nil, ref
		}
	}
	if caseVariants(slices.Concat(paramNames, slices.Collect(maps.Keys(b.Unknown)))) ||
		caseVariants(slices.Collect(maps.Keys(b.Extensions))) {
		return nil, badRequest(http.StatusBadRequest, msgDuplicateName)
	}
	in := &incoming{params: &graphql.RawParams{Query: deref(b.Query), OperationName: deref(b.OperationName),
		Variables: b.Variables, Extensions: b.Extensions}, documentID: deref(b.DocumentID)}
	if in.documentID == "" {
		in.documentID = deref(b.DocID)
	}
	return in, nil
}

// readBody reads all of r. n is the length the request announced (-1 when
// unknown): a body of known length is read into one buffer of that size,
// not into one grown step by step from 512 bytes (which allocated about
// three times a 10 KB body).
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, n+1) // +1: the read that finds the end needs room
	for {
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		switch {
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			return buf, err
		case len(buf) == cap(buf): // longer than announced
			rest, err := io.ReadAll(r)
			return append(buf, rest...), err
		}
	}
}

// deref is the string s points to, "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readGET reads the parameters of a GET query string; variables and
// extensions are JSON objects. A parameter given twice, or also under a
// name that differs only in case, is refused as a repeated member of a JSON
// body is.
func readGET(r *http.Request) (*incoming, *refusal) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, msgQueryString)
	}
	for _, name := range paramNames {
		if len(q[name]) > 1 {
			return nil, badRequest(http.StatusBadRequest, msgDuplicateName)
		}
	}
	if caseVariants(slices.Concat(paramNames, slices.Collect(maps.Keys(q)))) {
		return nil, badRequest(http.StatusBadRequest, msgDuplicateName)
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	in := &incoming{params: p, documentID: q.Get("documentId")}
	if in.documentID == "" {
		in.documentID = q.Get("doc_id")
	}
	for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if v := q.Get(name); v != "" {
			if ref := decodeOne([]byte(v), dst); ref != nil {
				return nil, ref
			}
		}
	}
	return in, nil
}

// decodeOne decodes exactly one JSON value into v (numbers as json.Number,
// as gqlgen expects), with a fixed message on failure.
//
// It decodes with encoding/json/v2 (github.com/go-json-experiment/json),
// twice as fast as encoding/json on a body of 100 variables. Member names
// match exactly, and a name repeated in any object (the request, its
// variables at any depth, its extensions) is refused: with encoding/json's
// rules (names matched case-insensitively, the last of repeated names
// kept), {"query":A,"query":B} and {"query":A,"QUERY":B} ran B, so a proxy
// reading the first query could be bypassed (red team case 22). Invalid
// UTF-8 is replaced, as encoding/json does.
func decodeOne(data []byte, v any) *refusal {
	dec := jsontext.NewDecoder(bytes.NewBuffer(data), requestOptions)
	if err := jsonv2.UnmarshalDecode(dec, v, requestOptions); err != nil {
		if errors.Is(err, jsontext.ErrDuplicateName) {
			return badRequest(http.StatusBadRequest, msgDuplicateName)
		}
		var typeErr *jsonv2.SemanticError
		if errors.As(err, &typeErr) && typeErr.Err == nil {
			return badRequest(http.StatusBadRequest, msgFieldTypes)
		}
		return badRequest(http.StatusBadRequest, msgNotJSON)
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return badRequest(http.StatusBadRequest, msgTrailing)
	}
	return nil
}

// requestOptions are encoding/json/v2's decoding rules (exact, unique
// member names) with invalid UTF-8 replaced and numbers kept as
// json.Number.
var requestOptions = jsonv2.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
		if dec.PeekKind() != '0' {
			return jsonv2.SkipFunc
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*v = json.Number(tok.String())
		return nil
	})),
)

// caseVariants reports whether two distinct names among names differ only
// in case, as strings.EqualFold (and encoding/json's name matching) sees it.
// Variable names are not checked: GraphQL names are case-sensitive, so $id
// and $ID are two variables.
func caseVariants(names []string) bool {
	seen := make(map[string]string, len(names))
	for _, n := range names {
		folded := fold(n)
		if prev, ok := seen[folded]; ok && prev != n {
			return true
		}
		seen[folded] = n
	}
	return false
}

// fold maps every rune of s to the least rune of its Unicode simple case
// folding orbit, so that two strings fold alike exactly when
// strings.EqualFold reports them equal (K, k and the Kelvin sign K alike).
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// firstByte returns the first byte that is not JSON white space, or 0.
func firstByte(data []byte) byte {
	if rest := bytes.TrimLeft(data, " \t\r\n"); len(rest) > 0 {
		return rest[0]
	}
	return 0
}
