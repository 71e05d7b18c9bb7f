package budgetbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
)

// Op is one kind of request of the mix.
type Op int

// The kinds of request of the mix, with their share (Weights).
const (
	OpGroup     Op = iota // a group page: one group's fields
	OpMembers             // a group's first 25 members
	OpLinked              // the user groups linked to a group, with it
	OpUserGroup           // one user group
	OpTeams               // a team search in both directories
	OpWrite               // rename a user group
	numOps
)

// Weights is each Op's share of the mix, in percent.
var Weights = [numOps]int{OpGroup: 37, OpMembers: 20, OpLinked: 15, OpUserGroup: 10, OpTeams: 16, OpWrite: 2}

var opNames = [numOps]string{"group", "members", "linked", "userGroup", "teams", "write"}

// Dialect is how one schema asks for each Op: a query per Op, its
// variables named id, ext, term or name.
type Dialect struct {
	Name    string
	Queries [numOps]string
	// Description finds a group's description in an OpGroup answer.
	Description func(data map[string]any) (string, bool)
}

// Gateway is the gateway's schema.
var Gateway = Dialect{
	Name: "gateway",
	Queries: [numOps]string{
		OpGroup:     `query G($id: ID!) { group(id: $id) { id name description memberCount } }`,
		OpMembers:   `query M($id: ID!) { group(id: $id) { id members(pageSize: 25) { entities { id name } } } }`,
		OpLinked:    `query L($ext: String!) { userGroups(externalId: $ext) { entities { id name group { id name } } } }`,
		OpUserGroup: `query U($id: ID!) { userGroup(id: $id) { id name userIds } }`,
		OpTeams:     `query T($term: String) { teams(nameContains: $term) { id name source } }`,
		OpWrite:     `mutation W($id: ID!, $name: String!) { updateUserGroup(id: $id, input: {name: $name}) { id name } }`,
	},
	Description: func(data map[string]any) (string, bool) {
		g, _ := data["group"].(map[string]any)
		d, ok := g["description"].(string)
		return d, ok
	},
}

// Tailcall is the schema of bench/budget/tailcall/schema.graphql.
var Tailcall = Dialect{
	Name: "tailcall",
	Queries: [numOps]string{
		OpGroup:     `query G($id: ID!) { group(id: $id) { id name description memberCount } }`,
		OpMembers:   `query M($id: ID!) { groupMembers(groupId: $id, pageSize: 25) { entities { id name } } }`,
		OpLinked:    `query L($ext: String!) { userGroupsByExternalId(externalId: $ext) { UserGroups { Id Name group { id name } } } }`,
		OpUserGroup: `query U($id: ID!) { userGroup(id: $id) { UserGroup { Id Name UserIds } } }`,
		OpTeams:     `query T($term: String!) { searchGroups(term: $term) { results { id name } } userGroupsByName(name: $term) { UserGroups { Id Name } } }`,
		OpWrite:     `mutation W($id: ID!, $name: String!) { updateUserGroup(id: $id, name: $name) { UserGroup { Id Name } } }`,
	},
	Description: Gateway.Description,
}

// Options configures Run.
type Options struct {
	// URL is the GraphQL endpoint.
	URL     string
	Dialect Dialect
	// Rate is the requests sent per second, whatever the answers.
	Rate float64
	// WriteRate, when positive, is the writes sent per second apart from
	// the reads, which Rate then counts alone (a few editors among many
	// readers); 0: writes are Weights[OpWrite] % of Rate.
	WriteRate float64
	// Duration is how long requests are sent.
	Duration time.Duration
	// Users is how many simulated users send them (X-Forwarded-For).
	Users int
	// ActorEvery is how often the actor changes the most popular group's
	// description upstream, behind the endpoint's back.
	ActorEvery time.Duration
	// Seed makes the mix repeatable.
	Seed uint64
	// Upstreams are the emulators behind the endpoint.
	Upstreams *Upstreams
}

