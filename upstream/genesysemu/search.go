package genesysemu

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The limits below are the emulator's own. The real API documents none of
// them; tests that lean on them prove nothing about a real org.
const (
	// maxSearchPageSize is the largest search page. Unconfirmed: the audit
	// (real-api-audit.md, row 16 "search | page size") says "max not
	// documented" and lists "search pageSize ≤ 100 (search.go:20);
	// pageSize=0 → 400" among the limits the emulator "invents … the real
	// API does not document" (section 2 item 9).
	maxSearchPageSize = 100
	// maxCriteriaDepth bounds the nesting of criteria groups. Unconfirmed:
	// no source gives a limit; invented to bound the emulator's recursion.
	maxCriteriaDepth = 5
	// maxRegex bounds a REGEX criterion's pattern. Unconfirmed: no source
	// gives a limit; invented to bound the emulator's work.
	maxRegex   = 1000
	searchPath = "/api/v2/groups/search"
)

var (
	searchTypes     = []string{"groups"}
	searchOperators = []string{"AND", "OR", "NOT"}
	sortOrders      = []string{"ASC", "DESC", "SCORE"}
)

// searchFields are the group fields criteria and sorts may name.
// Unconfirmed: "Which group fields are searchable/sortable: U (`name` is
// confirmed by TF; `id`, `description`, `type`, `state`, `visibility` are
// plausible, I)" (genesys-groups-api.md §5.11).
var searchFields = map[string]func(*group) string{
	"name":        func(g *group) string { return g.name },
	"description": func(g *group) string { return g.description },
	"id":          func(g *group) string { return g.id },
	"state":       func(g *group) string { return g.state },
	"type":        func(g *group) string { return g.typ },
	"visibility":  func(g *group) string { return g.visibility },
}

// searchRequest is the GroupSearchRequest model.
type searchRequest struct {
	SortOrder  string           `json:"sortOrder,omitempty"`
	SortBy     string           `json:"sortBy,omitempty"`
	PageSize   *int             `json:"pageSize,omitempty"`
	PageNumber *int             `json:"pageNumber,omitempty"`
	Sort       []searchSort     `json:"sort,omitempty"`
	Query      []searchCriteria `json:"query,omitempty"`
}

// searchSort is the SearchSort model.
type searchSort struct {
	SortOrder string `json:"sortOrder,omitempty"`
	SortBy    string `json:"sortBy,omitempty"`
}

// searchCriteria is the GroupSearchCriteria model. startValue, endValue and
// dateFormat are accepted and unused: no group criteria type is a range.
type searchCriteria struct {
	Type       string           `json:"type,omitempty"`
	Fields     []string         `json:"fields,omitempty"`
	Value      string           `json:"value,omitempty"`
	Values     []string         `json:"values,omitempty"`
	StartValue string           `json:"startValue,omitempty"`
	EndValue   string           `json:"endValue,omitempty"`
	DateFormat string           `json:"dateFormat,omitempty"`
	Operator   string           `json:"operator,omitempty"`
	Group      []searchCriteria `json:"group,omitempty"`
}

// cursor is the normalised request a q64 value encodes.
type cursor struct {
	Types []string `json:"types"`
	searchRequest
}

// searchResponse is the GroupsSearchResponse model; the results are spliced
// in by withList.
type searchResponse struct {
	Total        int      `json:"total"`
	PageCount    int      `json:"pageCount"`
	PageSize     int      `json:"pageSize"`
	PageNumber   int      `json:"pageNumber"`
	PreviousPage string   `json:"previousPage,omitempty"`
	CurrentPage  string   `json:"currentPage"`
	NextPage     string   `json:"nextPage,omitempty"`
	Types        []string `json:"types"`
}

// postSearch serves POST /api/v2/groups/search.
func (s *Server) postSearch(r *http.Request) (int, any, error) {
	var req searchRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	return s.search(req)
}

// getSearch serves GET /api/v2/groups/search?q64= (expand is accepted and
// has no effect on groups).
func (s *Server) getSearch(r *http.Request) (int, any, error) {
	v := r.URL.Query().Get("q64")
	if v == "" {
		return 0, nil, invalidValue("q64 is required")
	}
	req, err := decodeCursor(v)
	if err != nil {
		return 0, nil, err
	}
	return s.search(req)
}

