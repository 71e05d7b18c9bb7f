package resolvers

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
)

// What the four membership mutations share: the checking of their id lists
// and the per-id record of what happened, from which their payloads are
// built. The Genesys fan-out is in group_members.go, the Usergroup
// read-merge-write in usergroup_members.go.

// memberIDs checks the id list of a Genesys membership mutation: 1 to
// limit ids (counted as given). It returns the log of the distinct ids in
// lower case, in the order they were first given, where an id that is no
// UUID has already FAILED with BAD_USER_INPUT (the others still run). It
// costs no upstream call.
func memberIDs(field string, ids []string, limit int) (*changeLog, error) {
	lower := make([]string, len(ids))
	for i, id := range ids {
		lower[i] = strings.ToLower(id)
	}
	return distinctMemberIDs(field, lower, limit, upstream.CheckID, strings.ToLower)
}

// distinctMemberIDs checks the id list of a membership mutation: 1 to
// limit ids (counted as given), or the whole field fails. It returns the
// log of the ids that are distinct by key, as first given, in that order;
// an id failing check is FAILED in it and left out of its todo, so one bad
// id fails alone (when every id fails, the field does). It costs no
// upstream call.
func distinctMemberIDs(field string, ids []string, limit int, check func(string, string) error,
	key func(string) string) (*changeLog, error) {
	switch {
	case len(ids) == 0:
		return nil, badInput(field, "must name at least one id")
	case len(ids) > limit:
		return nil, badInput(field, "at most "+strconv.Itoa(limit)+" ids per mutation")
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if k := key(id); !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	log := newChangeLog(out)
	for _, id := range out {
		if err := check(field, id); err != nil {
			log.fail(err, id)
		}
	}
	log.todo = slices.DeleteFunc(slices.Clone(out), func(id string) bool { return log.errs[id] != nil })
	if len(log.todo) == 0 {
		return nil, log.errs[out[0]] // nothing to run: the field fails, as for any bad input
	}
	return log, nil
}

// changeLog records, id by id, what a membership change did.
type changeLog struct {
	ids []string
	// todo are the ids to change: those that passed the checks.
	todo     []string
	outcomes map[string]model.MemberChangeOutcome
	errs     map[string]error
}

func newChangeLog(ids []string) *changeLog {
	return &changeLog{ids: ids, todo: ids, outcomes: make(map[string]model.MemberChangeOutcome, len(ids)), errs: map[string]error{}}
}

// set records outcome for ids, replacing an earlier failure.
func (c *changeLog) set(outcome model.MemberChangeOutcome, ids ...string) {
	for _, id := range ids {
		c.outcomes[id] = outcome
		delete(c.errs, id)
	}
}

// fail records that ids were not changed because of err.
func (c *changeLog) fail(err error, ids ...string) {
	for _, id := range ids {
		c.outcomes[id] = model.MemberChangeOutcomeFailed
		c.errs[id] = err
	}
}

// results lists the outcome of every id, in request order. An id never
// settled (which the callers do not leave) would read as FAILED.
func (c *changeLog) results() []model.MemberChangeResult {
	out := make([]model.MemberChangeResult, len(c.ids))
	for i, id := range c.ids {
		out[i] = model.MemberChangeResult{MemberID: id, Outcome: model.MemberChangeOutcomeFailed}
		if o, ok := c.outcomes[id]; ok {
			out[i].Outcome = o
		}
		if err := c.errs[id]; err != nil {
			code, _, msg := classify(err)
			out[i].ErrorCode, out[i].ErrorMessage = &code, &msg
		}
	}
	return out
}

// status is COMPLETE when no id failed, FAILED when every id did, PARTIAL
// otherwise.
func (c *changeLog) status() model.MembershipChangeStatus {
	failed := 0
	for _, id := range c.ids {
		if o, ok := c.outcomes[id]; !ok || o == model.MemberChangeOutcomeFailed {
			failed++
		}
	}
	switch failed {
	case 0:
		return model.MembershipChangeStatusComplete
	case len(c.ids):
		return model.MembershipChangeStatusFailed
	}
	return model.MembershipChangeStatusPartial
}

// report adds the error of the first failed id to the response's errors,
// so that a partly or wholly failed change is never a plain success for a
// caller that only looks at errors. The payload is returned as well.
func (c *changeLog) report(ctx context.Context) {
	for _, id := range c.ids {
		if err := c.errs[id]; err != nil {
			graphql.AddError(ctx, err)
			return
		}
	}
}
