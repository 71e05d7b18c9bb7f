package resolvers

import (
	"context"
	"errors"
	"strings"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// maxConflictRetries is how many times one write is re-sent after a
// version conflict (another writer changed the group: 409, 400 "does not
// match the current version", or 408; see upstream.Error.Is). A chunk is
// re-sent with the re-read version and only the ids still needing the
// change; updateGroup and deleteGroup use the same bound.
const maxConflictRetries = 3

// groupChange is one addGroupMembers or removeGroupMembers being applied.
//
// The group's individuals (the users added directly: what POST and DELETE
// members change) are read once, to tell ADDED from ALREADY_MEMBER and
// REMOVED from NOT_MEMBER and to send only what is missing. The ids still
// needing the change are then sent in chunks of genesys.MaxMembersPerRequest,
// one after the other. An add carries the group's version: the caller's,
// else one read just before the first chunk, then one more per applied
// chunk (each write bumps it; a wrong guess costs a conflict and a
// re-read). The API has taken adds without a version since SDK 247, but
// the gateway keeps sending the one it read: it guards against lost
// updates, and no add is ever sent without one (send reads it first), so a
// server that still requires it never answers 400 for its lack.
type groupChange struct {
	client  *genesys.Client
	groupID string
	add     bool
	// version is what the next add sends; nil means read it first.
	version *int
	// direct holds the group's individuals, as last read and since changed.
	direct map[string]bool
	log    *changeLog
	// unsure are ids of chunks that got no answer: the write may or may not
	// have been applied, so they are checked by a read at the end.
	unsure []string
}

// changeGroupMembers adds (add) or removes the members ids of group
// groupID. Failures of single chunks are reported per id in the payload
// (and the first one in errors); a failure before anything was sent (bad
// input, the group cannot be read) fails the field.
func (r *Resolver) changeGroupMembers(ctx context.Context, groupID string, ids []string, version *int, add bool) (*model.MembershipChangePayload, error) {
	if err := upstream.CheckID("groupId", groupID); err != nil {
		return nil, err
	}
	log, err := memberIDs("memberIds", ids, r.maxMemberIDs)
	if err != nil {
		return nil, err
	}
	c := &groupChange{client: r.genesys, groupID: groupID, add: add, version: version, log: log}
	if err := c.readIndividuals(ctx); err != nil {
		return nil, err
	}
	c.run(ctx)
	c.checkUnsure(ctx)
	loaders.For(ctx).ForgetGroup(ctx, groupID)
	c.log.report(ctx)
	return &model.MembershipChangePayload{GroupID: groupID, Status: c.log.status(), Results: c.log.results()}, nil
}

// run sends the chunks in order. After a failure that concerns only its
// chunk it goes on; after one that would meet every later chunk too it
// stops, and the ids not sent fail with the same error.
func (c *groupChange) run(ctx context.Context) {
	pending := c.log.todo
	for len(pending) > 0 {
		var chunk []string
		chunk, pending = c.nextChunk(pending)
		if len(chunk) == 0 {
			return
		}
		if err := c.apply(ctx, chunk); err != nil && !chunkLocal(err) {
			c.log.fail(err, c.settle(pending)...)
			return
		}
	}
}

// nextChunk takes ids from pending until the chunk holds the API's limit of
// ids that still need the change; the ids passed over are settled.
func (c *groupChange) nextChunk(pending []string) (chunk, rest []string) {
	for len(pending) > 0 && len(chunk) < genesys.MaxMembersPerRequest {
		id := pending[0]
		pending = pending[1:]
		chunk = append(chunk, c.settle([]string{id})...)
	}
	return chunk, pending
}

// settle records the unchanged outcome of the ids that do not need the
// change and returns the others.
func (c *groupChange) settle(ids []string) []string {
	var needed []string
	for _, id := range ids {
		if c.direct[id] == c.add {
			c.log.set(c.outcome(false), id)
			continue
		}
		needed = append(needed, id)
	}
	return needed
}

// outcome names what happened to an id that was changed or not.
func (c *groupChange) outcome(changed bool) model.MemberChangeOutcome {
	switch {
	case c.add && changed:
		return model.MemberChangeOutcomeAdded
	case c.add:
		return model.MemberChangeOutcomeAlreadyMember
	case changed:
		return model.MemberChangeOutcomeRemoved
	}
	return model.MemberChangeOutcomeNotMember
}

// apply sends one chunk. After a version conflict it re-reads the group and
// re-sends the ids still needing the change, at most maxConflictRetries
// times. It records the chunk's outcome and returns the error that failed
// it. A chunk the upstream accepted (202) counts as applied: Genesys applies
// it asynchronously, so no read right after is asked to show it.
func (c *groupChange) apply(ctx context.Context, chunk []string) error {
	for attempt := 0; ; attempt++ {
		err := c.send(ctx, chunk)
		if err == nil {
			c.applied(chunk, true)
			return nil
		}
		if errors.Is(err, upstream.ErrConflict) && attempt < maxConflictRetries {
			if err = c.readIndividuals(ctx); err == nil {
				c.version = nil
				if chunk = c.settle(chunk); len(chunk) == 0 {
					return nil
				}
				continue
			}
		}
		c.log.fail(err, chunk...)
		var te *upstream.TransportError
		if errors.As(err, &te) {
			c.unsure = append(c.unsure, chunk...)
		}
		return err
	}
}

// send makes the one upstream write of a chunk (reading the version first
// when it is not known).
func (c *groupChange) send(ctx context.Context, ids []string) error {
	if !c.add {
		return c.client.RemoveGroupMembers(ctx, c.groupID, ids)
	}
	if c.version == nil {
		g, err := c.client.GetGroup(ctx, c.groupID)
		if err != nil {
			return err
		}
		c.version = &g.Version
	}
	if err := c.client.AddGroupMembers(ctx, c.groupID, genesys.GroupMembersUpdate{MemberIDs: ids, Version: c.version}); err != nil {
		return err
	}
	next := *c.version + 1
	c.version = &next
	return nil
}

// applied records that ids now have the membership asked for.
func (c *groupChange) applied(ids []string, changed bool) {
	for _, id := range ids {
		c.direct[id] = c.add
	}
	c.log.set(c.outcome(changed), ids...)
}

// checkUnsure reads the individuals once more when some chunk got no
// answer, and records as done the ids that turn out to have the
// membership asked for. When that read fails they stay FAILED.
func (c *groupChange) checkUnsure(ctx context.Context) {
	if len(c.unsure) == 0 || c.readIndividuals(ctx) != nil {
		return
	}
	for _, id := range c.unsure {
		if c.direct[id] == c.add {
			c.applied([]string{id}, true)
		}
	}
}

// readIndividuals reads the users added to the group directly.
//
// Upstream: GET /api/v2/groups/{groupId}/individuals (one call, no paging:
// whether the API truncates very large groups is not documented; Genesys'
// own Terraform provider relies on it the same way).
func (c *groupChange) readIndividuals(ctx context.Context) error {
	l, err := c.client.GetGroupIndividuals(ctx, c.groupID)
	if err != nil {
		return err
	}
	c.direct = make(map[string]bool, len(l.Entities))
	for _, u := range l.Entities {
		c.direct[strings.ToLower(u.ID)] = true
	}
	return nil
}

// chunkLocal reports whether err concerns only the chunk that met it: the
// upstream refused its ids (400), a conflict outlived the retries, or the
// upstream answered with a server error. Anything else (the group is gone,
// the caller may not change it, rate limiting, no answer at all, the
// request's deadline) would meet every later chunk too.
func chunkLocal(err error) bool {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		return false
	}
	return errors.Is(ue, upstream.ErrBadRequest) || errors.Is(ue, upstream.ErrConflict) || ue.Status >= 500
}

// membershipGroup resolves MembershipChangePayload.group: the group read
// after the change, through the request's loaders (which the change
// cleared), so `group { members { … } }` shows the new state.
func (r *Resolver) membershipGroup(ctx context.Context, p *model.MembershipChangePayload) (*model.Group, error) {
	return r.group(ctx, p.GroupID)
}

// membershipVersion resolves MembershipChangePayload.version from the same
// read as membershipGroup (one batched call for both).
func (r *Resolver) membershipVersion(ctx context.Context, p *model.MembershipChangePayload) (*int, error) {
	g, err := loaders.For(ctx).Group(ctx, p.GroupID)
	if err != nil || g == nil {
		return nil, err
	}
	v := g.Version
	return &v, nil
}
