package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Persisted operations: Apollo's automatic persisted queries (APQ) and
// trusted documents.
//
// APQ: a client first sends only extensions.persistedQuery {version: 1,
// sha256Hash}; an unknown hash is answered PERSISTED_QUERY_NOT_FOUND (message
// "PersistedQueryNotFound", what Apollo Client's persisted-queries link
// matches), and the client sends the hash with the query, which registers it
// once its SHA-256 is verified and the document is valid. A hash-only query
// may be sent with GET, so that a CDN can cache the short URL.
//
// Trusted documents (GATEWAY_TRUSTED_DOCUMENTS): only the operations of a
// manifest run, by id (extensions.persistedQuery.sha256Hash, documentId or
// doc_id) or by a text equal to one of the manifest's; anything else is
// PERSISTED_QUERY_NOT_ALLOWED and nothing registers.

// Error codes and messages of persisted operations. The messages of the two
// APQ codes are the exact ones Apollo's clients match on.
const (
	CodePersistedQueryNotFound     = "PERSISTED_QUERY_NOT_FOUND"
	CodePersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED"
	CodePersistedQueryNotAllowed   = "PERSISTED_QUERY_NOT_ALLOWED"

	msgPersistedQueryNotFound     = "PersistedQueryNotFound"
	msgPersistedQueryNotSupported = "PersistedQueryNotSupported"
	msgPersistedQueryNotAllowed   = "only the operations of the trusted documents run on this server: " +
		"send the id of one (extensions.persistedQuery.sha256Hash, documentId or doc_id) or its exact text"
	msgPersistedExtension = "extensions.persistedQuery must be an object {version: 1, sha256Hash: <64 hex digits>}"
	msgPersistedMismatch  = "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query"
	msgDocumentIDAndQuery = "send either a query or a documentId, not both"
)

// PersistedStore keeps the documents registered through APQ, by the hex
// SHA-256 of their text. It is gqlgen's graphql.Cache[string], so a shared
// implementation (such as Redis) can replace the in-memory one; Add may drop
// a document (the client then sends its text again).
type PersistedStore = graphql.Cache[string]

// Bounds of the in-memory persisted-query store: at most this many
// documents of at most this many bytes each (16 MiB in all).
const (
	DefaultPersistedEntries       = 1000
	DefaultPersistedDocumentBytes = 16 << 10
)

// MemoryPersistedStore is the in-process PersistedStore: a least recently
// used cache of at most entries documents, each at most maxBytes long (a
// longer one still runs, it is just not kept).
type MemoryPersistedStore struct {
	lru      *lru.LRU[string]
	maxBytes int
}

// NewMemoryPersistedStore returns a store of at most entries documents of at
// most maxBytes each.
func NewMemoryPersistedStore(entries, maxBytes int) *MemoryPersistedStore {
	return &MemoryPersistedStore{lru: lru.New[string](entries), maxBytes: maxBytes}
}

// Get implements PersistedStore.
func (s *MemoryPersistedStore) Get(ctx context.Context, hash string) (string, bool) {
	return s.lru.Get(ctx, hash)
}

// Add implements PersistedStore.
func (s *MemoryPersistedStore) Add(ctx context.Context, hash, query string) {
	if len(query) <= s.maxBytes {
		s.lru.Add(ctx, hash, query)
	}
}

// TrustedDocuments are the operations of a production allow-list.
type TrustedDocuments struct {
	byID   map[string]string
	byText map[[sha256.Size]byte]bool
}

// apolloManifestFormat is the format member of Apollo's persisted-query
// manifest.
const apolloManifestFormat = "apollo-persisted-query-manifest"

// LoadTrustedDocuments reads a manifest in one of the formats clients'
// tooling writes: GraphQL Code Generator's client preset
// (persisted-documents.json, {"<hash>": "<document>"}), Relay's
// persisted_queries.json ({"<id>": "<text>"}) or Apollo's persisted-query
// manifest ({"format": "apollo-persisted-query-manifest", "version": 1,
// "operations": [{"id", "body", "name", "type"}]}).
func LoadTrustedDocuments(path string) (*TrustedDocuments, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTrustedDocuments(data)
}

