package genesysemu

import (
	"encoding/json"
	"net/http"
	"slices"
)

// maxMemberIDs is the documented limit of ids per members change (GO
// groupsapi.go, "max 50").
const maxMemberIDs = 50

// emptyBody is the Empty model the members changes answer with.
var emptyBody = json.RawMessage(`{}`)

// getMembers serves GET /api/v2/groups/{groupId}/members: the individuals
// plus, when includeOwners is set, the owners; paged, sorted by name. The
// real list "includes individuals, owners, and dynamically included people"
// (GO groupsapi.go:608); the emulator stores dynamic definitions but has no
// user skills to evaluate them against, so no one is included dynamically
// (audit section 2 item 9: "Members never include dynamically included
// users").
func (s *Server) getMembers(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	p, desc, err := listParams(q)
	if err != nil {
		return 0, nil, err
	}
	order, err := s.memberOrder(r, func(g *group) []int { return g.members })
	if err != nil {
		return 0, nil, err
	}
	if desc {
		order = slices.Clone(order)
		slices.Reverse(order)
	}
	entities := s.userEntities(slice(order, p), queryList(q, "expand"))
	return http.StatusOK, p.listing(r.URL.Path, q, len(order), entities), nil
}

// getIndividuals serves GET /api/v2/groups/{groupId}/individuals: the users
// added to the group directly, all on one page, sorted by name (audit 1b
// row 7: "truncation for huge groups: unknown").
func (s *Server) getIndividuals(r *http.Request) (int, any, error) {
	order, err := s.memberOrder(r, func(g *group) []int { return g.individuals })
	if err != nil {
		return 0, nil, err
	}
	p := page{size: max(len(order), defaultPageSize), number: 1}
	return http.StatusOK, p.listing(r.URL.Path, nil, len(order), s.userEntities(order, nil)), nil
}

// memberOrder returns the user list pick selects from the path's group.
func (s *Server) memberOrder(r *http.Request, pick func(*group) []int) ([]int, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	var order []int
	err = s.store.read(id, func(g *group) error {
		order = pick(g)
		return nil
	})
	return order, err
}

func (s *Server) userEntities(order []int, expand []string) []json.RawMessage {
	out := make([]json.RawMessage, len(order))
	for k, u := range order {
		out[k] = s.store.userEntity(u, expand)
	}
	return out
}

// postMembers serves POST /api/v2/groups/{groupId}/members: at most 50
// known users; users already members are ignored. The version is optional:
// the schema made it so in SDK 247.0.0 (2026-01-12), and "whether the
// server still enforces it remains unknown" (audit section 3); when given,
// a stale one is a conflict (Writes.ConflictStatus). 202 with {}, version +
// 1 at once; the members change visibly after Writes.PropagationDelay.
func (s *Server) postMembers(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	var req membersUpdateRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	users, err := s.memberUsers("memberIds", req.MemberIDs)
	if err != nil {
		return 0, nil, err
	}
	err = s.store.write(id, func(g *group) error {
		if req.Version != nil && g.version != *req.Version {
			return s.versionConflict(g, *req.Version)
		}
		s.changeMembers(g, users, true)
		return nil
	})
	return http.StatusAccepted, emptyBody, err
}

// changeMembers adds (add) or removes users as individuals of g: the version
// moves on at once, the membership after Writes.PropagationDelay. The
// caller holds the write lock.
func (s *Server) changeMembers(g *group, users []int, add bool) {
	s.store.touch(g)
	s.propagate(func() {
		for _, u := range users {
			if add {
				g.direct[u] = true
			} else {
				delete(g.direct, u)
			}
		}
		s.store.refresh(g)
	})
}

// memberUsers checks a list of 1 to 50 user ids and maps them to users.
// Unknown users refuse the whole request: the emulator's choice (audit
// section 2 item 9 lists "Unknown member/owner ids → 400" among the rules
// "the real API does not document").
func (s *Server) memberUsers(field string, ids []string) ([]int, error) {
	switch {
	case len(ids) == 0:
		return nil, invalidValue("%s is required", field)
	case len(ids) > maxMemberIDs:
		return nil, invalidValue("%s: at most %d members are allowed per request", field, maxMemberIDs)
	}
	if err := checkIDs(field, ids); err != nil {
		return nil, err
	}
	users, unknown := s.store.userIndexes(ids)
	if len(unknown) > 0 {
		return nil, unknownUsers(field, unknown)
	}
	return users, nil
}

// deleteMembers serves DELETE /api/v2/groups/{groupId}/members?ids=: at
// most 50 ids, no version; ids that are not members are ignored. 202 with
// {}, version + 1 at once (audit 1b row 3: "version bump: unknown"); the
// members change visibly after Writes.PropagationDelay.
func (s *Server) deleteMembers(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	users, err := s.memberUsers("ids", queryList(r.URL.Query(), "ids"))
	if err != nil {
		return 0, nil, err
	}
	err = s.store.write(id, func(g *group) error {
		s.changeMembers(g, users, false)
		return nil
	})
	return http.StatusAccepted, emptyBody, err
}