// maxInFlight bounds the requests waiting for an answer; a tick that finds
// them all busy counts its request as failed (the endpoint is too slow).
const maxInFlight = 512

// requestTimeout bounds one request.
const requestTimeout = 15 * time.Second

// popular are the indexes of the popular groups and user groups: 80 % of
// the reads name one of them.
var popular = []int{1, 2, 3, 5, 6}

// probe is the group whose description the actor changes.
const probe = 1

// Result holds the figures of one run.
type Result struct {
	Contender string
	Duration  time.Duration
	// Sent counts the requests; Answered those answered without error,
	// Stale those among them marked stale, Refused those refused for a
	// budget (HTTP 429, RATE_LIMITED), Failed the rest.
	Sent, Answered, Stale, Refused, Failed int
	PerOp                                  [numOps]struct{ Sent, Answered int }
	// Why counts the requests not answered by why: the HTTP status and
	// the first error's code and extensions.limit, or "timeout".
	Why map[string]int
	// GenesysCalls and UsergroupCalls are the calls the emulators got from
	// the endpoint (the actor's excluded, refused ones included).
	GenesysCalls, UsergroupCalls int
	// MaxInvisible is the longest time a change made by the actor stayed
	// invisible to requests that started after it; MaxInvisibleFresh counts
	// only answers not marked stale.
	MaxInvisible, MaxInvisibleFresh time.Duration
	// Changes counts the actor's changes.
	Changes int
}

// sighting is one answer about the probe group: when its request started
// and ended, which revision it showed, and whether it was marked stale.
type sighting struct {
	start, end time.Time
	rev        int
	stale      bool
}

// Run drives the mix for o.Duration and returns the figures.
func Run(ctx context.Context, o Options) (Result, error) {
	client := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight}}
	actor, err := newActor(ctx, o.Upstreams)
	if err != nil {
		return Result{}, err
	}
	g0, u0 := o.Upstreams.Calls()
	res := Result{Contender: o.Dialect.Name, Duration: o.Duration, Why: map[string]int{}}
	var (
		mu        sync.Mutex
		sightings []sighting
		wg        sync.WaitGroup
	)
	slots := make(chan struct{}, maxInFlight)
	rng := rand.New(rand.NewPCG(o.Seed, 18))
	actorDone := make(chan struct{})
	runCtx, stop := context.WithTimeout(ctx, o.Duration)
	defer stop()
	go func() {
		defer close(actorDone)
		actor.run(runCtx, o.ActorEvery)
	}()
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	var writeTick <-chan time.Time // nil: no writes apart
	if o.WriteRate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.WriteRate))
		defer t.Stop()
		writeTick = t.C
	}
	for n := 0; ; n++ {
		var op Op
		var vars map[string]any
		select {
		case <-runCtx.Done():
		case <-tick.C:
			op, vars = pick(rng, n, o.WriteRate <= 0)
		case <-writeTick:
			op, vars = OpWrite, writeVars(rng, n)
		}
		if runCtx.Err() != nil {
			break
		}
		user := n % max(o.Users, 1)
		res.Sent++
		res.PerOp[op].Sent++
		select {
		case slots <- struct{}{}:
		default:
			res.Failed++
			res.Why["too many in flight"]++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			start := time.Now()
			a := send(ctx, client, o.URL, o.Dialect.Queries[op], vars, user)
			end := time.Now()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.ok:
				res.Answered++
				res.PerOp[op].Answered++
				if a.stale {
					res.Stale++
				}
				if op == OpGroup && vars["id"] == demodata.GroupID(probe) {
					if d, ok := o.Dialect.Description(a.data); ok {
						sightings = append(sightings, sighting{start: start, end: end, rev: revision(d), stale: a.stale})
					}
				}
			case a.refused:
				res.Refused++
				res.Why[a.why]++
			default:
				res.Failed++
				res.Why[a.why]++
			}
		}()
	}
	wg.Wait()
	<-actorDone
	g1, u1 := o.Upstreams.Calls()
	changes, actorCalls := actor.changes()
	res.Changes = len(changes)
	res.GenesysCalls, res.UsergroupCalls = g1-g0-actorCalls, u1-u0
	res.MaxInvisible, res.MaxInvisibleFresh = invisible(changes, sightings)
	return res, nil
}

