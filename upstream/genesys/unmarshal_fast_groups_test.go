package genesys

import (
	"os"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastGroupSelections are selections of group members the fast decoding
// reads: the side-by-side benchmark's W1 and W2 queries, W3's, every member
// it reads, the id alone.
var fastGroupSelections = []Fields{
	NewFields(nil, []string{"name", "memberCount"}),
	NewFields(nil, []string{"name"}),
	NewFields(nil, []string{"name", "description", "dateModified", "memberCount", "state", "version", "type",
		"rulesVisible", "visibility", "rolesEnabled", "includeOwners", "callsEnabled", "selfUri"}),
	NewFields(nil, []string{}),
}

// plainGroup sends every member of a Group that the fast decoding reads,
// with escapes, and members it skips.
const plainGroup = `{"id":"g\u00e92","name":"Caf\u00e9 \"Team\"\n","description":"\ud83d\ude00 \\ \/","dateModified":"2026-01-01T00:00:00.000Z",
"memberCount":-123456789,"state":"deleted","version":0,"type":"social","rulesVisible":false,"visibility":"public",
"rolesEnabled":true,"includeOwners":false,"callsEnabled":true,"selfUri":"/api/v2/groups/g2",
"images":null,"addresses":[{"type":"secret","x":{}}],"owners":[{"id":5,"state":"unknown"}],"unknown":[1.5e3,-0,{"a":[true,false,null]}]}`

func TestFastGroupPageTakesPlainPages(t *testing.T) {
	groups, err := os.ReadFile("testdata/groups20.json")
	require.NoError(t, err)
	pages := [][]byte{groups, repeatedPage(t, "groups20.json"),
		[]byte(`{"entities":[` + fullGroup + `,` + plainGroup + `],"pageSize":2,"pageNumber":1,"total":2,"pageCount":1,` +
			`"firstUri":"/f","previousUri":null,"nextUri":"/n?a=1\u0026b=2","lastUri":"/l","selfUri":"/s","extra":{}}`),
		// Nulls, and members missing.
		[]byte(`{"entities":[{"id":null,"name":null,"description":null,"dateModified":null,` +
			`"state":null,"type":null,"rulesVisible":null,"visibility":null,"rolesEnabled":null,` +
			`"includeOwners":null,"callsEnabled":null,"selfUri":null},{"id":"a"},{}],"nextUri":null}`),
		// Repeated members: the last one wins.
		[]byte(`{"entities":[{"id":"a","rolesEnabled":true,"rolesEnabled":null,"rulesVisible":true,"rulesVisible":false,` +
			`"state":"active","state":"inactive","name":"x","name":"y"}],"entities":[{"id":"b"}]}`),
		// Invalid UTF-8, white space everywhere.
		[]byte(" {\"entities\" : [ {\"id\" : \"\xff\" , \"name\":\"a\xc3\" ,\"visibility\":\"members\"} ] ,\n\"pageNumber\":-0 }\t"),
		[]byte(`{"entities":[],"total":0}`), []byte(`{"entities":null}`), []byte(`{}`),
	}
	for _, f := range fastGroupSelections {
		for _, p := range pages {
			assert.True(t, fastMatches(t, p, f, fastGroupPage), "the fast decoding takes %s", p)
		}
	}
}

func TestFastGroupPageGivesUp(t *testing.T) {
	every := fastGroupSelections[2]
	for _, body := range []string{
		// Unknown enumeration values, which the usual decoding reports.
		`{"entities":[{"id":"a","state":"suspended"}]}`,
		`{"entities":[{"id":"a","state":""}]}`,
		`{"entities":[{"id":"a","type":"secret"}]}`,
		`{"entities":[{"id":"a","visibility":"everyone"}]}`,
		`{"entities":[{"id":"a","visibility":"Public"}]}`,
		// Drift, or a value the usual decoding converts.
		`{"entities":[{"id":"a","name":5}]}`,
		`{"entities":[{"id":7}]}`,
		`{"entities":[{"id":"a","memberCount":"3"}]}`,
		`{"entities":[{"id":"a","memberCount":1.0}]}`,
		`{"entities":[{"id":"a","memberCount":12345678901}]}`,
		`{"entities":[{"id":"a","version":[]}]}`,
		`{"entities":[{"id":"a","rulesVisible":"true"}]}`,
		`{"entities":[{"id":"a","rulesVisible":0}]}`,
		`{"entities":[{"id":"a","rolesEnabled":{}}]}`,
		`{"entities":[{"id":"a","state":["active"]}]}`,
		`{"entities":[null]}`,
		`{"entities":["a"]}`,
		`{"entities":{}}`,
		`{"entities":"none"}`,
		`{"total":"3"}`,
		`{"pageSize":1234567890}`,
		// A null integer, left to the usual decoding (as in a page of users).
		`{"entities":[{"id":"a","memberCount":null}]}`,
		`{"entities":[{"id":"a","version":null}]}`,
		// Escaped names.
		`{"entities":[{"\u006eame":"a"}]}`,
		`{"entit\u0069es":[]}`,
		// Not JSON.
		`{"entities":[{"id":"a"}]`,
		`{"entities":[{"id":"a"},]}`,
		`{"entities":[{"id":"a"}]}}`,
		`{"entities":[{"id":"a\x1f"}]}`,
		`{"entities":[{"id":"a","rulesVisible":tru}]}`,
		`{"entities":[{"id":"a","callsEnabled":nul}]}`,
		`{"entities":[{"id":"a","memberCount":01}]}`,
		`{"entities":[{"id":"a","memberCount":-}]}`,
		`{"entities":[{"id":"a" "name":"b"}]}`,
		// Deeper than the fast decoding follows.
		`{"entities":[{"id":"a","x":` + strings.Repeat("[", maxFastDepth) + strings.Repeat("]", maxFastDepth) + `}]}`,
	} {
		assert.False(t, fastMatches(t, []byte(body), every, fastGroupPage), "the fast decoding gives up on %s", body)
	}
	page := repeatedPage(t, "groups20.json")
	for _, f := range []Fields{{}, NewFields(nil, nil), NewFields(nil, []string{"name", "images"}),
		NewFields(nil, []string{"addresses"}), NewFields(nil, []string{"owners", "memberCount"})} {
		assert.False(t, fastGroupPage(page, f, 0, &GroupEntityListing{}), "members it does not read")
	}
}

func FuzzFastGroupPage(f *testing.F) {
	// Two groups of testdata/groups20.json: a larger seed makes the
	// fuzzer's minimizing take minutes.
	var groups struct {
		Entities []jsontext.Value `json:"entities"`
	}
	require.NoError(f, jsonv2.Unmarshal(repeatedPage(f, "groups20.json"), &groups))
	seed, err := jsonv2.Marshal(map[string]any{"entities": groups.Entities[:2], "pageSize": 2, "total": 40})
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte(`{"entities":[` + fullGroup + `,` + plainGroup + `],"pageSize":2,"total":2}`))
	f.Add([]byte(`{"entities":[{"id":"a","state":null,"rulesVisible":null,"rolesEnabled":null,"memberCount":-1}],"nextUri":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sel := range fastGroupSelections {
			fastMatches(t, body, sel, fastGroupPage)
		}
	})
}
