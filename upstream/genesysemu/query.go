package genesysemu

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/groupdir/gateway/upstream"
)

// The limits below are the emulator's own: the audit (section 2 item 9)
// lists "pageSize ≤ 500 and ≤ 100 ids", "pageSize=0 → 400" among the rules
// "the real API does not document".
const (
	defaultPageSize = 25
	// maxPageSize is the largest page of GET /groups, /profiles/groups and
	// /members (500 is what Terraform uses, "confirmed in practice (TF
	// proxy.go:437). The documented maximum is still unknown"; larger is
	// refused).
	maxPageSize = 500
	// maxLookupIDs is the most ids (or jabberIds) one GET /groups accepts
	// (audit 1b row 10: "max ids, unknown-id behaviour: unknown").
	maxLookupIDs = 100
)

// page is a validated pageSize / pageNumber pair.
type page struct{ size, number int }

// parsePage reads pageSize and pageNumber (defaults 25 and 1); values that
// are not integers, below 1, or a pageSize over limit are refused.
func parsePage(q url.Values, limit int) (page, error) {
	p := page{size: defaultPageSize, number: 1}
	for _, f := range []struct {
		key string
		dst *int
		max int
	}{{"pageSize", &p.size, limit}, {"pageNumber", &p.number, 0}} {
		v := q.Get(f.key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || (f.max > 0 && n > f.max) {
			return page{}, invalidValue("%s must be an integer from 1 to %s", f.key, limitText(f.max))
		}
		*f.dst = n
	}
	return p, nil
}

func limitText(limit int) string {
	if limit <= 0 {
		return "any"
	}
	return strconv.Itoa(limit)
}

// pageCount returns how many pages of p.size total items make.
func (p page) pageCount(total int) int { return (total + p.size - 1) / p.size }

// slice returns the part of items on page p.
func slice[T any](items []T, p page) []T {
	lo := min(len(items), (p.number-1)*p.size)
	return items[lo:min(len(items), lo+p.size)]
}

// listing builds the page envelope with relative URIs that repeat the
// request's query with another pageNumber.
func (p page) listing(path string, q url.Values, total int, entities []json.RawMessage) json.RawMessage {
	count := p.pageCount(total)
	uri := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("pageSize", strconv.Itoa(p.size))
		v.Set("pageNumber", strconv.Itoa(n))
		return path + "?" + v.Encode()
	}
	l := listing{PageSize: p.size, PageNumber: p.number, Total: total,
		FirstURI: uri(1), SelfURI: uri(p.number), LastURI: uri(max(count, 1)), PageCount: count}
	if p.number < count {
		l.NextURI = uri(p.number + 1)
	}
	if p.number > 1 {
		l.PreviousURI = uri(p.number - 1)
	}
	return withList("entities", entities, l)
}

// withList marshals v, an object, with key: items as its first member.
// The items are precomputed JSON: copying them avoids encoding/json
// validating each again, which would dominate the cost of a large page.
func withList(key string, items []json.RawMessage, v any) json.RawMessage {
	rest, _ := json.Marshal(v)
	n := len(key) + len(rest) + len(items) + 8
	for _, it := range items {
		n += len(it)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"`+key+`":[`...)
	for k, it := range items {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	b = append(b, ']')
	if len(rest) > 2 {
		b = append(b, ',')
	}
	return append(b, rest[1:]...)
}

// parseSortOrder reads sortOrder: ascending (default, also asc/ASC) or
// descending (also desc/DESC). It reports true for descending.
func parseSortOrder(q url.Values) (bool, error) {
	switch strings.ToLower(q.Get("sortOrder")) {
	case "", "asc", "ascending":
		return false, nil
	case "desc", "descending":
		return true, nil
	}
	return false, invalidValue("sortOrder must be ascending or descending")
}

// queryList reads a list parameter given repeated (k=a&k=b), comma-joined
// (k=a,b) or both; blanks and duplicates are dropped.
func queryList(q url.Values, key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range q[key] {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" && !seen[item] {
				seen[item] = true
				out = append(out, item)
			}
		}
	}
	return out
}

// selector is the id or jabberId list of GET /groups and /profiles/groups.
type selector struct {
	ids, jabberIDs []string
}

// given reports whether sel names any group.
func (sel selector) given() bool { return len(sel.ids) > 0 || len(sel.jabberIDs) > 0 }

// parseSelector reads id and jabberId; both at once, more than maxLookupIDs
// or an id that is not a UUID are refused.
func parseSelector(q url.Values) (selector, error) {
	sel := selector{ids: queryList(q, "id"), jabberIDs: queryList(q, "jabberId")}
	switch {
	case len(sel.ids) > 0 && len(sel.jabberIDs) > 0:
		return selector{}, badRequest("id and jabberId cannot be used together")
	case len(sel.ids) > maxLookupIDs || len(sel.jabberIDs) > maxLookupIDs:
		return selector{}, badRequest("at most %d ids or jabberIds may be requested at once", maxLookupIDs)
	}
	if err := checkIDs("id", sel.ids); err != nil {
		return selector{}, err
	}
	return sel, nil
}

// checkIDs refuses ids that are not UUIDs, naming field.
func checkIDs(field string, ids []string) error {
	if err := upstream.CheckIDs(field, ids); err != nil {
		return invalidValue("%s: every value must be a UUID", field)
	}
	return nil
}
