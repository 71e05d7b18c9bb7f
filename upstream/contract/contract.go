// Package contract is the client contract suite: what the gateway's typed
// clients (upstream/genesys and upstream/usergroups) rely on, checked
// against whatever API the clients are pointed at, without knowing its data.
//
// It runs twice. In `make test` it runs against the project's emulators
// (emulators_test.go), so a change to a client or an emulator that breaks
// the contract fails there. With `make smoke` it runs against a real Genesys
// org and a real forms account (smoke_test.go, build tag smoke), so what the
// emulators assume can be checked against the real APIs.
//
// Reads never change anything. Writes run only when Options.Writes is set,
// and only on objects the suite creates itself, named with Options.Prefix
// and deleted at the end (also when a step fails).
package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// DefaultPrefix starts the name of every object the suite creates, so that
// one left behind by an interrupted run is easy to find and remove.
const DefaultPrefix = "gw-contract-"

// Options selects what the suite does.
type Options struct {
	// Writes allows creating, changing and deleting objects the suite makes.
	Writes bool
	// Prefix starts the name of each object the suite creates
	// (DefaultPrefix when empty).
	Prefix string
	// Settle bounds how long the suite waits for an accepted write to show
	// on a read (Genesys applies deletes and member changes asynchronously);
	// one minute when zero, like Genesys' Terraform provider.
	Settle time.Duration
}

func (o Options) prefix() string {
	if o.Prefix == "" {
		return DefaultPrefix
	}
	return o.Prefix
}

func (o Options) settle() time.Duration {
	if o.Settle <= 0 {
		return time.Minute
	}
	return o.Settle
}

// name returns a fresh name for an object the suite creates.
func (o Options) name(kind string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return o.prefix() + kind + "-" + time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// callTimeout bounds each step's calls.
const callTimeout = 30 * time.Second

func stepContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls check every interval until it reports done or the
// bound passes, and returns whether it was done.
func eventually(bound time.Duration, check func() bool) bool {
	deadline := time.Now().Add(bound)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		if check() {
			return true
		}
		if time.Now().Add(wait).After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// Genesys runs the contract of the Genesys Groups client against the API c
// points at.
func Genesys(t *testing.T, c *genesys.Client, o Options) {
	var first *genesys.Group
	t.Run("list groups", func(t *testing.T) {
		page, err := c.GetGroups(stepContext(t), genesys.GetGroupsOptions{PageSize: 5, PageNumber: 1})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(page.Entities), 5)
		assert.GreaterOrEqual(t, page.Total, int64(len(page.Entities)))
		for _, g := range page.Entities {
			assert.NoError(t, upstream.CheckID("id", g.ID), "group ids are UUIDs")
			assert.NotEmpty(t, g.Name)
		}
		if len(page.Entities) > 0 {
			first = &page.Entities[0]
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		_, err := c.GetGroup(stepContext(t), "00000000-0000-4000-8000-00000000dead")
		assert.ErrorIs(t, err, upstream.ErrNotFound)
	})
	t.Run("field config", func(t *testing.T) {
		fc, err := c.GetFieldConfig(stepContext(t), genesys.EntityGroup)
		require.NoError(t, err)
		assert.Equal(t, genesys.EntityGroup, fc.EntityType)
	})
	t.Run("one group", func(t *testing.T) {
		if first == nil {
			t.Skip("the org has no group to read")
		}
		genesysGroupReads(t, c, *first)
	})
	if o.Writes {
		t.Run("writes", func(t *testing.T) { genesysWrites(t, c, o, first) })
	}
}

func genesysGroupReads(t *testing.T, c *genesys.Client, g genesys.Group) {
	ctx := stepContext(t)
	got, err := c.GetGroup(ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, g.ID, got.ID)
	assert.Equal(t, g.Name, got.Name)

	byID, err := c.GetGroups(ctx, genesys.GetGroupsOptions{IDs: []string{g.ID}})
	require.NoError(t, err)
	require.Len(t, byID.Entities, 1, "GET /groups?id= answers the group asked for")
	assert.Equal(t, g.ID, byID.Entities[0].ID)

	members, err := c.GetGroupMembers(ctx, g.ID, genesys.MembersOptions{PageSize: 5, PageNumber: 1})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(members.Entities), 5)
	assert.GreaterOrEqual(t, members.Total, int64(len(members.Entities)))

	_, err = c.GetGroupIndividuals(ctx, g.ID)
	require.NoError(t, err)

	if _, err := c.GetDynamicSettings(ctx, g.ID); err != nil {
		assert.ErrorIs(t, err, upstream.ErrNotFound, "a group without rules answers 404")
	}

	profile, err := c.GetGroupProfile(ctx, g.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, g.ID, profile.ID)

	res, err := c.SearchGroups(ctx, genesys.GroupSearchRequest{PageSize: 25, PageNumber: 1,
		Query: []genesys.GroupSearchCriteria{{Type: genesys.CriteriaExact, Fields: []string{"name"}, Value: g.Name}}})
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(res.Results, func(r genesys.Group) bool { return r.ID == g.ID }),
		"an exact name search finds the group")
	assert.Equal(t, 1, res.PageNumber)
	assert.GreaterOrEqual(t, res.PageCount, 1)
}

