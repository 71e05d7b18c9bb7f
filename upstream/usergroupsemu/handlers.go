package usergroupsemu

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// operation serves one route: an answer, or a failure.
type operation func(r *http.Request) (answer, *failure)

// create serves POST /api/v2/usergroup. Name is required (missing or blank:
// 400). Duplicate Names and ExternalIds are accepted: the reference does not
// say, a ServiceStack CRUD service stores what it is given unless its
// database has a unique index, and the search by ExternalId answers a list;
// the gateway must not rely on uniqueness. UserIds must be GUIDs (400
// otherwise); they are stored canonical and deduplicated, and not checked
// against any user list (unknown upstream). An Id in the body is ignored:
// the server makes a new GUID. The answer is 200 {"UserGroup": {...}}.
func (s *Server) create(r *http.Request) (answer, *failure) {
	req, f := s.authorizedWrite(r)
	if f != nil {
		return nil, f
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return nil, invalidField("Name", codeNotEmpty, "'Name' must not be empty.")
	}
	var members []string
	if req.UserIDs != nil {
		if members, f = memberIDs(*req.UserIDs); f != nil {
			return nil, f
		}
	}
	g := UserGroup{ID: uuid.NewString(), Name: *req.Name, UserIDs: members, CompanyID: s.companyID}
	if req.ExternalID != nil {
		g.ExternalID = *req.ExternalID
	}
	return groupAnswer{UserGroup: s.store.create(g)}, nil
}

// update serves PUT /api/v2/usergroup (Id in the body). Members that are
// omitted (or null) keep their value; a given UserIds replaces the member
// list ([] removes every member); a given ExternalId replaces it ("" clears
// it); a given Name must not be blank (400). The reference leaves these
// semantics unknown and recommends read-modify-write, which works with this
// choice. A malformed Id is a 400, an unknown one a 404.
func (s *Server) update(r *http.Request) (answer, *failure) {
	req, f := s.authorizedWrite(r)
	if f != nil {
		return nil, f
	}
	var id string
	if req.ID != nil {
		id = *req.ID
	}
	if id, f = guidField(id); f != nil {
		return nil, f
	}
	p, f := req.patch()
	if f != nil {
		return nil, f
	}
	g, ok := s.store.update(id, p)
	if !ok {
		return nil, notFound()
	}
	return groupAnswer{UserGroup: g}, nil
}

// patch validates the optional members of an update.
func (req writeRequest) patch() (patch, *failure) {
	p := patch{name: req.Name, externalID: req.ExternalID, setUsers: req.UserIDs != nil}
	if p.name != nil && strings.TrimSpace(*p.name) == "" {
		return p, invalidField("Name", codeNotEmpty, "'Name' must not be empty.")
	}
	if p.setUsers {
		var f *failure
		if p.userIDs, f = memberIDs(*req.UserIDs); f != nil {
			return p, f
		}
	}
	return p, nil
}

// get serves GET /api/v2/usergroup?Id=: 200 {"UserGroup": {...}}, 404 for an
// unknown Id (the reference does not say; ServiceStack's HttpError.NotFound
// is the plausible answer).
func (s *Server) get(r *http.Request) (answer, *failure) {
	id, f := s.queryID(r.URL.Query())
	if f != nil {
		return nil, f
	}
	g, ok := s.store.get(id)
	if !ok {
		return nil, notFound()
	}
	return groupAnswer{UserGroup: g}, nil
}

// remove serves DELETE /api/v2/usergroup?Id=: 200 {} (as documented), 404
// for an unknown Id, so deleting twice answers 404 the second time (the
// reference does not say). Member users are not touched.
func (s *Server) remove(r *http.Request) (answer, *failure) {
	id, f := s.queryID(r.URL.Query())
	if f != nil {
		return nil, f
	}
	if !s.store.remove(id) {
		return nil, notFound()
	}
	return deleteAnswer{}, nil
}

// search serves GET /api/v2/usergroup/search. Name matches
// case-insensitively anywhere in the group name, ExternalId matches exactly
// (case-sensitive); both given means both must match; empty means no filter.
// PageNo is 0-based (negative: 400); PageSize 0 or omitted means
// DefaultPageSize, negative or above MaxPageSize is a 400. Groups come in
// creation order; the answer is {"UserGroups": [...]} with no paging
// metadata (the reference documents none), so a page shorter than PageSize
// is the last.
func (s *Server) search(r *http.Request) (answer, *failure) {
	q := r.URL.Query()
	pageNo, f := intParam(q, "PageNo", 32)
	if f != nil {
		return nil, f
	}
	pageSize, f := intParam(q, "PageSize", 32)
	if f != nil {
		return nil, f
	}
	if f = s.authorizeQuery(q); f != nil {
		return nil, f
	}
	if pageNo < 0 {
		return nil, invalidField("PageNo", codeArgument, "'PageNo' must not be negative.")
	}
	if pageSize < 0 || pageSize > MaxPageSize {
		return nil, invalidField("PageSize", codeArgument, "'PageSize' must be between 1 and 250.")
	}
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	flt := filter{name: param(q, "Name"), externalID: param(q, "ExternalId")}
	return searchAnswer{UserGroups: s.store.search(flt, int(pageNo), int(pageSize))}, nil
}

// authorizedWrite decodes a POST or PUT body (400 when it cannot be read)
// and checks the credentials it carries (401).
func (s *Server) authorizedWrite(r *http.Request) (writeRequest, *failure) {
	req, f := decodeWrite(r)
	if f != nil {
		return req, f
	}
	return req, s.authorize(req.CompanyID, req.IntegrationKey)
}

// authorizeQuery checks the credentials of a GET or DELETE query string.
// A CompanyId that is not an integer fails binding first (400).
func (s *Server) authorizeQuery(q url.Values) *failure {
	companyID, f := intParam(q, "CompanyId", 64)
	if f != nil {
		return f
	}
	return s.authorize(companyID, param(q, "IntegrationKey"))
}

// authorize accepts only the emulator's company and key; anything else,
// missing included, is a 401 that quotes neither.
func (s *Server) authorize(companyID int64, key string) *failure {
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.key)) == 1
	if companyID != s.companyID || !keyOK {
		return unauthorized()
	}
	return nil
}

// queryID checks the credentials of q and returns its Id, canonical.
func (s *Server) queryID(q url.Values) (string, *failure) {
	if f := s.authorizeQuery(q); f != nil {
		return "", f
	}
	return guidField(param(q, "Id"))
}

// guidField validates the Id of a request: missing or not a GUID is a 400.
func guidField(id string) (string, *failure) {
	if id == "" {
		return "", invalidField("Id", codeNotEmpty, "'Id' must not be empty.")
	}
	key, ok := canonicalGUID(id)
	if !ok {
		return "", invalidField("Id", codeArgument, "'Id' must be a GUID.")
	}
	return key, nil
}

// memberIDs validates UserIds: every one a GUID (400 otherwise); the result
// is canonical, without duplicates, in the given order, never nil.
func memberIDs(ids []string) ([]string, *failure) {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		key, ok := canonicalGUID(id)
		if !ok {
			return nil, invalidField("UserIds", codeArgument, "'UserIds' must hold user GUIDs.")
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	return out, nil
}
