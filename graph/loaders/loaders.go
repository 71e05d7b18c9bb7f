// Package loaders holds the per-request dataloaders that turn the N+1 shapes
// of a GraphQL operation into the fewest upstream calls the APIs allow:
// group lookups by id are batched into one GET /api/v2/groups?id=… per 100
// ids, and lookups that the upstream cannot batch (user groups by id, user
// groups by ExternalId, groups by jabber id) are de-duplicated and issued
// concurrently, bounded.
//
// One Loaders value lives for one request (never shared across requests or
// callers, so data never leaks between credentials); reach it with For.
package loaders

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// Batch limits, from the upstream references.
const (
	// MaxGroupIDsPerCall is how many ids one GET /api/v2/groups carries.
	MaxGroupIDsPerCall = 100
	// userGroupsPerExternalID is the page size of a search by ExternalId
	// (the API's maximum), so one call finds every linked user group.
	userGroupsPerExternalID = 250
)

// Options tunes the loaders.
type Options struct {
	// Wait is how long the group loader collects ids before it calls the
	// upstream (up to 100 ids in one call); a full batch goes out at once.
	// Default 1 ms. The loaders that make one call per key anyway (members
	// pages, jabber ids, user groups) do not wait (perKey).
	Wait time.Duration
	// ObserveBatch, when set, is told the size of every batch a loader
	// sends, by loader name ("group", "groupByJabberId", "userGroup",
	// "userGroupsByExternalId", "members"), for metrics.
	ObserveBatch func(loader string, size int)
}

// Loaders are the dataloaders of one request.
type Loaders struct {
	groupByID       *dataloader.Loader[string, *genesys.Group]
	groupByJabberID *perKey[string, *genesys.Group]
	userGroupByID   *perKey[string, *usergroups.UserGroup]
	userGroupsByExt *perKey[string, []usergroups.UserGroup]
	members         *perKey[MembersKey, *genesys.UserEntityListing]

	// fetchGroups is the batch function of groupByID, also used by
	// PrefetchGroups.
	fetchGroups dataloader.BatchFunc[string, *genesys.Group]
	mu          sync.Mutex
	// prefetched holds the lookups PrefetchGroups started, by id.
	prefetched map[string]*prefetch
	// membersKeys are the members page keys of fields of the document, by
	// MembersKeyOf's field.
	membersKeys map[any]MembersKey
	// userGroupIDs maps the key of userGroupByID (upstream.OpaqueIDKey of a
	// user-group id) to the spelling first asked for, which is sent.
	userGroupIDs map[string]string
}

// prefetch is one lookup PrefetchGroups started; done closes when results
// holds its answers.
type prefetch struct {
	done    chan struct{}
	results map[string]*dataloader.Result[*genesys.Group]
}

// MembersKey names one page of a group's members.
type MembersKey struct {
	GroupID    string
	PageSize   int
	PageNumber int
	SortOrder  genesys.SortOrder
	// Expand is the comma-joined expand list (a key must be comparable).
	Expand string
}

// New returns the loaders of one request, calling g and u.
func New(g *genesys.Client, u *usergroups.Client, o Options) *Loaders {
	if o.Wait == 0 {
		o.Wait = time.Millisecond
	}
	l := &Loaders{fetchGroups: observed(o, "group", groupsByID(g)), prefetched: map[string]*prefetch{},
		userGroupIDs: map[string]string{}}
	l.groupByID = dataloader.NewBatchedLoader(l.fetchGroups,
		dataloader.WithBatchCapacity[string, *genesys.Group](MaxGroupIDsPerCall),
		dataloader.WithInputCapacity[string, *genesys.Group](MaxGroupIDsPerCall),
		dataloader.WithWait[string, *genesys.Group](o.Wait))
	l.groupByJabberID = newPerKey(o, "groupByJabberId", func(ctx context.Context, jid string) (*genesys.Group, error) {
		return groupByJabberID(ctx, g, jid, l)
	})
	l.userGroupByID = newPerKey(o, "userGroup", func(ctx context.Context, key string) (*usergroups.UserGroup, error) {
		ug, err := u.Get(ctx, l.userGroupID(key))
		if errors.Is(err, upstream.ErrNotFound) {
			return nil, nil
		}
		return ug, err
	})
	l.userGroupsByExt = newPerKey(o, "userGroupsByExternalId", func(ctx context.Context, ext string) ([]usergroups.UserGroup, error) {
		res, err := u.Search(ctx, usergroups.SearchOptions{ExternalID: ext, PageSize: userGroupsPerExternalID})
		if err != nil {
			return nil, err
		}
		return res.UserGroups, nil
	})
	l.members = newPerKey(o, "members", func(ctx context.Context, k MembersKey) (*genesys.UserEntityListing, error) {
		opts := genesys.MembersOptions{PageSize: k.PageSize, PageNumber: k.PageNumber, SortOrder: k.SortOrder}
		if k.Expand != "" {
			opts.Expand = strings.Split(k.Expand, ",")
		}
		return g.GetGroupMembers(ctx, k.GroupID, opts)
	})
	return l
}

