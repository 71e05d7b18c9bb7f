// Command example shows the typed client at work: it reads groups, their
// members and the linked user groups, searches, then creates a group, adds
// and removes members, changes one field and deletes the group again.
//
// Run it against the gateway in demo mode (`make run` in the repository):
//
//	go run ./example                       # http://localhost:8080/query
//	GATEWAY_URL=https://.../query go run ./example
//
// With AUTH_MODE=jwt, give the example an http.Client that sends a bearer
// token (docs/services.md).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/groupdir/gateway/client"
)

func main() {
	endpoint := os.Getenv("GATEWAY_URL")
	if endpoint == "" {
		endpoint = "http://localhost:8080/query"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, client.New(endpoint, &http.Client{Timeout: 30 * time.Second}), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err, client.Codes(err))
		os.Exit(1)
	}
}

// run does the example's work with c, writing what it sees to out.
func run(ctx context.Context, c graphql.Client, out io.Writer) error {
	page, err := client.Groups(ctx, c, ptr(3), nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "groups: %d in all\n", page.Groups.Total)
	if len(page.Groups.Entities) == 0 {
		return errors.New("no groups to show")
	}
	first := page.Groups.Entities[0]
	g, err := client.GroupWithMembers(ctx, c, first.Id, ptr(5), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "group %q: %d members, changed %s\n", g.Group.Name, g.Group.Members.Total,
		deref(g.Group.DateModified).Format(time.DateOnly))
	members := make([]string, 0, 2)
	for _, m := range g.Group.Members.Entities[:min(2, len(g.Group.Members.Entities))] {
		members = append(members, m.Id)
	}

	ugs, err := client.UserGroups(ctx, c, nil, nil, nil, ptr(3))
	if err != nil {
		return err
	}
	for _, ug := range ugs.UserGroups.Entities {
		linked := "none"
		if ug.Group != nil {
			linked = ug.Group.Name
		}
		fmt.Fprintf(out, "user group %q: %d users, linked group: %s\n", ug.Name, len(ug.UserIds), linked)
	}

	found, err := client.SearchGroups(ctx, c, client.GroupSearchInput{
		Query:    []client.GroupSearchCriterionInput{{Type: client.SearchCriterionTypeContains, Fields: []string{"name"}, Value: ptr("Support")}},
		PageSize: ptr(10),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "search \"Support\": %d groups\n", found.SearchGroups.Total)

	// A write, safe to retry with the same key.
	created, err := client.CreateGroup(client.WithIdempotencyKey(ctx, newKey()), c, client.CreateGroupInput{
		Name: "Example " + newKey()[:8], Description: ptr("made by the client example"),
	})
	if err != nil {
		return err
	}
	id := created.CreateGroup.Id
	fmt.Fprintf(out, "created %q (%s, %s)\n", created.CreateGroup.Name, deref(created.CreateGroup.Type), deref(created.CreateGroup.Visibility))

	added, err := client.AddGroupMembers(ctx, c, id, members, created.CreateGroup.Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "add members: %s\n", added.AddGroupMembers.Status)
	for _, r := range added.AddGroupMembers.Results {
		fmt.Fprintf(out, "  %s: %s\n", r.MemberId, r.Outcome)
	}
	removed, err := client.RemoveGroupMembers(ctx, c, id, members[:1])
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "remove members: %s\n", removed.RemoveGroupMembers.Status)

	// Only the description is sent: every other field keeps its value.
	updated, err := client.UpdateGroup(ctx, c, id, client.UpdateGroupInput{Description: ptr("changed by the client example")})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "updated: %q, %q\n", updated.UpdateGroup.Name, deref(updated.UpdateGroup.Description))

	deleted, err := client.DeleteGroup(ctx, c, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted: %s\n", deleted.DeleteGroup.Status)
	return nil
}

// ptr returns a pointer to v, for optional fields.
func ptr[T any](v T) *T { return &v }

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// newKey returns a random Idempotency-Key.
func newKey() string { return rand.Text() }
