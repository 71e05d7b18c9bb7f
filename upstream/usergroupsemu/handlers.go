package usergroupsemu

import (
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// operation serves one route: an answer, or a failure.
type operation func(r *http.Request) (answer, *failure)

// create serves POST /api/v2/usergroup. Name is required (missing or blank:
// 400; the reference marks Name required). Duplicate Names and ExternalIds
// are accepted: the reference does not say, a ServiceStack CRUD service
// stores what it is given unless its database has a unique index, and the
// search by ExternalId answers a list; the gateway must not rely on
// uniqueness. UserIds are stored as given (see memberIDs). An Id in the body
// is ignored: the server makes a new GUID and spells it as the platform
// does, 32 lower-case hex digits without hyphens (the audit: vendor samples
// show "32 hex digits without hyphens", ServiceStack writes Guid
// ToString("N")). The answer is 200 {"UserGroup": {...}}.
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
		members = memberIDs(*req.UserIDs)
	}
	id := uuid.New()
	g := UserGroup{ID: hex.EncodeToString(id[:]), Name: *req.Name, UserIDs: members, CompanyID: s.companyID}
	if req.ExternalID != nil {
		g.ExternalID = *req.ExternalID
	}
	return groupAnswer{UserGroup: s.store.create(g)}, nil
}

// update serves PUT /api/v2/usergroup (Id in the body). Members that are
// omitted (or null) keep their value; a given UserIds replaces the member
// list ([] removes every member); a given ExternalId replaces it ("" clears
// it); a given Name replaces it, blank included. The audit leaves these
// semantics "not resolved" (the reference: "replace vs. merge" and "how
// omitted fields are treated" are unknown) and the reference recommends
// read-modify-write, which works with this choice. A missing Id is a 400
// (the reference marks Id required); an Id no group has, whatever its shape,
// is a 404 (the response for a non-existent Id is unknown). The answer
// echoes the group as stored, unless SetUpdateEchoWithoutUsers is on.
func (s *Server) update(r *http.Request) (answer, *failure) {
	req, f := s.authorizedWrite(r)
	if f != nil {
		return nil, f
	}
	var id string
	if req.ID != nil {
		id = *req.ID
	}
	if f = requiredID(id); f != nil {
		return nil, f
	}
	g, ok := s.store.update(id, req.patch())
	if !ok {
		return nil, notFound()
	}
	if s.echoWithoutUsers.Load() {
		// The vendor's PUT sample answers "UserIds": [] after setting one.
		g.UserIDs = []string{}
	}
	return groupAnswer{UserGroup: g}, nil
}

// patch is the change an update asks for.
func (req writeRequest) patch() patch {
	p := patch{name: req.Name, externalID: req.ExternalID, setUsers: req.UserIDs != nil}
	if p.setUsers {
		p.userIDs = memberIDs(*req.UserIDs)
	}
	return p
}

// get serves GET /api/v2/usergroup?Id=: 200 {"UserGroup": {...}}, 404 for an
// Id no group has, in any shape (the audit: "unknown-id behaviour not
// documented"; ServiceStack's HttpError.NotFound is the plausible answer).
// An Id that spells a group's GUID another way (hyphens, braces, upper case)
// finds it, as .NET's Guid binding would.
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
// reference: "whether deleting again returns an error" is unknown). Member
// users are not touched.
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
// case-insensitively anywhere in the group name (the audit: "Name matching:
// unknown"), ExternalId matches exactly (case-sensitive); both given means
// both must match; empty means no filter. PageNo is 0-based (documented); a
// negative PageNo reads as 0. PageSize 0, omitted or negative means
// DefaultPageSize, and above MaxPageSize reads as MaxPageSize: the reference
// documents the maximum, not that a larger size is refused, so the emulator
// tolerates it. Groups come in creation order (the ordering of results is
// unknown); the answer is {"UserGroups": [...]} with no paging metadata (the
// reference documents none), so a page shorter than PageSize is the last.
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
	pageNo = max(pageNo, 0)
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageSize = min(pageSize, MaxPageSize)
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

// queryID checks the credentials of q and returns its Id, as given.
func (s *Server) queryID(q url.Values) (string, *failure) {
	if f := s.authorizeQuery(q); f != nil {
		return "", f
	}
	id := param(q, "Id")
	return id, requiredID(id)
}

// requiredID refuses a missing Id (400: the reference marks Id required).
// Any other Id is looked up as given; one no group has is a 404.
func requiredID(id string) *failure {
	if id == "" {
		return invalidField("Id", codeNotEmpty, "'Id' must not be empty.")
	}
	return nil
}

// memberIDs returns UserIds as given, without the repeats of an id (in any
// GUID spelling, see idKey), in the given order, never nil. No id is refused
// and none is checked against a user list: the reference lists "validation
// of unknown UserIds" among its unknowns, so the emulator refuses nothing
// and re-spells nothing.
func memberIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if key := idKey(id); !seen[key] {
			seen[key] = true
			out = append(out, id)
		}
	}
	return out
}