// ParseTrustedDocuments parses a manifest (see LoadTrustedDocuments).
func ParseTrustedDocuments(data []byte) (*TrustedDocuments, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New("not a JSON object of operations")
	}
	t := &TrustedDocuments{byID: map[string]string{}, byText: map[[sha256.Size]byte]bool{}}
	if format, ok := raw["format"]; ok && string(format) == strconv.Quote(apolloManifestFormat) {
		var m struct {
			Version    int `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.Version != 1 {
			return nil, errors.New("an Apollo persisted-query manifest must be version 1 with operations [{id, body}]")
		}
		for _, op := range m.Operations {
			if err := t.add(op.ID, op.Body); err != nil {
				return nil, err
			}
		}
	} else {
		for id, v := range raw {
			var text string
			if err := json.Unmarshal(v, &text); err != nil {
				return nil, fmt.Errorf("the value of %q is not a document string", id)
			}
			if err := t.add(id, text); err != nil {
				return nil, err
			}
		}
	}
	if len(t.byID) == 0 {
		return nil, errors.New("the manifest has no operations")
	}
	return t, nil
}

func (t *TrustedDocuments) add(id, text string) error {
	if id == "" || strings.TrimSpace(text) == "" {
		return errors.New("every operation needs an id and a document")
	}
	t.byID[id] = text
	t.byText[sha256.Sum256([]byte(text))] = true
	return nil
}

// Len returns the number of operations.
func (t *TrustedDocuments) Len() int { return len(t.byID) }

// persisted resolves the persisted operations of requests.
type persisted struct {
	// store keeps APQ registrations; nil when trusted is set.
	store   PersistedStore
	trusted *TrustedDocuments
}

// resolve fills in the query of a request that names a persisted operation
// and checks a query against the trusted documents. It returns the
// registration to make once the document is valid (nil for none).
func (p persisted) resolve(ctx context.Context, params *graphql.RawParams, documentID string) (func(), *refusal) {
	hash, ref := persistedHash(params.Extensions)
	if ref != nil {
		return nil, ref
	}
	if params.Query != "" {
		switch {
		case documentID != "":
			return nil, badRequest(http.StatusBadRequest, msgDocumentIDAndQuery)
		case hash != "" && hash != sha256Hex(params.Query):
			return nil, badRequest(http.StatusBadRequest, msgPersistedMismatch)
		case p.trusted != nil:
			if !p.trusted.byText[sha256.Sum256([]byte(params.Query))] {
				return nil, documentRefused(CodePersistedQueryNotAllowed, &gqlerror.Error{Message: msgPersistedQueryNotAllowed})
			}
			return nil, nil
		case hash != "":
			query := params.Query
			return func() { p.store.Add(ctx, hash, query) }, nil
		}
		return nil, nil
	}
	id := hash
	if id == "" {
		id = documentID
	}
	if id == "" {
		return nil, badRequest(http.StatusBadRequest, msgNoQuery)
	}
	var found bool
	if p.trusted != nil {
		params.Query, found = p.trusted.byID[id]
	} else {
		params.Query, found = p.store.Get(ctx, strings.ToLower(strings.TrimPrefix(id, "sha256:")))
	}
	if !found {
		return nil, documentRefused(CodePersistedQueryNotFound, &gqlerror.Error{Message: msgPersistedQueryNotFound})
	}
	return nil, nil
}

// persistedHash returns the lower-case sha256Hash of an APQ extension ("" for
// none). A malformed one is BAD_REQUEST; a version other than 1 is
// PERSISTED_QUERY_NOT_SUPPORTED, on which Apollo's clients stop hashing and
// send their queries.
func persistedHash(extensions map[string]any) (string, *refusal) {
	v, present := extensions["persistedQuery"]
	if !present || v == nil {
		return "", nil
	}
	ext, _ := v.(map[string]any)
	hash, isString := ext["sha256Hash"].(string)
	if version, _ := ext["version"].(json.Number); ext != nil && version != "1" {
		return "", documentRefused(CodePersistedQueryNotSupported, &gqlerror.Error{Message: msgPersistedQueryNotSupported})
	}
	hash = strings.ToLower(hash)
	if b, err := hex.DecodeString(hash); !isString || err != nil || len(b) != sha256.Size {
		return "", badRequest(http.StatusBadRequest, msgPersistedExtension)
	}
	return hash, nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setPersistedCacheControl sets the caching headers of the answer to a GET
// naming a persisted query by its hash, whose URL is short and stable
// enough for a CDN: never stored when it failed (a PersistedQueryNotFound
// must reach the client, which then registers the query), private when the
// caller sent credentials, otherwise shared caches may keep it for cdnMaxAge
// (browsers always revalidate).
func setPersistedCacheControl(h http.Header, r *http.Request, failed bool, cdnMaxAge time.Duration) {
	h.Add("Vary", "Authorization")
	switch {
	case failed:
		h.Set("Cache-Control", "no-store")
	case r.Header.Get("Authorization") != "" || cdnMaxAge <= 0:
		h.Set("Cache-Control", "private, no-cache")
	default:
		h.Set("Cache-Control", "public, max-age=0, s-maxage="+strconv.Itoa(int(cdnMaxAge/time.Second)))
	}
}
