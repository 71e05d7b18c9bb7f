package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// request is what the middleware hands to the transport: the decoded
// parameters and the negotiated response media type.
type request struct {
	params *graphql.RawParams
	media  string
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

// body is a GraphQL-over-HTTP JSON request. Unknown members are ignored.
type body struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
	// DocumentID (or Relay's doc_id) names a persisted operation.
	DocumentID *string `json:"documentId"`
	DocID      *string `json:"doc_id"`
}

// incoming is a decoded request: its GraphQL parameters, and the id of the
// persisted operation it names instead of a query, if any.
type incoming struct {
	params     *graphql.RawParams
	documentID string
}

// readPOST reads a JSON body of at most limit bytes.
func readPOST(w http.ResponseWriter, r *http.Request, limit int64) (*incoming, *refusal) {
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mediaJSON ||
		(params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return nil, badRequest(http.StatusUnsupportedMediaType, msgMediaType)
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
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
	if ref := decodeOne(data, &b); ref != nil {
		return nil, ref
	}
	in := &incoming{params: &graphql.RawParams{Query: deref(b.Query), OperationName: deref(b.OperationName),
		Variables: b.Variables, Extensions: b.Extensions}, documentID: deref(b.DocumentID)}
	if in.documentID == "" {
		in.documentID = deref(b.DocID)
	}
	return in, nil
}

// deref is the string s points to, "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readGET reads the parameters of a GET query string; variables and
// extensions are JSON objects.
func readGET(r *http.Request) (*incoming, *refusal) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, msgQueryString)
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
// twice as fast as encoding/json on a body of 100 variables, set to
// encoding/json's rules: member names matched case-insensitively, a
// repeated name's last value kept, invalid UTF-8 replaced.
func decodeOne(data []byte, v any) *refusal {
	dec := jsontext.NewDecoder(bytes.NewReader(data), requestOptions)
	if err := jsonv2.UnmarshalDecode(dec, v, requestOptions); err != nil {
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

// requestOptions are encoding/json's decoding rules in encoding/json/v2,
// with numbers kept as json.Number.
var requestOptions = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
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

// firstByte returns the first byte that is not JSON white space, or 0.
func firstByte(data []byte) byte {
	if rest := bytes.TrimLeft(data, " \t\r\n"); len(rest) > 0 {
		return rest[0]
	}
	return 0
}
