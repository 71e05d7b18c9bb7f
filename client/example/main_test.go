package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/groupdir/gateway/client"
)

// The example and the client's input semantics against the gateway in demo
// mode: the gateway binary, built from the parent module (this module does
// not depend on it), listening on loopback.

// endpoint is the /query URL of the gateway TestMain started.
var endpoint string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		stop, err := startGateway()
		if err != nil {
			fmt.Fprintln(os.Stderr, "starting the gateway:", err)
			return 1
		}
		defer stop()
		return m.Run()
	}())
}

// startGateway builds the gateway from the repository root and starts it
// in demo mode on a free loopback port; stop ends it.
func startGateway() (func(), error) {
	dir, err := os.MkdirTemp("", "gateway-client-test")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "gateway")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cleanup := func() {
		cancel()
		_ = os.RemoveAll(dir)
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	gw := exec.CommandContext(ctx, bin)
	// Only these: a GENESYS_* or USERGROUP_* variable of the environment
	// would leave demo mode.
	gw.Env = []string{"LISTEN_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "GATEWAY_ENV=development"}
	stdout, err := gw.StdoutPipe()
	if err != nil {
		cleanup()
		return nil, err
	}
	if err := gw.Start(); err != nil {
		cleanup()
		return nil, err
	}
	stopAll := func() {
		cleanup()
		_ = gw.Wait()
	}
	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "listening" {
				addr <- entry.Addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep the gateway's logs flowing
	}()
	select {
	case a := <-addr:
		endpoint = "http://" + a + "/query"
		return stopAll, nil
	case <-time.After(time.Minute):
		stopAll()
		return nil, fmt.Errorf("the gateway did not start listening within a minute")
	}
}

func TestExample(t *testing.T) {
	var out bytes.Buffer
	c := client.New(endpoint, &http.Client{Timeout: 30 * time.Second})
	if err := run(t.Context(), c, &out); err != nil {
		t.Fatalf("example: %v %v\n%s", err, client.Codes(err), out.String())
	}
	for _, want := range []string{
		"groups: 40 in all", "members, changed 20", "user group \"Forms team 001\": ", "linked group: ",
		"search \"Support\": ", "(OFFICIAL, PUBLIC)", "add members: COMPLETE", ": ADDED",
		"remove members: COMPLETE", "updated: \"Example ", "\"changed by the client example\"", "deleted: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the example's output lacks %q:\n%s", want, out.String())
		}
	}
}

// recorder is an http.RoundTripper that keeps the bodies and the
// Idempotency-Key headers it sends.
type recorder struct {
	bodies []string
	keys   []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.bodies = append(r.bodies, string(body))
	r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
	req.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(req)
}

func newClient(t *testing.T) (graphql.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	return client.New(endpoint, &http.Client{Transport: rec, Timeout: 30 * time.Second}), rec
}

var seq atomic.Int64

// createGroup creates a group with owners, and deletes it when the test ends.
func createGroup(t *testing.T, c graphql.Client, owners []string) *client.CreateGroupCreateGroup {
	t.Helper()
	resp, err := client.CreateGroup(t.Context(), c, client.CreateGroupInput{
		Name: fmt.Sprintf("Client test %d %d", time.Now().UnixNano(), seq.Add(1)), Description: ptr("first"), OwnerIds: owners,
	})
	if err != nil {
		t.Fatalf("createGroup: %v %v", err, client.Codes(err))
	}
	t.Cleanup(func() { _, _ = client.DeleteGroup(context.Background(), c, resp.CreateGroup.Id) })
	return resp.CreateGroup
}

// someUsers returns the ids of two members of a demo group.
func someUsers(t *testing.T, c graphql.Client) []string {
	t.Helper()
	page, err := client.Groups(t.Context(), c, ptr(1), nil, nil)
	if err != nil || len(page.Groups.Entities) == 0 {
		t.Fatalf("groups: %v", err)
	}
	g, err := client.GroupWithMembers(t.Context(), c, page.Groups.Entities[0].Id, ptr(2), nil)
	if err != nil || len(g.Group.Members.Entities) < 2 {
		t.Fatalf("members: %v", err)
	}
	return []string{g.Group.Members.Entities[0].Id, g.Group.Members.Entities[1].Id}
}

