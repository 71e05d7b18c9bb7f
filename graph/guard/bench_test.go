package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkLargestAdmittedDocument measures the guard and gqlgen from the
// request body to the start of execution (the operation middleware of env
// stops there) for documents at the default limits:
//
//   - lookups: 100 aliased group lookups spreading an 18-field fragment
//     (100 aliases, 2,000 expanded selections);
//   - duplicates: lookups of fields repeated up to 20 times, at the merge
//     comparison limit (the worst case of gqlparser's quadratic
//     overlapping-fields check that the limits admit);
//   - tokens: a list argument of 4,986 values (5,000 tokens with the
//     operation name below).
//
// "cold" sends a new document every time, by naming its operation anew
// (both caches miss: the worst case an attacker can force); "warm" repeats
// one (both caches hit).
func BenchmarkLargestAdmittedDocument(b *testing.B) {
	documents := map[string]string{
		"lookups":    fragmentLookups(DefaultMaxAliases),
		"duplicates": mergeComparisons(DefaultMaxMergeComparisons),
		"tokens":     idsList(DefaultMaxTokens - 14), // the operation name that makes a document new is 2 tokens
	}
	for name, doc := range documents {
		for _, cold := range []bool{true, false} {
			b.Run(name+map[bool]string{true: "/cold", false: "/warm"}[cold], func(b *testing.B) {
				e := &env{t: b}
				h := e.handler(defaults())
				for i := 0; b.Loop(); i++ {
					query := doc
					if cold {
						query = "query Q" + strconv.Itoa(i) + " " + query
					}
					body, _ := json.Marshal(map[string]string{"query": query})
					req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"executed":true`) {
						b.Fatalf("not admitted: %d %s", rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}
