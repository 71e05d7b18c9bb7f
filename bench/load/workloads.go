package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/groupdir/gateway/upstream/demodata"
)

// size is the data set both emulators are seeded with.
var size = demodata.Bench

// workload is one of the four shapes: its query (bench/gateway/queries, the
// same files the side-by-side harness sends), the variables of each variant
// rotated under load, and the check every answer must pass.
type workload struct {
	name     string
	variants int
	vars     func(v int) map[string]any
	check    func(v int, data []byte) error
	// query and ideal are read from bench/gateway/queries/<name>.graphql
	// and <name>.calls (the upstream calls one request needs at best).
	query string
	ideal int
}

// workloads are the four shapes over demodata.Bench (500 groups of 200
// members, 1,000 user groups).
var workloads = []*workload{
	{name: "w1", variants: 64, vars: w1Vars, check: checkW1},
	{name: "w2", variants: size.UserGroups / w2PageSize, vars: w2Vars, check: checkW2},
	{name: "w3", variants: size.Groups / w3PageSize, vars: w3Vars, check: checkW3},
	{name: "w4", variants: 2 * 100, vars: w4Vars, check: checkW4},
}

const (
	w1IDs       = 100
	w2PageSize  = 50
	w3PageSize  = 25
	w3Members   = 25
	w4PageSize  = 100
	bigGroupsW4 = 100
)

// W1: 100 groups by id, as 100 aliased group(id:) fields.
func w1Vars(v int) map[string]any {
	vars := map[string]any{}
	for i := range w1IDs {
		vars[fmt.Sprintf("id%03d", i)] = demodata.GroupID(w1Group(v, i))
	}
	return vars
}

func w1Group(v, i int) int { return (v*37 + i) % size.Groups }

func checkW1(v int, data []byte) error {
	var d map[string]*struct{ ID, Name string }
	if err := decode(data, &d); err != nil {
		return err
	}
	if len(d) != w1IDs {
		return fmt.Errorf("%d groups, want %d", len(d), w1IDs)
	}
	for i := range w1IDs {
		g, want := d[fmt.Sprintf("g%03d", i)], w1Group(v, i)
		if g == nil || g.ID != demodata.GroupID(want) || g.Name != demodata.GroupName(want) {
			return fmt.Errorf("g%03d is %+v, want group %d", i, g, want)
		}
	}
	return nil
}

// W2: a page of 50 user groups, each with its linked Genesys group.
func w2Vars(v int) map[string]any {
	return map[string]any{"pageNumber": v + 1, "pageSize": w2PageSize}
}

func checkW2(v int, data []byte) error {
	var d struct {
		UserGroups struct {
			Entities []struct {
				ID, Name, ExternalID string
				Group                *struct{ ID, Name string }
			}
		}
	}
	if err := decode(data, &d); err != nil {
		return err
	}
	es := d.UserGroups.Entities
	if len(es) != w2PageSize {
		return fmt.Errorf("%d user groups, want %d", len(es), w2PageSize)
	}
	for k, e := range es {
		i := v*w2PageSize + k
		if !strings.EqualFold(e.ID, demodata.UserGroupID(i)) || e.Name != demodata.UserGroupName(i) ||
			e.ExternalID != size.UserGroupExternalID(i) {
			return fmt.Errorf("user group %d of the page is %s %q, want user group %d", k, e.ID, e.Name, i)
		}
		linked := i%10 != 4 && i%10 != 9
		switch {
		case !linked && e.Group != nil:
			return fmt.Errorf("user group %d: a group for ExternalId %q", i, e.ExternalID)
		case linked && (e.Group == nil || e.Group.ID != e.ExternalID || e.Group.Name != demodata.GroupName(i%size.Groups)):
			return fmt.Errorf("user group %d: group %+v, want group %d", i, e.Group, i%size.Groups)
		}
	}
	return nil
}

// W3: a page of 25 groups, each with its first 25 members.
func w3Vars(v int) map[string]any {
	return map[string]any{"pageNumber": v + 1, "pageSize": w3PageSize, "membersPageSize": w3Members}
}

type member struct {
	ID, Email string
	Chat      *struct{ JabberID string }
}

type memberPage struct{ Entities []member }

