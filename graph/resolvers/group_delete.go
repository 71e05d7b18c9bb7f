package resolvers

import (
	"context"
	"errors"
	"time"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Confirming a Genesys group delete. Genesys answers DELETE /groups/{id}
// with 200 at once and completes the delete asynchronously, sometimes not
// at all. Its own Terraform provider (resource_genesyscloud_group.go,
// deleteGroup) reads the group back for up to 60 s, counts a 404 or state
// "deleted" as done, and sends the delete again while the group is still
// there. The gateway does the same within a shorter bound that fits the
// request's deadline, and says in the payload what it saw.

// DefaultDeleteConfirmTimeout is how long deleteGroup reads a deleted group
// back, unless WithDeleteConfirmTimeout says otherwise.
const DefaultDeleteConfirmTimeout = 10 * time.Second

const (
	// firstDeleteWait is the wait before the first read-back (and before
	// the first re-send of a delete refused with a version conflict); each
	// later wait doubles, up to maxDeleteWait.
	firstDeleteWait = 100 * time.Millisecond
	maxDeleteWait   = 2 * time.Second
	// reissueEvery is how many read-backs that still find the group lead
	// to sending the delete again.
	reissueEvery = 2
	// deadlineMargin is kept of the request's deadline for the answer.
	deadlineMargin = time.Second
)

// deleteGroup deletes a Genesys group and confirms it (see above).
func (r *Resolver) deleteGroup(ctx context.Context, id string) (*model.DeletePayload, error) {
	if err := upstream.CheckID("id", id); err != nil {
		return nil, err
	}
	defer loaders.For(ctx).ForgetGroup(ctx, id)
	err := r.sendGroupDelete(ctx, id)
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		return r.deleteFoundNothing(ctx, id)
	case err != nil:
		return nil, err
	}
	return deletePayload(id, r.confirmGroupDelete(ctx, id)), nil
}

// deleteFoundNothing answers a group delete that Genesys answered 404: a
// read tells a group Genesys still shows (in state deleted, or on its way
// out) from one it does not know at all (never existed, or deleted long
// ago), which must not read as a successful delete.
func (r *Resolver) deleteFoundNothing(ctx context.Context, id string) (*model.DeletePayload, error) {
	_, err := r.genesys.GetGroup(ctx, id)
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		return deletePayload(id, model.DeleteStatusNotFound), nil
	case err != nil:
		return nil, err
	}
	return deletePayload(id, model.DeleteStatusAlreadyDeleted), nil
}

// sendGroupDelete sends the delete, and sends it again after a version
// conflict (Genesys answers one when the group changes meanwhile; Terraform
// retries it the same way), at most maxConflictRetries times.
func (r *Resolver) sendGroupDelete(ctx context.Context, id string) error {
	wait := firstDeleteWait
	for attempt := 0; ; attempt++ {
		err := r.genesys.DeleteGroup(ctx, id)
		if !errors.Is(err, upstream.ErrConflict) || attempt >= maxConflictRetries || upstream.Sleep(ctx, wait) != nil {
			return err
		}
		wait = min(2*wait, maxDeleteWait)
	}
}

// confirmGroupDelete reads the group back, after growing waits, until it is
// gone (CONFIRMED) or the bound runs out (PENDING): the request's deadline
// less deadlineMargin, or the configured timeout, whichever comes first.
// Every reissueEvery reads that still find the group, the delete is sent
// again. A read that fails for a reason other than a passing one (the
// upstream unavailable or rate limiting) ends the checking too.
func (r *Resolver) confirmGroupDelete(ctx context.Context, id string) model.DeleteStatus {
	stop := time.Now().Add(r.deleteConfirmTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(stop) {
		stop = d.Add(-deadlineMargin)
	}
	wait, still := firstDeleteWait, 0
	for {
		left := time.Until(stop)
		if left <= 0 || upstream.Sleep(ctx, min(wait, left)) != nil {
			return model.DeleteStatusPending
		}
		wait = min(2*wait, maxDeleteWait)
		gone, err := r.groupGone(ctx, id)
		switch {
		case gone:
			return model.DeleteStatusConfirmed
		case err != nil && !errors.Is(err, upstream.ErrUnavailable) && !errors.Is(err, upstream.ErrRateLimited):
			return model.DeleteStatusPending
		case err != nil:
			continue
		}
		if still++; still%reissueEvery == 0 && errors.Is(r.genesys.DeleteGroup(ctx, id), upstream.ErrNotFound) {
			return model.DeleteStatusConfirmed
		}
	}
}

// groupGone reads group id and reports whether it is gone: 404, or a group
// in state deleted.
func (r *Resolver) groupGone(ctx context.Context, id string) (bool, error) {
	g, err := r.genesys.GetGroup(ctx, id)
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return g.State == genesys.StateDeleted, nil
}

// deletePayload is the payload of a delete of the object whose global id is
// id that reached status: deleted only when the object is known to be gone.
// The payload's own id is derived from id, so it never shares the object's.
func deletePayload(id string, status model.DeleteStatus) *model.DeletePayload {
	return &model.DeletePayload{ID: derivedID(typeDeletePayload, id), DeletedID: id, Status: status,
		Deleted:        status == model.DeleteStatusConfirmed || status == model.DeleteStatusAlreadyDeleted,
		AlreadyDeleted: status == model.DeleteStatusAlreadyDeleted}
}
