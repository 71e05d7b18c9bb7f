package resolvers

import (
	"context"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// maxMergeAttempts bounds the read-merge-write-verify cycles of one user
// group change: a cycle is repeated only when the read-back shows that a
// writer outside this process overwrote the list in between.
const maxMergeAttempts = 3

// changeUserGroupUsers adds (add) or removes users of user group id (ids are
// opaque, see upstream.CheckOpaqueID). The Usergroup API can only replace
// the whole UserIds list, so under the group's lock (in the process, and
// across replicas with WithSharedLock) the gateway reads the group,
// merges, writes the full object and reads it back. Ids
// still wrong after maxMergeAttempts cycles fail with CONFLICT; a failed
// read or write fails the field (a single write is all or nothing).
//
// Upstream: GET, PUT, GET /api/v2/usergroup per cycle; no PUT when nothing
// has to change.
func (r *Resolver) changeUserGroupUsers(ctx context.Context, id string, userIDs []string, add bool) (*model.UserGroupMembershipPayload, error) {
	if err := upstream.CheckOpaqueID("id", id); err != nil {
		return nil, err
	}
	log, err := distinctMemberIDs("userIds", userIDs, r.maxMemberIDs, upstream.CheckOpaqueID, upstream.OpaqueIDKey)
	if err != nil {
		return nil, err
	}
	check, unlock, err := r.lockUserGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	defer loaders.For(ctx).ForgetUserGroup(ctx, id)
	m := &userMerge{add: add, log: log}
	ug, err := r.mergeUsers(ctx, id, m, check)
	if err != nil {
		return nil, err
	}
	m.log.report(ctx)
	return &model.UserGroupMembershipPayload{UserGroupID: id, Status: m.log.status(), Results: m.log.results(),
		UserGroup: userGroup(ug)}, nil
}

// updateUserGroupSerial is updateUserGroup under the user group's lock, so
// that a replacement never interleaves with the read-merge-write of
// addUserGroupUsers / removeUserGroupUsers.
func (r *Resolver) updateUserGroupSerial(ctx context.Context, id string, input model.UpdateUserGroupInput) (*model.UserGroup, error) {
	check, unlock, err := r.lockUserGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := check(ctx); err != nil {
		return nil, err
	}
	return r.updateUserGroup(ctx, id, input)
}

// lockUserGroup takes user group id's lock: in the process, then, with a
// shared lock, across replicas. check is the fencing check to make before
// each write (UPSTREAM_UNAVAILABLE, retryable, once the shared lock cannot
// be confirmed).
func (r *Resolver) lockUserGroup(ctx context.Context, id string) (check func(context.Context) error, unlock func(), err error) {
	key := upstream.OpaqueIDKey(id)
	unlockLocal, err := r.userGroupLocks.lock(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if r.sharedLock == nil {
		return func(context.Context) error { return nil }, unlockLocal, nil
	}
	checkShared, unlockShared, err := r.sharedLock(ctx, "usergroup:"+key)
	if err != nil {
		unlockLocal()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, sharedUnavailable("the user group's lock cannot be taken now (its store is unavailable); nothing was changed, retry later")
	}
	check = func(ctx context.Context) error {
		if checkShared(ctx) != nil {
			return sharedUnavailable("the user group's lock was lost before the write (its store is unavailable); run the mutation again")
		}
		return nil
	}
	return check, func() { unlockShared(); unlockLocal() }, nil
}

// sharedRetryAfter is the retryAfter, in seconds, of a failure of the
// state the replicas share.
const sharedRetryAfter = 2

// sharedUnavailable is the error of a change refused because the state the
// replicas share (REDIS_URL) failed.
func sharedUnavailable(msg string) error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeUpstreamUnavailable, "retryAfter": sharedRetryAfter}}
}

