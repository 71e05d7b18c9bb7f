package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// overlapDocument is the red team's case 57 document with 20 members and
// 15 entities: one group lookup whose members page is selected members
// times, each selecting its entities entities times with 5 fields (1,821
// selections, within every per-set limit).
func overlapDocument(members, entities int) string {
	set := strings.Repeat("entities { id name email title username } ", entities)
	return `{ group(id: "` + testGroupID + `") { ` + strings.Repeat("members(pageSize: 1) { "+set+"} ", members) + "} }"
}

// managerDocument is case 57's second shape: a member's manager selected
// 20 times, each selecting the manager's manager 20 times.
func managerDocument() string {
	return `{ group(id: "` + testGroupID + `") { members(pageSize: 1) { entities { ` +
		strings.Repeat("manager { "+strings.Repeat("manager { manager { id } } ", 20)+"} ", 20) + "} } } }"
}

// BenchmarkExpensiveDocument measures the guard and gqlgen, from the request
// body to the refusal or the start of execution, for case 57's documents
// and the largest document of their shape the merge comparison limit
// admits ("members-admitted"): "fresh" names the operation anew every time,
// "comment" changes a comment every time, "same" repeats one text.
func BenchmarkExpensiveDocument(b *testing.B) {
	vary := map[string]func(i int, doc string) string{
		"fresh":   func(i int, doc string) string { return "query Q" + strconv.Itoa(i) + " " + doc },
		"comment": func(i int, doc string) string { return "# " + strconv.Itoa(i) + "\n" + doc },
		"same":    func(_ int, doc string) string { return doc },
	}
	documents := map[string]string{"members": overlapDocument(20, 15), "manager": managerDocument(), "members-admitted": overlapDocument(4, 4)}
	for name, doc := range documents {
		for _, how := range []string{"fresh", "comment", "same"} {
			b.Run(name+"/"+how, func(b *testing.B) {
				e := &env{t: b}
				h := e.handler(defaults())
				for i := 0; b.Loop(); i++ {
					query := vary[how](i, doc)
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
