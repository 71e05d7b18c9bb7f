package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// request is the part of a GraphQL-over-HTTP JSON body that decides what a
// request does.
type request struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
}

// parseRequest decodes a GraphQL JSON body; false when it is not one (the
// GraphQL handler then answers the error).
func parseRequest(body []byte) (request, bool) {
	var r request
	if err := json.Unmarshal(body, &r); err != nil || r.Query == "" {
		return request{}, false
	}
	return r, true
}

// fingerprint identifies what the request asks for: the operation name,
// the query text and the variables (as values, so key order and spacing in
// the JSON do not matter; numbers are kept exactly).
func (r request) fingerprint() (string, bool) {
	var vars any
	if len(r.Variables) > 0 {
		d := json.NewDecoder(bytes.NewReader(r.Variables))
		d.UseNumber()
		if err := d.Decode(&vars); err != nil {
			return "", false
		}
	}
	canon, err := json.Marshal([]any{r.OperationName, r.Query, vars})
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), true
}

// maxTokens bounds the scan of a document (the gateway's parser limit is
// lower; a document this long is refused there).
const maxTokens = 100_000

// operation is one definition of a document: an operation (kind query,
// mutation or subscription) or a fragment.
type operation struct {
	kind, name string
}

// isMutation reports whether the operation the request selects (by
// operationName, or the document's only operation) is a mutation. It only
// scans tokens, with no recursion, so a hostile document costs linear time;
// a document it cannot read is reported as no mutation and left to the
// GraphQL handler, which refuses it before anything runs.
func (r request) isMutation() bool {
	defs, ok := definitions(r.Query)
	if !ok {
		return false
	}
	picked := -1
	for i, d := range defs {
		if d.kind == "fragment" || (r.OperationName != "" && d.name != r.OperationName) {
			continue
		}
		if picked >= 0 {
			return false // ambiguous: the handler refuses it
		}
		picked = i
	}
	return picked >= 0 && defs[picked].kind == "mutation"
}

// scanner follows the top level of a document.
type scanner struct {
	defs  []operation
	depth int
	// open is whether a definition is being read (until the "}" that
	// brings the depth back to 0).
	open bool
	// directive is set after an "@" at depth 0: the next name is the
	// directive's, not the operation's.
	directive bool
}

// definitions lists the definitions of a document. At depth 0 a definition
// starts with "query", "mutation", "subscription", "fragment" or a bare "{"
// (a query), and ends with the "}" that brings the depth back to 0.
func definitions(doc string) ([]operation, bool) {
	lx := lexer.New(&ast.Source{Input: doc})
	var s scanner
	for range maxTokens {
		tok, err := lx.ReadToken()
		if err != nil {
			return nil, false
		}
		if tok.Kind == lexer.EOF {
			return s.defs, s.depth == 0 && !s.open
		}
		if !s.token(tok) {
			return nil, false
		}
	}
	return nil, false
}

// token follows one token; false when the document cannot be valid.
func (s *scanner) token(tok lexer.Token) bool {
	switch tok.Kind {
	case lexer.BraceL, lexer.ParenL, lexer.BracketL:
		if s.depth == 0 && !s.open && tok.Kind == lexer.BraceL {
			s.defs, s.open = append(s.defs, operation{kind: "query"}), true
		}
		s.depth++
	case lexer.BraceR, lexer.ParenR, lexer.BracketR:
		s.depth--
		if s.depth == 0 && tok.Kind == lexer.BraceR {
			s.open = false
		}
		return s.depth >= 0
	case lexer.At:
		s.directive = s.depth == 0
	case lexer.Name:
		if s.depth == 0 {
			return s.name(tok.Value)
		}
	}
	return true
}

// name follows a name at depth 0: the keyword that starts a definition, or
// the name of the operation being read.
func (s *scanner) name(v string) bool {
	if s.open {
		d := &s.defs[len(s.defs)-1]
		if d.name == "" && !s.directive {
			d.name = v
		}
		s.directive = false
		return true
	}
	switch v {
	case "query", "mutation", "subscription", "fragment":
		s.defs, s.open = append(s.defs, operation{kind: v}), true
		return true
	}
	return false
}
