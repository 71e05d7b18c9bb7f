package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// overlapDocument is the red team's case 57 document: one group lookup
// whose members page is selected 20 times, each selecting its entities 15
// times with 5 fields (1,821 selections, within every per-set limit).
func overlapDocument() string {
	entities := strings.Repeat("entities { id name email title username } ", 15)
	return `{ group(id: "` + testGroupID + `") { ` + strings.Repeat("members(pageSize: 1) { "+entities+"} ", 20) + "} }"
}

// managerDocument is case 57's second shape: a member's manager selected
// 20 times, each selecting the manager's manager 20 times.
func managerDocument() string {
	return `{ group(id: "` + testGroupID + `") { members(pageSize: 1) { entities { ` +
		strings.Repeat("manager { "+strings.Repeat("manager { manager { id } } ", 20)+"} ", 20) + "} } } }"
}

// BenchmarkExpensiveDocument measures the guard and gqlgen, from the request
// body to the refusal or the start of execution, for case 57's documents:
// "fresh" sends a new comment every time, "same" repeats one text.
func BenchmarkExpensiveDocument(b *testing.B) {
	for name, doc := range map[string]string{"members": overlapDocument(), "manager": managerDocument()} {
		for _, fresh := range []bool{true, false} {
			b.Run(name+map[bool]string{true: "/fresh", false: "/same"}[fresh], func(b *testing.B) {
				e := &env{t: b}
				h := e.handler(defaults())
				for i := 0; b.Loop(); i++ {
					query := doc
					if fresh {
						query = "# " + strconv.Itoa(i) + "\n" + doc
					}
					body, _ := json.Marshal(map[string]string{"query": query})
					req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if i == 0 {
						b.Logf("%d bytes: %d %.120s", len(doc), rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}
