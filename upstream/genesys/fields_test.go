package genesys

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithFieldsDecodesOnlyTheSelectedMembers(t *testing.T) {
	c := benchServer(t, repeatedPage(t, "members20.json"))
	all, err := c.GetGroupMembers(context.Background(), groupID, MembersOptions{PageSize: 100})
	require.NoError(t, err)
	ctx := WithFields(context.Background(), NewFields([]string{"email", "division", "unknown"}, nil))
	some, err := c.GetGroupMembers(ctx, groupID, MembersOptions{PageSize: 100})
	require.NoError(t, err)
	require.Len(t, some.Entities, len(all.Entities))
	assert.Equal(t, all.Page, some.Page, "page members are always decoded")
	for i, u := range some.Entities {
		want := all.Entities[i]
		require.NotEmpty(t, want.Name)
		assert.Equal(t, User{ID: want.ID, Email: want.Email, Division: want.Division}, u, "only id, email and division")
	}
}

func TestWithFieldsSkipsGroupOwners(t *testing.T) {
	c := benchServer(t, repeatedPage(t, "groups20.json"))
	all, err := c.GetGroups(context.Background(), GetGroupsOptions{PageSize: 100})
	require.NoError(t, err)
	ctx := WithFields(context.Background(), NewFields(nil, []string{"name"}))
	some, err := c.GetGroups(ctx, GetGroupsOptions{PageSize: 100})
	require.NoError(t, err)
	require.Len(t, some.Entities, len(all.Entities))
	for i, g := range some.Entities {
		assert.Equal(t, Group{ID: all.Entities[i].ID, Name: all.Entities[i].Name}, g)
	}
	assert.NotEmpty(t, all.Entities[0].Owners, "the test data has owners")
}

func TestZeroFieldsDecodeEverything(t *testing.T) {
	assert.Equal(t, Fields{}, FieldsFrom(context.Background()))
	assert.Equal(t, Fields{}, NewFields(nil, nil))
	assert.False(t, Fields{}.skipUser([]byte("email")))
	assert.True(t, NewFields([]string{"name"}, nil).skipUser([]byte("email")))
	assert.False(t, NewFields([]string{"name"}, nil).skipUser([]byte("notAUserMember")), "unknown members go their usual way")
}

// BenchmarkGetGroupMembers100Selected is BenchmarkGetGroupMembers100 for a
// query that shows a member's id, name and email.
func BenchmarkGetGroupMembers100Selected(b *testing.B) {
	c := benchServer(b, repeatedPage(b, "members20.json"))
	ctx := WithFields(context.Background(), NewFields([]string{"name", "email"}, nil))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetGroupMembers(ctx, groupID, MembersOptions{PageSize: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
