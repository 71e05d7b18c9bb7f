package usergroupsemu

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// UserGroup is a user group as the emulator stores and answers it (JSON
// member names of the reference; ExternalId omitted when empty).
type UserGroup struct {
	// ID is the group's id as made (32 lower-case hex digits) or seeded.
	ID string `json:"Id"`
	// Name is the group's name.
	Name string `json:"Name"`
	// ExternalID is the caller's identifier; "" means none.
	ExternalID string `json:"ExternalId,omitempty"`
	// UserIDs are the member user ids as given, never nil.
	UserIDs []string `json:"UserIds"`
	// CompanyID is the owning company.
	CompanyID int64 `json:"CompanyId"`
}

// clone returns a copy that shares no memory with g.
func (g UserGroup) clone() UserGroup {
	g.UserIDs = slices.Clone(g.UserIDs)
	return g
}

// record is one stored group. A record is never changed once stored: an
// update stores a new record with the same seq, so readers may use a record
// after releasing the lock.
type record struct {
	seq       uint64
	lowerName string
	group     UserGroup
}

// patch is the change an update applies; nil members are kept.
type patch struct {
	name       *string
	externalID *string
	userIDs    []string
	setUsers   bool
}

// filter selects groups in a search; empty members match everything.
type filter struct {
	name       string
	externalID string
}

// store holds the groups of one company, indexed by idKey of their id and by
// ExternalId, each index in creation order. Its methods take ids in any
// spelling.
type store struct {
	mu      sync.RWMutex
	nextSeq uint64
	byID    map[string]*record
	byExt   map[string][]*record
	order   []*record
}

func newStore(groups []UserGroup) *store {
	st := &store{byID: make(map[string]*record, len(groups)), byExt: map[string][]*record{}}
	for _, g := range groups {
		st.add(g)
	}
	return st
}

// add stores g as the newest group and returns it. The caller holds the
// write lock (or owns st).
func (st *store) add(g UserGroup) UserGroup {
	st.nextSeq++
	rec := newRecord(st.nextSeq, g)
	st.byID[idKey(g.ID)] = rec
	st.order = append(st.order, rec)
	if g.ExternalID != "" {
		st.byExt[g.ExternalID] = append(st.byExt[g.ExternalID], rec)
	}
	return rec.group
}

func newRecord(seq uint64, g UserGroup) *record {
	if g.UserIDs == nil {
		g.UserIDs = []string{}
	}
	return &record{seq: seq, lowerName: strings.ToLower(g.Name), group: g}
}

func (st *store) create(g UserGroup) UserGroup {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.add(g)
}

func (st *store) get(id string) (UserGroup, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	rec, ok := st.byID[idKey(id)]
	if !ok {
		return UserGroup{}, false
	}
	return rec.group, true
}

// update applies p to group id; false when there is no such group.
func (st *store) update(id string, p patch) (UserGroup, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := idKey(id)
	old, ok := st.byID[key]
	if !ok {
		return UserGroup{}, false
	}
	rec := newRecord(old.seq, p.apply(old.group))
	st.byID[key] = rec
	st.order = replaceRecord(st.order, rec)
	st.unindexExternal(old)
	if ext := rec.group.ExternalID; ext != "" {
		st.byExt[ext] = insertRecord(st.byExt[ext], rec)
	}
	return rec.group, true
}

// apply returns g changed by p.
func (p patch) apply(g UserGroup) UserGroup {
	if p.name != nil {
		g.Name = *p.name
	}
	if p.externalID != nil {
		g.ExternalID = *p.externalID
	}
	if p.setUsers {
		g.UserIDs = p.userIDs
	}
	return g
}

// remove deletes group id; false when there is no such group.
func (st *store) remove(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := idKey(id)
	rec, ok := st.byID[key]
	if !ok {
		return false
	}
	delete(st.byID, key)
	st.order = removeRecord(st.order, rec.seq)
	st.unindexExternal(rec)
	return true
}

// unindexExternal drops rec from the ExternalId index.
func (st *store) unindexExternal(rec *record) {
	ext := rec.group.ExternalID
	if ext == "" {
		return
	}
	if rest := removeRecord(st.byExt[ext], rec.seq); len(rest) > 0 {
		st.byExt[ext] = rest
	} else {
		delete(st.byExt, ext)
	}
}

// search returns page pageNo (0-based) of pageSize groups matching f, in
// creation order.
func (st *store) search(f filter, pageNo, pageSize int) []UserGroup {
	st.mu.RLock()
	defer st.mu.RUnlock()
	candidates := st.order
	if f.externalID != "" {
		candidates = st.byExt[f.externalID]
	}
	needle := strings.ToLower(f.name)
	skip := pageNo * pageSize
	page := make([]UserGroup, 0, min(pageSize, len(candidates)))
	for _, rec := range candidates {
		if len(page) == pageSize {
			break
		}
		if !strings.Contains(rec.lowerName, needle) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		page = append(page, rec.group)
	}
	return page
}

func (st *store) snapshot() []UserGroup {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]UserGroup, len(st.order))
	for i, rec := range st.order {
		out[i] = rec.group.clone()
	}
	return out
}

func (st *store) countExternal(ext string) int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.byExt[ext])
}

// The helpers below keep a []*record sorted by seq.

func findRecord(list []*record, seq uint64) (int, bool) {
	return slices.BinarySearchFunc(list, seq, func(r *record, s uint64) int { return cmp.Compare(r.seq, s) })
}

func insertRecord(list []*record, rec *record) []*record {
	i, _ := findRecord(list, rec.seq)
	return slices.Insert(list, i, rec)
}

func replaceRecord(list []*record, rec *record) []*record {
	if i, ok := findRecord(list, rec.seq); ok {
		list[i] = rec
	}
	return list
}

func removeRecord(list []*record, seq uint64) []*record {
	if i, ok := findRecord(list, seq); ok {
		return slices.Delete(list, i, i+1)
	}
	return list
}