func (s *Server) search(req searchRequest) (int, any, error) {
	p, err := req.page()
	if err != nil {
		return 0, nil, err
	}
	match, err := compileCriteria(req.Query, 0)
	if err != nil {
		return 0, nil, err
	}
	order, err := compileSort(req)
	if err != nil {
		return 0, nil, err
	}
	results, total := s.store.search(match, order, p)
	// As in the official sample (real-api-audit.md rows 11/16: "on page 1
	// of 1 previousPage == currentPage and nextPage is present"): page 1
	// is its own previous page, and every page, the last one included,
	// carries a next page. Only pageNumber and pageCount tell the end.
	resp := searchResponse{Total: total, PageCount: p.pageCount(total), PageSize: p.size, PageNumber: p.number,
		PreviousPage: pageURI(req, max(p.number-1, 1)), CurrentPage: pageURI(req, p.number),
		NextPage: pageURI(req, p.number+1), Types: searchTypes}
	return http.StatusOK, withList("results", results, resp), nil
}

// page validates the paging of req and fills in the defaults: pageNumber 1
// (pages are 1-based, documented) and pageSize 25 (unconfirmed for search:
// the SDK documents 25 as the default of the listings, not of search).
func (req *searchRequest) page() (page, error) {
	p := page{size: defaultPageSize, number: 1}
	if req.PageSize != nil {
		p.size = *req.PageSize
	}
	if req.PageNumber != nil {
		p.number = *req.PageNumber
	}
	if p.size < 1 || p.size > maxSearchPageSize || p.number < 1 {
		return page{}, invalidValue("pageSize must be from 1 to %d and pageNumber at least 1", maxSearchPageSize)
	}
	req.PageSize, req.PageNumber = &p.size, &p.number
	return p, nil
}

func (s *store) search(match func(*group) bool, order func(a, b *group) int, p page) ([]json.RawMessage, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found []*group
	for _, g := range s.byName {
		if match(g) {
			found = append(found, g)
		}
	}
	slices.SortStableFunc(found, order)
	onPage := slice(found, p)
	out := make([]json.RawMessage, len(onPage))
	for k, g := range onPage {
		out[k] = g.entity
	}
	return out, len(found)
}

// clause is one compiled criterion with the operator that combines it.
type clause struct {
	op   string
	test func(*group) bool
}

// compileCriteria turns criteria into a predicate: every AND criterion must
// match, no NOT criterion may match, and when there are OR criteria at
// least one of them must match. No criteria match everything.
func compileCriteria(cs []searchCriteria, depth int) (func(*group) bool, error) {
	if depth > maxCriteriaDepth {
		return nil, invalidValue("criteria groups are nested more than %d levels", maxCriteriaDepth)
	}
	clauses := make([]clause, 0, len(cs))
	for _, c := range cs {
		op := cmp.Or(c.Operator, "AND")
		if !slices.Contains(searchOperators, op) {
			return nil, invalidValue("operator must be one of %v", searchOperators)
		}
		test, err := compileCriterion(c, depth)
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, clause{op: op, test: test})
	}
	return func(g *group) bool { return combine(clauses, g) }, nil
}

func combine(clauses []clause, g *group) bool {
	hasOr, anyOr := false, false
	for _, c := range clauses {
		ok := c.test(g)
		switch c.op {
		case "AND":
			if !ok {
				return false
			}
		case "NOT":
			if ok {
				return false
			}
		default:
			hasOr, anyOr = true, anyOr || ok
		}
	}
	return !hasOr || anyOr
}

// compileCriterion compiles one criterion: its type's test must match and,
// when it has a nested group, so must the group. The type is required, in
// nested criteria too (GroupSearchCriteria.type, SW18 and the Go SDK), so a
// criterion without one is 400.
func compileCriterion(c searchCriteria, depth int) (func(*group) bool, error) {
	if c.Type == "" {
		return nil, invalidValue("every criterion needs a type")
	}
	own, err := compileType(c)
	if err != nil || len(c.Group) == 0 {
		return own, err
	}
	sub, err := compileCriteria(c.Group, depth+1)
	if err != nil {
		return nil, err
	}
	return func(g *group) bool { return own(g) && sub(g) }, nil
}

// compileType compiles a criterion's type over its fields (a field matches
// when one of the values matches; the criterion when one field matches).
// Comparisons ignore case. Unconfirmed: case folding, TERM as whole words
// and REGEX as RE2 over the whole value are the emulator's choices; no
// source documents how the real index matches.
func compileType(c searchCriteria) (func(*group) bool, error) {
	if c.Type == "MATCH_ALL" {
		return func(*group) bool { return true }, nil
	}
	fields, err := criteriaFields(c.Fields)
	if err != nil {
		return nil, err
	}
	if c.Type == "REQUIRED_FIELDS" {
		return func(g *group) bool {
			return !slices.ContainsFunc(fields, func(f func(*group) string) bool { return f(g) == "" })
		}, nil
	}
	values := criteriaValues(c)
	if len(values) == 0 {
		return nil, invalidValue("criteria of type %s need a value or values", c.Type)
	}
	test, err := valueTest(c.Type, values)
	if err != nil {
		return nil, err
	}
	return func(g *group) bool {
		return slices.ContainsFunc(fields, func(f func(*group) string) bool { return test(strings.ToLower(f(g))) })
	}, nil
}