// pick draws the n-th request of the mix, a read unless withWrites.
func pick(rng *rand.Rand, n int, withWrites bool) (Op, map[string]any) {
	span := 100
	if !withWrites {
		span -= Weights[OpWrite] // OpWrite is the last Op
	}
	w := rng.IntN(span)
	op := Op(0)
	for ; op < numOps-1 && w >= Weights[op]; op++ {
		w -= Weights[op]
	}
	i := popular[rng.IntN(len(popular))]
	if rng.IntN(100) >= 80 {
		i = 10 + rng.IntN(20) // the long tail: groups and user groups 10..29
	}
	switch op {
	case OpGroup, OpMembers:
		return op, map[string]any{"id": demodata.GroupID(i)}
	case OpLinked:
		return op, map[string]any{"ext": demodata.GroupID(i)}
	case OpUserGroup:
		return op, map[string]any{"id": demodata.UserGroupID(i)}
	case OpTeams:
		return op, map[string]any{"term": []string{"1", "2", "Group"}[rng.IntN(3)]}
	default:
		return op, writeVars(rng, n)
	}
}

// writeVars are the variables of the n-th request, a write.
func writeVars(rng *rand.Rand, n int) map[string]any {
	return map[string]any{"id": demodata.UserGroupID(20 + rng.IntN(10)), "name": "bench-" + strconv.Itoa(n)}
}

// answer is what one request got.
type answer struct {
	ok, refused, stale bool
	data               map[string]any
	why                string // not ok: the status, code and limit
}

// send posts one request and classifies the answer.
func send(ctx context.Context, c *http.Client, url, query string, vars map[string]any, user int) answer {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", user/250, user%250+1))
	resp, err := c.Do(req)
	if err != nil {
		return answer{why: "no answer (" + errKind(err) + ")"}
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
		Extensions map[string]any `json:"extensions"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil || json.Unmarshal(raw, &out) != nil {
		return answer{refused: resp.StatusCode == http.StatusTooManyRequests, why: fmt.Sprintf("HTTP %d, not JSON", resp.StatusCode)}
	}
	if resp.StatusCode == http.StatusOK && len(out.Errors) == 0 && out.Data != nil {
		_, stale := out.Extensions["stale"]
		return answer{ok: true, stale: stale, data: out.Data}
	}
	refused := resp.StatusCode == http.StatusTooManyRequests
	why := fmt.Sprintf("HTTP %d", resp.StatusCode)
	for i, e := range out.Errors {
		refused = refused || e.Extensions["code"] == "RATE_LIMITED"
		if i == 0 {
			why += fmt.Sprintf(" %v", e.Extensions["code"])
			if l, ok := e.Extensions["limit"]; ok {
				why += fmt.Sprintf(" (%v)", l)
			}
		}
	}
	return answer{refused: refused, why: why}
}

// errKind names a client error briefly.
func errKind(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timeout"
	}
	return "transport error"
}

// revision reads N from a description "rev-N" (0 for any other).
func revision(d string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(d, "rev-"))
	return n
}

// invisible is the longest time a change stayed invisible: for each change
// made at t, the latest end of a request that started after t and still
// showed an older revision, minus t. fresh counts only the answers not
// marked stale.
func invisible(changes []time.Time, seen []sighting) (all, fresh time.Duration) {
	for i, t := range changes {
		rev := i + 1
		for _, s := range seen {
			if s.start.After(t) && s.rev < rev {
				all = max(all, s.end.Sub(t))
				if !s.stale {
					fresh = max(fresh, s.end.Sub(t))
				}
			}
		}
	}
	return all, fresh
}