func TestUnsetInputFieldsAreLeftOut(t *testing.T) {
	c, rec := newClient(t)
	owners := someUsers(t, c)
	g := createGroup(t, c, owners)
	if len(g.Owners) != 2 || g.Type == nil || *g.Type != client.GroupTypeOfficial {
		t.Fatalf("created group: %+v", g)
	}
	if strings.Contains(rec.bodies[len(rec.bodies)-1], "null") {
		t.Errorf("the create sent a null: %s", rec.bodies[len(rec.bodies)-1])
	}

	// Only the name: description, owners and the rest are kept.
	resp, err := client.UpdateGroup(t.Context(), c, g.Id, client.UpdateGroupInput{Name: ptr(g.Name + " renamed")})
	if err != nil {
		t.Fatalf("updateGroup: %v %v", err, client.Codes(err))
	}
	sent := rec.bodies[len(rec.bodies)-1]
	if !strings.Contains(sent, `"input":{"name":`) || strings.Contains(sent, "null") {
		t.Errorf("the update sent more than the name: %s", sent)
	}
	if u := resp.UpdateGroup; deref(u.Description) != "first" || len(u.Owners) != 2 || u.Name != g.Name+" renamed" {
		t.Errorf("after changing the name: %+v", u)
	}

	// A pointer to an empty list clears it.
	resp, err = client.UpdateGroup(t.Context(), c, g.Id, client.UpdateGroupInput{OwnerIds: &[]string{}})
	if err != nil {
		t.Fatalf("updateGroup: %v %v", err, client.Codes(err))
	}
	if !strings.Contains(rec.bodies[len(rec.bodies)-1], `"input":{"ownerIds":[]}`) {
		t.Errorf("clearing the owners sent: %s", rec.bodies[len(rec.bodies)-1])
	}
	if u := resp.UpdateGroup; len(u.Owners) != 0 || deref(u.Description) != "first" {
		t.Errorf("after clearing the owners: %+v", u)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	c, rec := newClient(t)
	ctx := client.WithIdempotencyKey(t.Context(), "client-test-"+newKey())
	input := client.CreateUserGroupInput{Name: "Client test " + newKey()[:8]}
	first, err := client.CreateUserGroup(ctx, c, input)
	if err != nil {
		t.Fatalf("createUserGroup: %v %v", err, client.Codes(err))
	}
	t.Cleanup(func() { _, _ = client.DeleteUserGroup(context.Background(), c, first.CreateUserGroup.Id) })
	again, err := client.CreateUserGroup(ctx, c, input)
	if err != nil {
		t.Fatalf("createUserGroup again: %v %v", err, client.Codes(err))
	}
	if again.CreateUserGroup.Id != first.CreateUserGroup.Id {
		t.Errorf("the retry created another user group: %s, then %s", first.CreateUserGroup.Id, again.CreateUserGroup.Id)
	}
	if rec.keys[0] == "" || rec.keys[0] != rec.keys[1] {
		t.Errorf("Idempotency-Key headers: %q", rec.keys)
	}
	if _, err := client.UserGroups(t.Context(), c, ptr(input.Name), nil, nil, nil); err != nil || rec.keys[2] != "" {
		t.Errorf("a request without the context key sent %q (%v)", rec.keys[2], err)
	}
}

func TestErrorCodes(t *testing.T) {
	c, _ := newClient(t)
	_, err := client.GroupsByIDs(t.Context(), c, []string{"not-a-uuid"})
	if codes := client.Codes(err); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
		t.Errorf("codes of %v: %v", err, codes)
	}
	if codes := client.Codes(nil); codes != nil {
		t.Errorf("codes of nil: %v", codes)
	}
}