// genesysWrites creates a group, changes it, changes its members when the
// org has a user to borrow (from the first listed group), and deletes it,
// waiting for each asynchronous change to show.
func genesysWrites(t *testing.T, c *genesys.Client, o Options, donor *genesys.Group) {
	ctx := stepContext(t)
	g, err := c.CreateGroup(ctx, genesys.GroupCreate{Name: o.name("group"), Type: genesys.GroupTypeOfficial,
		Visibility: genesys.VisibilityPublic, RulesVisible: true})
	require.NoError(t, err)
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_ = c.DeleteGroup(context.Background(), g.ID)
		}
	})
	assert.True(t, strings.HasPrefix(g.Name, o.prefix()))

	desc := "created by the gateway's contract suite"
	updated, err := c.UpdateGroup(ctx, g.ID, genesys.GroupUpdate{Version: g.Version, Description: &desc})
	require.NoError(t, err)
	assert.Equal(t, desc, updated.Description)
	assert.Greater(t, updated.Version, g.Version)

	_, err = c.UpdateGroup(ctx, g.ID, genesys.GroupUpdate{Version: g.Version, Description: &desc})
	assert.ErrorIs(t, err, upstream.ErrConflict, "a stale version is a conflict")

	if user := borrowUser(t, c, donor); user != "" {
		v := updated.Version
		require.NoError(t, c.AddGroupMembers(ctx, g.ID, genesys.GroupMembersUpdate{MemberIDs: []string{user}, Version: &v}))
		assert.True(t, eventually(o.settle(), func() bool { return hasIndividual(c, g.ID, user) }),
			"an accepted member add shows on a read")
		require.NoError(t, c.RemoveGroupMembers(ctx, g.ID, []string{user}))
		assert.True(t, eventually(o.settle(), func() bool { return !hasIndividual(c, g.ID, user) }),
			"an accepted member removal shows on a read")
	}

	// Genesys answers the DELETE at once and applies it later, sometimes not
	// at all: like its Terraform provider, read it back and re-send it.
	require.NoError(t, c.DeleteGroup(ctx, g.ID))
	reads := 0
	deleted = eventually(o.settle(), func() bool {
		got, err := c.GetGroup(context.Background(), g.ID)
		if errors.Is(err, upstream.ErrNotFound) || (err == nil && got.State == genesys.StateDeleted) {
			return true
		}
		if reads++; reads%3 == 0 {
			_ = c.DeleteGroup(context.Background(), g.ID)
		}
		return false
	})
	assert.True(t, deleted, "a deleted group is gone (404 or state deleted) within %s", o.settle())
}

// borrowUser returns the id of a user of the org (an individual of donor),
// or "" when there is none.
func borrowUser(t *testing.T, c *genesys.Client, donor *genesys.Group) string {
	if donor == nil {
		return ""
	}
	ind, err := c.GetGroupIndividuals(stepContext(t), donor.ID)
	if err != nil || len(ind.Entities) == 0 {
		return ""
	}
	return ind.Entities[0].ID
}

func hasIndividual(c *genesys.Client, groupID, userID string) bool {
	ind, err := c.GetGroupIndividuals(context.Background(), groupID)
	return err == nil && slices.ContainsFunc(ind.Entities, func(u genesys.User) bool { return u.ID == userID })
}

// Usergroups runs the contract of the Usergroup client against the API c
// points at.
func Usergroups(t *testing.T, c *usergroups.Client, o Options) {
	var first *usergroups.UserGroup
	t.Run("search", func(t *testing.T) {
		res, err := c.Search(stepContext(t), usergroups.SearchOptions{PageSize: 5})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(res.UserGroups), 5)
		for _, ug := range res.UserGroups {
			assert.NotEmpty(t, ug.ID)
			assert.NotEmpty(t, ug.Name)
		}
		if len(res.UserGroups) > 0 {
			first = &res.UserGroups[0]
		}
	})
	t.Run("one user group", func(t *testing.T) {
		if first == nil {
			t.Skip("the account has no user group to read")
		}
		ctx := stepContext(t)
		got, err := c.Get(ctx, first.ID)
		require.NoError(t, err, "an id the search returned can be read back as it was given")
		assert.Equal(t, first.Name, got.Name)
		if first.ExternalID != nil && *first.ExternalID != "" {
			res, err := c.Search(ctx, usergroups.SearchOptions{ExternalID: *first.ExternalID, PageSize: 50})
			require.NoError(t, err)
			assert.True(t, slices.ContainsFunc(res.UserGroups, func(u usergroups.UserGroup) bool { return u.ID == first.ID }),
				"a search by ExternalId finds the user group")
		}
	})
	if o.Writes {
		t.Run("writes", func(t *testing.T) { usergroupWrites(t, c, o) })
	}
}

// usergroupWrites creates a user group with a free-text ExternalId, renames
// it, finds it by ExternalId and deletes it.
func usergroupWrites(t *testing.T, c *usergroups.Client, o Options) {
	ctx := stepContext(t)
	ext := o.name("ext")
	ug, err := c.Create(ctx, usergroups.CreateRequest{Name: o.name("usergroup"), ExternalID: &ext})
	require.NoError(t, err)
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_ = c.Delete(context.Background(), ug.ID)
		}
	})
	require.NotEmpty(t, ug.ID)

	renamed := ug.Name + "-renamed"
	_, err = c.Update(ctx, usergroups.UpdateRequest{ID: ug.ID, Name: renamed, ExternalID: &ext, UserIDs: ug.UserIDs})
	require.NoError(t, err)
	got, err := c.Get(ctx, ug.ID)
	require.NoError(t, err)
	assert.Equal(t, renamed, got.Name, "a read after the PUT shows the change")

	res, err := c.Search(ctx, usergroups.SearchOptions{ExternalID: ext, PageSize: 50})
	require.NoError(t, err)
	require.Len(t, res.UserGroups, 1, "exactly one user group carries the fresh ExternalId")
	assert.Equal(t, ug.ID, res.UserGroups[0].ID)

	require.NoError(t, c.Delete(ctx, ug.ID))
	deleted = true
	_, err = c.Get(ctx, ug.ID)
	assert.ErrorIs(t, err, upstream.ErrNotFound)
}