func criteriaFields(names []string) ([]func(*group) string, error) {
	if len(names) == 0 {
		return nil, invalidValue("criteria need fields")
	}
	out := make([]func(*group) string, len(names))
	for k, n := range names {
		f, ok := searchFields[n]
		if !ok {
			return nil, invalidValue("%q is not a searchable group field", n)
		}
		out[k] = f
	}
	return out, nil
}

// criteriaValues returns value and values, blanks left out.
func criteriaValues(c searchCriteria) []string {
	return slices.DeleteFunc(append([]string{c.Value}, c.Values...), func(v string) bool { return v == "" })
}

// valueTest returns the test of a lower-cased field value against values.
func valueTest(typ string, values []string) (func(string) bool, error) {
	lower := make([]string, len(values))
	for k, v := range values {
		lower[k] = strings.ToLower(v)
	}
	anyOf := func(f func(field, v string) bool) func(string) bool {
		return func(field string) bool {
			return slices.ContainsFunc(lower, func(v string) bool { return f(field, v) })
		}
	}
	switch typ {
	case "EXACT":
		return anyOf(func(field, v string) bool { return field == v }), nil
	case "STARTS_WITH":
		return anyOf(strings.HasPrefix), nil
	case "CONTAINS":
		return anyOf(strings.Contains), nil
	case "TERM", "TERMS":
		return anyOf(func(field, v string) bool { return slices.Contains(strings.Fields(field), v) }), nil
	case "REGEX":
		return regexTest(values)
	}
	return nil, invalidValue("criteria type %q is not supported", typ)
}

// regexTest matches a whole field value against one of the patterns,
// ignoring case.
func regexTest(patterns []string) (func(string) bool, error) {
	bad := invalidValue("REGEX value is not a valid pattern of at most %d bytes", maxRegex)
	res := make([]*regexp.Regexp, len(patterns))
	for k, p := range patterns {
		if len(p) > maxRegex {
			return nil, bad
		}
		re, err := regexp.Compile("(?i)^(?:" + p + ")$")
		if err != nil {
			return nil, bad
		}
		res[k] = re
	}
	return func(field string) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(field) })
	}, nil
}

// compileSort returns the result order: the sort keys, then sortBy /
// sortOrder, then name and id. SCORE sorts by name (there is no score):
// unconfirmed, the emulator's choice.
func compileSort(req searchRequest) (func(a, b *group) int, error) {
	keys := slices.Clone(req.Sort)
	if req.SortBy != "" || req.SortOrder != "" {
		keys = append(keys, searchSort{SortBy: req.SortBy, SortOrder: req.SortOrder})
	}
	type key struct {
		field func(*group) string
		desc  bool
	}
	ks := make([]key, len(keys))
	for k, sk := range keys {
		f, ok := searchFields[cmp.Or(sk.SortBy, "name")]
		order := cmp.Or(sk.SortOrder, "ASC")
		if !ok || !slices.Contains(sortOrders, order) {
			return nil, invalidValue("sort: sortBy must be a group field and sortOrder one of %v", sortOrders)
		}
		ks[k] = key{field: f, desc: order == "DESC"}
	}
	return func(a, b *group) int {
		for _, k := range ks {
			c := cmp.Compare(k.field(a), k.field(b))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return compareGroups(a, b)
	}, nil
}

// pageURI is the relative URI of page number of req: its normalised JSON,
// gzip-compressed, URL-safe base64, percent-encoded.
func pageURI(req searchRequest, number int) string {
	req.PageNumber = &number
	b, _ := json.Marshal(cursor{Types: searchTypes, searchRequest: req})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return searchPath + "?q64=" + url.QueryEscape(base64.URLEncoding.EncodeToString(buf.Bytes()))
}

// decodeCursor reads a q64 value back into the request it encodes.
func decodeCursor(v string) (searchRequest, error) {
	bad := badRequest("q64 is not a valid search cursor")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return searchRequest{}, bad
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return searchRequest{}, bad
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxRequestBytes+1))
	if err != nil || len(b) > maxRequestBytes {
		return searchRequest{}, bad
	}
	var c cursor
	if err := decodeJSON(bytes.NewReader(b), &c, "q64"); err != nil {
		return searchRequest{}, err
	}
	if c.Types != nil && !slices.Equal(c.Types, searchTypes) {
		return searchRequest{}, invalidValue("q64 searches %v, not groups", c.Types)
	}
	return c.searchRequest, nil
}