func checkW3(_ int, data []byte) error {
	var d struct {
		Groups struct {
			Entities []struct {
				ID, Name string
				Members  memberPage
			}
		}
	}
	if err := decode(data, &d); err != nil {
		return err
	}
	gs := d.Groups.Entities
	if len(gs) != w3PageSize {
		return fmt.Errorf("%d groups, want %d", len(gs), w3PageSize)
	}
	seen := map[int]bool{}
	for _, g := range gs {
		i, err := index(g.ID, demodata.GroupID)
		if err != nil || seen[i] || g.Name != demodata.GroupName(i) {
			return fmt.Errorf("group %s %q: not one more group of the data set", g.ID, g.Name)
		}
		seen[i] = true
		if err := checkMembers(i, g.Members, w3Members, false); err != nil {
			return err
		}
	}
	return nil
}

// W4: 100 members of one group, with nested fields.
func w4Vars(v int) map[string]any {
	return map[string]any{"groupId": demodata.GroupID(v % bigGroupsW4), "pageNumber": v/bigGroupsW4 + 1, "pageSize": w4PageSize}
}

func checkW4(v int, data []byte) error {
	var d struct {
		Group *struct {
			ID      string
			Members memberPage
		}
	}
	if err := decode(data, &d); err != nil {
		return err
	}
	g := v % bigGroupsW4
	if d.Group == nil || d.Group.ID != demodata.GroupID(g) {
		return fmt.Errorf("group %+v, want group %d", d.Group, g)
	}
	return checkMembers(g, d.Group.Members, w4PageSize, true)
}

// checkMembers checks that a page holds n distinct members of group g, each
// with the e-mail (and chat address) of the user its id names.
func checkMembers(g int, p memberPage, n int, chat bool) error {
	if len(p.Entities) != n {
		return fmt.Errorf("group %d: %d members, want %d", g, len(p.Entities), n)
	}
	in := map[int]bool{}
	for _, u := range size.MemberIndexes(g) {
		in[u] = true
	}
	seen := map[int]bool{}
	for _, m := range p.Entities {
		u, err := index(m.ID, demodata.UserID)
		switch {
		case err != nil || !in[u] || seen[u]:
			return fmt.Errorf("group %d: member %s is not one more of its members", g, m.ID)
		case m.Email != demodata.UserEmail(u):
			return fmt.Errorf("member %d: email %q", u, m.Email)
		case chat && (m.Chat == nil || m.Chat.JabberID != demodata.JabberID(u)):
			return fmt.Errorf("member %d: chat %+v", u, m.Chat)
		}
		seen[u] = true
	}
	return nil
}

// decode reads a GraphQL answer's data into v, whose Go field names match
// the GraphQL names but for case.
func decode(data []byte, v any) error {
	return json.Unmarshal(data, v, json.MatchCaseInsensitiveNames(true))
}

// index returns the i for which idOf(i) == id (ids end in i as 12 hex
// digits).
func index(id string, idOf func(int) string) (int, error) {
	if len(id) < 12 {
		return 0, errors.New("short id")
	}
	i, err := strconv.ParseInt(id[len(id)-12:], 16, 64)
	if err != nil || idOf(int(i)) != id {
		return 0, fmt.Errorf("id %q is not in the data set", id)
	}
	return int(i), nil
}

// load reads the workload's query and ideal call count from dir.
func (w *workload) load(dir string) error {
	q, err := os.ReadFile(filepath.Join(dir, w.name+".graphql"))
	if err != nil {
		return err
	}
	w.query = string(q)
	f, err := os.Open(filepath.Join(dir, w.name+".calls"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "total\t"); ok {
			w.ideal, err = strconv.Atoi(n)
			return err
		}
	}
	return fmt.Errorf("%s.calls: no total line", w.name)
}

// body is the JSON request of variant v.
func (w *workload) body(v int) ([]byte, error) {
	return json.Marshal(map[string]any{"query": w.query, "variables": w.vars(v)})
}

// checkAnswer checks one HTTP answer to variant v: status 200, no GraphQL
// errors, and the data the workload's check expects.
func (w *workload) checkAnswer(v int, status int, body []byte) error {
	if status != 200 {
		return fmt.Errorf("HTTP status %d", status)
	}
	var r struct {
		Data   jsontext.Value `json:"data"`
		Errors jsontext.Value `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if len(r.Errors) > 0 && string(r.Errors) != "null" {
		return fmt.Errorf("GraphQL errors: %.200s", r.Errors)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return errors.New("no data")
	}
	return w.check(v, r.Data)
}
