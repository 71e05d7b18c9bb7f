package genesys

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/groupdir/gateway/upstream"
)

// MaxLookupIDs is how many ids one GET /api/v2/groups?id=.. names at most
// (the API's largest page).
const MaxLookupIDs = 100

// GroupLookups describes Genesys' batched group lookup, GET
// /api/v2/groups?id=..&id=..&pageSize=n, to upstream.ReadSharing, which
// then caches its answers group by group (upstream.BatchedReads). A lookup
// with any other parameter (a page number, a sort order, jabberId) or a
// page smaller than its ids is left whole. A group's resource is its id in
// lower case, as the gateway names the resource of a write to it.
func GroupLookups() *upstream.BatchedReads {
	return &upstream.BatchedReads{
		IDs:        lookupIDs,
		WithIDs:    withLookupIDs,
		Entities:   lookupEntities,
		Answer:     lookupAnswer,
		ResourceOf: strings.ToLower,
		MaxIDs:     MaxLookupIDs,
	}
}

// lookupIDs returns the ids of a batched group lookup.
func lookupIDs(req *http.Request) ([]string, bool) {
	if req.URL.Path != groupsPath {
		return nil, false
	}
	q := req.URL.Query()
	ids := q["id"]
	for k, v := range q {
		switch {
		case k == "id":
		case k == "pageSize" && len(v) == 1:
			if n, err := strconv.Atoi(v[0]); err != nil || n < len(ids) {
				return nil, false
			}
		case k == "pageNumber" && len(v) == 1 && v[0] == "1":
		default:
			return nil, false
		}
	}
	return ids, len(ids) > 0
}

// withLookupIDs returns q looking ids up (none: q without ids and page).
func withLookupIDs(q url.Values, ids []string) url.Values {
	q.Del("id")
	q.Del("pageSize")
	q.Del("pageNumber")
	if len(ids) > 0 {
		q["id"] = ids
		q.Set("pageSize", strconv.Itoa(len(ids)))
	}
	return q
}

// errNoEntities is a lookup answer without an entities array.
var errNoEntities = errors.New("genesys: a group lookup answer without entities")

// lookupEntities splits a lookup answer into its groups (raw JSON) and
// their ids. A group without a string id cannot be told apart: the whole
// answer is then left to the client.
func lookupEntities(body []byte) (ids []string, entities [][]byte, err error) {
	d := jsontext.NewDecoder(bytes.NewReader(body), allowDuplicateNames)
	if t, err := d.ReadToken(); err != nil || t.Kind() != '{' {
		return nil, nil, errNoEntities
	}
	found := false
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return nil, nil, err
		}
		if name.String() != "entities" || d.PeekKind() != '[' {
			if err := d.SkipValue(); err != nil {
				return nil, nil, err
			}
			continue
		}
		found = true
		if _, err := d.ReadToken(); err != nil {
			return nil, nil, err
		}
		for d.PeekKind() != ']' {
			id, raw, err := lookupEntity(d, body)
			if err != nil {
				return nil, nil, err
			}
			ids, entities = append(ids, id), append(entities, raw)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, nil, err
		}
	}
	if !found {
		return nil, nil, errNoEntities
	}
	return ids, entities, nil
}

// lookupEntity reads the next group of d, which decodes body, in one pass:
// its "id" member (a string; the last one wins, as in decoding) and a copy
// of its bytes.
func lookupEntity(d *jsontext.Decoder, body []byte) (id string, raw []byte, err error) {
	start := d.InputOffset() // before the separator and white space the object's first token takes
	if t, err := d.ReadToken(); err != nil || t.Kind() != '{' {
		return "", nil, errNoEntities
	}
	found := false
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return "", nil, err
		}
		if name.String() == "id" && d.PeekKind() == '"' {
			t, err := d.ReadToken()
			if err != nil {
				return "", nil, err
			}
			id, found = t.String(), true
			continue
		}
		if err := d.SkipValue(); err != nil {
			return "", nil, err
		}
	}
	if _, err := d.ReadToken(); err != nil { // the closing brace
		return "", nil, err
	}
	if !found || id == "" {
		return "", nil, errNoEntities
	}
	raw = bytes.TrimLeft(body[start:d.InputOffset()], " \t\r\n,")
	return id, bytes.Clone(raw), nil
}

// lookupAnswer is the answer of a lookup that found groups: one page
// holding them all.
func lookupAnswer(groups [][]byte) []byte {
	n := strconv.Itoa(len(groups))
	var b bytes.Buffer
	b.WriteString(`{"entities":[`)
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(g)
	}
	b.WriteString(`],"pageSize":` + n + `,"pageNumber":1,"total":` + n + `,"pageCount":1}`)
	return b.Bytes()
}