// mergeUsers runs the read-merge-write-verify cycles and returns the user
// group as last read; check is the lock's fencing check before each write.
func (r *Resolver) mergeUsers(ctx context.Context, id string, m *userMerge, check func(context.Context) error) (*usergroups.UserGroup, error) {
	cur, err := r.usergroups.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	m.first(cur.UserIDs)
	for attempt := 0; attempt < maxMergeAttempts && !m.done(cur.UserIDs); attempt++ {
		req := usergroups.UpdateRequest{ID: cur.ID, Name: cur.Name, ExternalID: cur.ExternalID, UserIDs: m.merged(cur.UserIDs)}
		if err := check(ctx); err != nil {
			return nil, err
		}
		if _, err := r.usergroups.Update(ctx, req); err != nil {
			return nil, err
		}
		if cur, err = r.usergroups.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	m.verify(cur.UserIDs)
	return cur, nil
}

// userMerge is the change one addUserGroupUsers or removeUserGroupUsers
// makes to a UserIds list. Ids are opaque and compared as the reference
// advises: case-insensitively, hyphens ignored (upstream.OpaqueIDKey), so
// "ABC…" names the member "abc…" and a GUID matches its 32-hex spelling.
type userMerge struct {
	add bool
	log *changeLog
}

// first records, from the list as first read, which ids need no change.
func (m *userMerge) first(current []string) {
	have := userSet(current)
	for _, id := range m.log.todo {
		if have[upstream.OpaqueIDKey(id)] == m.add {
			m.log.set(m.unchanged(), id)
		}
	}
}

// unchanged is the outcome of an id that already had the membership.
func (m *userMerge) unchanged() model.MemberChangeOutcome {
	if m.add {
		return model.MemberChangeOutcomeAlreadyMember
	}
	return model.MemberChangeOutcomeNotMember
}

// done reports whether current already has every requested id as asked.
func (m *userMerge) done(current []string) bool {
	have := userSet(current)
	for _, id := range m.log.todo {
		if have[upstream.OpaqueIDKey(id)] != m.add {
			return false
		}
	}
	return true
}

// merged returns current with the requested ids added or removed, the
// existing ids kept as the upstream spells them.
func (m *userMerge) merged(current []string) []string {
	if !m.add {
		drop := userSet(m.log.todo)
		out := make([]string, 0, len(current))
		for _, u := range current {
			if !drop[upstream.OpaqueIDKey(u)] {
				out = append(out, u)
			}
		}
		return out
	}
	out := append([]string(nil), current...)
	have := userSet(current)
	for _, id := range m.log.todo {
		if !have[upstream.OpaqueIDKey(id)] {
			have[upstream.OpaqueIDKey(id)] = true
			out = append(out, id)
		}
	}
	return out
}

// verify records the outcome of the ids not settled by first, from the
// list as read back: as asked, or FAILED with CONFLICT when another writer
// kept undoing the change.
func (m *userMerge) verify(current []string) {
	have := userSet(current)
	changed := model.MemberChangeOutcomeAdded
	if !m.add {
		changed = model.MemberChangeOutcomeRemoved
	}
	for _, id := range m.log.todo {
		if _, settled := m.log.outcomes[id]; settled {
			continue
		}
		if have[upstream.OpaqueIDKey(id)] == m.add {
			m.log.set(changed, id)
			continue
		}
		m.log.fail(overwritten(), id)
	}
}

// overwritten is the error of the ids a writer outside the gateway kept
// overwriting (a new value each time: the presenter sets its path).
func overwritten() error {
	return &gqlerror.Error{Message: "the user group kept changing under the write (another writer); run the mutation again",
		Extensions: map[string]any{"code": CodeConflict, "upstream": upstream.Usergroups}}
}

// userSet indexes ids by upstream.OpaqueIDKey.
func userSet(ids []string) map[string]bool {
	s := make(map[string]bool, len(ids))
	for _, id := range ids {
		s[upstream.OpaqueIDKey(id)] = true
	}
	return s
}

// keyedLocks serialises work per key inside the process: a user group's
// read-merge-write cycles never interleave, so concurrent changes to one
// group do not lose each other's writes. Unused keys are forgotten.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

// keyedLock is one key's lock: a one-slot semaphore (so waiting can end
// with the request's context) and how many callers hold or wait for it.
type keyedLock struct {
	slot chan struct{}
	refs int
}

func newKeyedLocks() *keyedLocks { return &keyedLocks{locks: map[string]*keyedLock{}} }

// lock waits until key is free or ctx ends, and returns the function that
// frees it.
func (k *keyedLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{slot: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.slot <- struct{}{}:
		return func() {
			<-l.slot
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

// release drops one reference to l, and l itself with the last one.
func (k *keyedLocks) release(key string, l *keyedLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(k.locks, key)
	}
}
