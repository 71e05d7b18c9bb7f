package genesysemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
)

// baseTime is the emulator's fixed clock: seeded data is dated before it and
// each write moves it one second on, so answers are deterministic.
var baseTime = time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)

func formatDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// group is the stored state of one group. entity, profile, members and
// individuals are derived by refresh after every change and never mutated in
// place, so readers may keep them after releasing the lock.
type group struct {
	id, jabberID                                            string
	name, description, typ, visibility, state               string
	version                                                 int
	rulesVisible, rolesEnabled, includeOwners, callsEnabled bool
	images                                                  []image
	addresses                                               []groupContact
	owners                                                  []int
	direct                                                  map[int]bool
	modified                                                time.Time
	dynamic                                                 *dynamicDefinition

	entity, profile      json.RawMessage
	members, individuals []int
}

// store is the emulator's data, guarded by one lock. Users never change.
type store struct {
	users    []user
	userByID map[string]int

	mu       sync.RWMutex
	groups   map[string]*group
	byJabber map[string]*group
	byName   []*group
	ticks    int
}

func newStore(size demodata.Size) *store {
	s := &store{users: make([]user, size.Users), userByID: make(map[string]int, size.Users),
		groups: make(map[string]*group, size.Groups), byJabber: make(map[string]*group, size.Groups)}
	for i := range size.Users {
		s.users[i] = newUser(i)
		s.userByID[s.users[i].id] = i
	}
	for i := range size.Groups {
		s.insert(seedGroup(size, i))
	}
	s.sortGroups()
	return s
}

var seedVisibilities = []string{"public", "public", "members", "owners"}

// seedType makes every fifth demo group social.
func seedType(i int) string {
	if i%5 == 4 {
		return "social"
	}
	return "official"
}

// seedState makes every eleventh demo group inactive.
func seedState(i int) string {
	if i%11 == 10 {
		return "inactive"
	}
	return "active"
}

// seedGroup builds demo group i: its individuals are size.MemberIndexes(i),
// its owner is the first of them and includeOwners is off, so that members,
// individuals and demodata agree and removing any member shrinks the group.
func seedGroup(size demodata.Size, i int) *group {
	members := size.MemberIndexes(i)
	g := &group{
		id: demodata.GroupID(i), jabberID: demodata.GroupJabberID(i), name: demodata.GroupName(i),
		description: demodata.GroupName(i) + " team of the demo organisation",
		typ:         seedType(i), visibility: seedVisibilities[i%len(seedVisibilities)], state: seedState(i),
		version: 1 + i%5, rulesVisible: true, rolesEnabled: i%2 == 0, callsEnabled: i%3 != 0,
		addresses: []groupContact{{Address: fmt.Sprintf("+1317556%04d", i%10000),
			Display: fmt.Sprintf("+1 317-556-%04d", i%10000), Type: "GROUPPHONE", MediaType: "PHONE"}},
		direct:   make(map[int]bool, len(members)),
		modified: baseTime.Add(-time.Duration(i+1) * time.Hour),
	}
	for _, m := range members {
		g.direct[m] = true
	}
	if len(members) > 0 {
		g.owners = []int{members[0]}
	}
	if i == demodata.DynamicGroup {
		g.dynamic = seedDynamic(g.modified)
	}
	return g
}

// insert adds g to the indexes (the caller sorts).
func (s *store) insert(g *group) {
	s.refresh(g)
	s.groups[g.id] = g
	s.byJabber[g.jabberID] = g
	s.byName = append(s.byName, g)
}

func (s *store) sortGroups() {
	slices.SortFunc(s.byName, compareGroups)
}

func compareGroups(a, b *group) int {
	return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.id, b.id))
}

// touch records a change of g: version + 1, the clock moves on, the derived
// state is recomputed.
func (s *store) touch(g *group) {
	s.tick(g)
	s.refresh(g)
}

func (s *store) tick(g *group) {
	g.version++
	g.modified = s.advance()
}

// advance moves the fixed clock one second on and returns it.
func (s *store) advance() time.Time {
	s.ticks++
	return baseTime.Add(time.Duration(s.ticks) * time.Second)
}

// refresh recomputes what is derived from g's state.
func (s *store) refresh(g *group) {
	all := make(map[int]bool, len(g.direct)+len(g.owners))
	for u := range g.direct {
		all[u] = true
	}
	if g.includeOwners {
		for _, u := range g.owners {
			all[u] = true
		}
	}
	g.individuals = s.sortedUsers(g.direct)
	g.members = s.sortedUsers(all)
	g.entity, _ = json.Marshal(s.groupJSON(g))
	g.profile, _ = json.Marshal(groupProfileJSON{ID: g.id, Name: g.name, State: g.state,
		DateModified: formatDate(g.modified), Version: g.version, SelfURI: groupSelfURI(g.id) + "/profile"})
}

func (s *store) groupJSON(g *group) groupJSON {
	owners := make([]entityRef, len(g.owners))
	for k, u := range g.owners {
		owners[k] = entityRef{ID: s.users[u].id, Name: s.users[u].name, SelfURI: userSelfURI(s.users[u].id)}
	}
	return groupJSON{
		ID: g.id, Name: g.name, Description: g.description, DateModified: formatDate(g.modified),
		MemberCount: len(g.members), State: g.state, Version: g.version, Type: g.typ,
		Images: g.images, Addresses: g.addresses, RulesVisible: g.rulesVisible, Visibility: g.visibility,
		RolesEnabled: g.rolesEnabled, IncludeOwners: g.includeOwners, CallsEnabled: g.callsEnabled,
		Owners: owners, SelfURI: groupSelfURI(g.id),
	}
}

// sortedUsers returns the user indexes of set ordered by name, then id.
func (s *store) sortedUsers(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b int) int {
		return cmp.Or(cmp.Compare(s.users[a].name, s.users[b].name), cmp.Compare(s.users[a].id, s.users[b].id))
	})
	return out
}

func groupSelfURI(id string) string { return "/api/v2/groups/" + id }

// read runs f on group id under the read lock; it reports a 404 when there
// is no such group.
func (s *store) read(id string, f func(g *group) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[id]
	if !ok {
		return notFound("group %s not found", id)
	}
	return f(g)
}

// write runs f on group id under the write lock; it reports a 404 when there
// is no such group.
func (s *store) write(id string, f func(g *group) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return notFound("group %s not found", id)
	}
	return f(g)
}

// userIndexes maps user ids to indexes; unknown ids are returned apart.
func (s *store) userIndexes(ids []string) (found []int, unknown []string) {
	for _, id := range ids {
		if i, ok := s.userByID[id]; ok {
			found = append(found, i)
		} else {
			unknown = append(unknown, id)
		}
	}
	return found, unknown
}