// observed wraps a batch function so that o.ObserveBatch hears the size of
// each batch; without an observer it returns f itself.
func observed[K comparable, V any](o Options, name string, f dataloader.BatchFunc[K, V]) dataloader.BatchFunc[K, V] {
	if o.ObserveBatch == nil {
		return f
	}
	return func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		o.ObserveBatch(name, len(keys))
		return f(ctx, keys)
	}
}

type ctxKey struct{}

// With returns a context that carries l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of the request ctx belongs to. It panics when the
// request was not set up with With: that is a wiring bug, not a runtime
// condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no Loaders in context (missing loaders.With)")
	}
	return l
}

// Group returns the group with id, or nil when no group has it.
func (l *Loaders) Group(ctx context.Context, id string) (*genesys.Group, error) {
	l.mu.Lock()
	p := l.prefetched[id]
	l.mu.Unlock()
	if p == nil {
		return load(ctx, l.groupByID, id)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := p.results[id]
	if r.Error != nil {
		l.forgetPrefetch(id, p) // not cached: a later lookup asks again
	}
	return r.Data, r.Error
}

// GroupByJabberID returns the group whose chat has jabberID, or nil.
func (l *Loaders) GroupByJabberID(ctx context.Context, jabberID string) (*genesys.Group, error) {
	return l.groupByJabberID.Load(ctx, jabberID)
}

// UserGroup returns the user group with id, or nil when none has it. Ids
// are opaque and compared as upstream.OpaqueIDKey does: spellings that
// differ only in case or hyphens share one lookup.
func (l *Loaders) UserGroup(ctx context.Context, id string) (*usergroups.UserGroup, error) {
	key := upstream.OpaqueIDKey(id)
	l.mu.Lock()
	if _, ok := l.userGroupIDs[key]; !ok {
		l.userGroupIDs[key] = id
	}
	l.mu.Unlock()
	return l.userGroupByID.Load(ctx, key)
}

// userGroupID returns the spelling of the user-group id whose key is key.
func (l *Loaders) userGroupID(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.userGroupIDs[key]
}

// UserGroupsByExternalID returns the user groups whose ExternalId is ext.
func (l *Loaders) UserGroupsByExternalID(ctx context.Context, ext string) ([]usergroups.UserGroup, error) {
	return l.userGroupsByExt.Load(ctx, ext)
}

// Members returns one page of a group's members. The same page asked twice
// in a request (say by the group resolver, to learn whether the group
// exists, and by the members field) costs one call.
func (l *Loaders) Members(ctx context.Context, k MembersKey) (*genesys.UserEntityListing, error) {
	return l.members.Load(ctx, k)
}

// PrefetchGroups starts the lookup of ids now, in one call per
// MaxGroupIDsPerCall ids, without waiting for the answers: Group then waits
// for them instead of asking again. Unlike loads that wait for a batch
// window, the number of calls does not depend on how the executor
// schedules the resolvers.
func (l *Loaders) PrefetchGroups(ctx context.Context, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var todo []string
	for _, id := range ids {
		if _, ok := l.prefetched[id]; !ok && upstream.CheckID("id", id) == nil {
			l.prefetched[id] = nil // reserved; set below
			todo = append(todo, id)
		}
	}
	for len(todo) > 0 {
		chunk := todo[:min(len(todo), MaxGroupIDsPerCall)]
		todo = todo[len(chunk):]
		p := &prefetch{done: make(chan struct{}), results: make(map[string]*dataloader.Result[*genesys.Group], len(chunk))}
		for _, id := range chunk {
			l.prefetched[id] = p
		}
		goUpstream(func() {
			defer close(p.done)
			for i, r := range l.fetchGroups(ctx, chunk) {
				p.results[chunk[i]] = r
			}
		})
	}
}

func (l *Loaders) forgetPrefetch(id string, p *prefetch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.prefetched[id] == p {
		delete(l.prefetched, id)
	}
}

// GroupPending returns a channel that closes when the lookup of group id
// that PrefetchGroups started is over, or nil when none was started (Group
// then makes or joins a lookup of its own).
func (l *Loaders) GroupPending(id string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.prefetched[id]; p != nil {
		return p.done
	}
	return nil
}

// MembersPending returns a channel that closes when the call for members
// page k (started by PrefetchMembers or an earlier Members) is over, or nil
// when no call for k was started.
func (l *Loaders) MembersPending(k MembersKey) <-chan struct{} {
	return l.members.pending(k)
}

// MembersKeyOf returns the key compute computes for field (any comparable
// value naming a members field of the document, its arguments and its
// selection), computing it once per request: the items of a list share
// their fields, so 25 groups' members fields need it worked out once. A
// failure is not kept.
func (l *Loaders) MembersKeyOf(field any, compute func() (MembersKey, error)) (MembersKey, error) {
	l.mu.Lock()
	k, ok := l.membersKeys[field]
	l.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := compute()
	if err != nil {
		return k, err
	}
	l.mu.Lock()
	if l.membersKeys == nil {
		l.membersKeys = map[any]MembersKey{}
	}
	l.membersKeys[field] = k
	l.mu.Unlock()
	return k, nil
}

// PrefetchMembers starts the members pages of keys now, without waiting.
func (l *Loaders) PrefetchMembers(ctx context.Context, keys []MembersKey) {
	l.members.Prefetch(ctx, keys)
}

// PrimeGroups stores groups fetched some other way (a page, a search), so
// that later lookups of their ids in the same request cost nothing.
func (l *Loaders) PrimeGroups(ctx context.Context, groups []genesys.Group) {
	for i := range groups {
		l.groupByID.Prime(ctx, groups[i].ID, &groups[i])
	}
}

// ForgetGroup drops what the request knows about group id, after a write.
func (l *Loaders) ForgetGroup(ctx context.Context, id string) {
	l.groupByID.Clear(ctx, id)
	l.members.ClearAll()
	l.mu.Lock()
	delete(l.prefetched, id)
	l.mu.Unlock()
}

// ForgetUserGroup drops what the request knows about user group id and the
// ExternalId lookups, after a write.
func (l *Loaders) ForgetUserGroup(ctx context.Context, id string) {
	l.userGroupByID.Clear(upstream.OpaqueIDKey(id))
	l.userGroupsByExt.ClearAll()
}

// load runs one lookup; a failed lookup is not cached, so a retry in the
// same request (another field, a later mutation) asks the upstream again.
func load[K comparable, V any](ctx context.Context, ld *dataloader.Loader[K, V], key K) (V, error) {
	v, err := ld.Load(ctx, key)()
	if err != nil {
		ld.Clear(ctx, key)
	}
	return v, err
}

// groupsByID is the batch function of Group: one GET /api/v2/groups per
// batch (the capacity keeps it at most MaxGroupIDsPerCall ids), answers
// mapped back to keys by id so a missing, repeated or reordered entity never
// lands on the wrong key.
func groupsByID(g *genesys.Client) dataloader.BatchFunc[string, *genesys.Group] {
	return func(ctx context.Context, ids []string) []*dataloader.Result[*genesys.Group] {
		out := make([]*dataloader.Result[*genesys.Group], len(ids))
		valid := make([]string, 0, len(ids))
		for i, id := range ids {
			if err := upstream.CheckID("id", id); err != nil {
				out[i] = &dataloader.Result[*genesys.Group]{Error: err}
				continue
			}
			valid = append(valid, id)
		}
		byID := map[string]*genesys.Group{}
		var err error
		if len(valid) > 0 {
			var page *genesys.GroupEntityListing
			page, err = g.GetGroups(ctx, genesys.GetGroupsOptions{IDs: valid, PageSize: len(valid)})
			if err == nil {
				for i := range page.Entities {
					byID[page.Entities[i].ID] = &page.Entities[i]
				}
			}
		}
		for i, id := range ids {
			if out[i] == nil {
				out[i] = &dataloader.Result[*genesys.Group]{Data: byID[id], Error: err}
			}
		}
		return out
	}
}

// groupByJabberID looks one jabber id up. Genesys groups do not carry their
// jabber id, so the answer of a call naming several jabber ids cannot be
// attributed to keys: each distinct jabber id costs one call (issued
// concurrently by each). The group found primes the id loader.
func groupByJabberID(ctx context.Context, g *genesys.Client, jid string, l *Loaders) (*genesys.Group, error) {
	page, err := g.GetGroups(ctx, genesys.GetGroupsOptions{JabberIDs: []string{jid}, PageSize: 1})
	if err != nil || len(page.Entities) == 0 {
		return nil, err
	}
	grp := &page.Entities[0]
	l.groupByID.Prime(ctx, grp.ID, grp)
	return grp, nil
}
