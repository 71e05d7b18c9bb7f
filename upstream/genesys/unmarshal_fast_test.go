package genesys

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/internal/jsonscan"
	"github.com/groupdir/gateway/upstream"
)

// fastSelections are selections of user members the fast decoding reads:
// the side-by-side benchmark's W3 and W4 queries, every member it reads,
// the id alone.
var fastSelections = []Fields{
	NewFields([]string{"name", "email"}, nil),
	NewFields([]string{"name", "email", "title", "department", "state", "chat", "division"}, nil),
	NewFields([]string{"name", "division", "chat", "department", "email", "state", "title", "username", "version",
		"preferredName", "acdAutoAnswer", "languagePreference", "dateLastLogin", "dateWelcomeSent", "selfUri"}, nil),
	NewFields([]string{}, nil),
}

// fastSizes are page sizes asked for: unknown, smaller than the pages of
// the tests, about theirs, larger.
var fastSizes = []int{0, 1, 20, 200}

// fastMatchesUsual decodes body with fastUserPage, with each of fastSizes,
// and, when it takes the page, checks that the usual decoding gives the
// same page without an error or a drift report. It reports whether
// fastUserPage took the page.
func fastMatchesUsual(t *testing.T, body []byte, f Fields) bool {
	t.Helper()
	return fastMatches(t, body, f, fastUserPage)
}

// fastMatches is fastMatchesUsual for the fast decoding fast of a page L.
func fastMatches[L any](t *testing.T, body []byte, f Fields, fast func([]byte, Fields, int, *L) bool) bool {
	t.Helper()
	var want L
	var drift driftLog
	_, err := upstream.Decode(body, &want, newUnmarshalOptions(f, drift.report))
	took := 0
	for _, size := range fastSizes {
		var got, zero L
		if !fast(body, f, size, &got) {
			assert.Equal(t, zero, got, "a page given up is left as it was")
			continue
		}
		took++
		require.NoError(t, err, "the fast decoding took a page the usual one refuses: %s", body)
		assert.Empty(t, drift.reported(), "the fast decoding took a page with drift: %s", body)
		assert.Equal(t, want, got, "page size %d: %s", size, body)
	}
	if took != 0 && took != len(fastSizes) {
		t.Errorf("the page size asked for changed whether the fast decoding took %s", body)
	}
	return took > 0
}

func TestFastUserPageTakesPlainPages(t *testing.T) {
	members, err := os.ReadFile("testdata/members20.json")
	require.NoError(t, err)
	pages := [][]byte{members, repeatedPage(t, "members20.json"), repeatedPage(t, "members20-expanded.json"),
		[]byte(`{"entities":[` + fullUser + `,` + fullUser + `],"pageSize":2,"total":2}`),
		[]byte(" {\"entities\" : [ {\"id\":\"a\\u00e9\\n\", \"name\":null, \"email\":\"\xff\", \"division\":null,\"chat\":{}} ] ,\n" +
			"\"pageNumber\":-0,\"nextUri\":null, \"x\":[1.5e-3,true,false,null,{\"y\":[]}]}\t"),
		// Plain ASCII strings are taken as they are; UTF-8 ones, valid or
		// not, and escaped ones are made as the usual decoding makes them.
		[]byte("{\"entities\":[{\"id\":\"abcdefghijkl\",\"name\":\"Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m, a long name\",\"email\":" +
			"\"abcdefghij\xff\xfeklmnop\",\"title\":\"\xe2\x82\xac 1\\u00e9 \\\" x\",\"department\":\"\xed\xa0\x80 surrogate\"}]}"),
		[]byte(`{"entities":[],"total":0}`), []byte(`{"entities":null}`), []byte(`{}`),
		[]byte(`{"entities":[{"id":"a","id":"b","state":"inactive","acdAutoAnswer":true,"version":3}]}`),
	}
	for _, f := range fastSelections {
		for _, p := range pages {
			assert.True(t, fastMatchesUsual(t, p, f), "the fast decoding takes %s", p)
		}
	}
}

func TestFastUserPageGivesUp(t *testing.T) {
	w4 := fastSelections[1]
	for _, body := range []string{
		// Drift, which the usual decoding reports.
		`{"entities":[{"id":"a","email":5}]}`,
		`{"entities":[{"id":"a","state":"suspended"}]}`,
		`{"entities":[{"id":"a","division":"Home"}]}`,
		`{"entities":[{"id":"a","chat":[]}]}`,
		`{"entities":["a"]}`,
		`{"entities":{}}`,
		`{"total":"3"}`,
		`{"pageSize":1.0}`,
		`{"pageSize":1234567890}`,
		// Escaped names.
		`{"entities":[{"\u0069d":"a"}]}`,
		// Not JSON.
		`{"entities":[{"id":"a"}]`,
		`{"entities":[{"id":"a",}]}`,
		`{"entities":[{"id":"a"}]} {}`,
		`{"entities":[{"id":"a\x01"}]}`,
		`{"entities":[{"id":"a\q"}]}`,
		`{"entities":[{"id":"a\u12"}]}`,
		`{"x":01}`,
		`{"x":1.}`,
		`{"x":-}`,
		`{"x":tru}`,
		`{"x":nul}`,
		`{"x" 1}`,
		// Deeper than the fast decoding follows.
		`{"x":` + strings.Repeat("[", maxFastDepth) + strings.Repeat("]", maxFastDepth) + `}`,
	} {
		assert.False(t, fastMatchesUsual(t, []byte(body), w4), "the fast decoding gives up on %s", body)
	}
	page := repeatedPage(t, "members20.json")
	for _, f := range []Fields{{}, NewFields([]string{"primaryContactInfo"}, nil), NewFields([]string{"manager", "name"}, nil)} {
		assert.False(t, fastUserPage(page, f, 0, &UserEntityListing{}), "members it does not read")
	}
}

func FuzzFastUserPage(f *testing.F) {
	f.Add([]byte(`{"entities":[` + fullUser + `],"pageSize":1}`))
	f.Add([]byte(`{"entities":[{"id":"a","state":"active","chat":{"jabberId":"j"},"division":{"id":"d","name":"n"}}],"total":1}`))
	f.Add([]byte("{\"entities\":[{\"id\":\"\\ud800\",\"name\":\"\xc3\",\"version\":-12,\"acdAutoAnswer\":false}]}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sel := range fastSelections {
			fastMatchesUsual(t, body, sel)
		}
	})
}

func TestPageSizeOf(t *testing.T) {
	for q, want := range map[string]int{"pageSize=25&pageNumber=2": 25, "pageNumber=2&pageSize=100": 100, "": 0,
		"pageNumber=2": 0, "pageSize=-3": 0, "pageSize=x": 0, "apageSize=5&pageSize=7": 7} {
		assert.Equal(t, want, pageSizeOf(&http.Request{URL: &url.URL{RawQuery: q}}), q)
	}
	assert.Zero(t, pageSizeOf(nil))
}

// skipEnd runs skip over body and returns where it stopped, or -1 when it
// gave up.
func skipEnd(body []byte) int {
	s := fastScan{Scanner: jsonscan.Scanner{B: body}}
	if !s.skip() {
		return -1
	}
	return s.I
}

// TestFastSkip: skip reads exactly one value of any shape, and gives up on
// what is no JSON value and on what object and array give up on (escaped
// member names, nesting deeper than maxFastDepth).
func TestFastSkip(t *testing.T) {
	for _, v := range []string{`"a"`, `"a\"b\u00e9"`, `0`, `-1.5e+3`, `true`, `false`, `null`, `{}`, `[]`, ` [ ] `,
		`{"a":1}`, `{"a":{"b":[1,{"c":[]},"x"]},"d":null}`, `[[[]],{},[{}]]`, `{"a" : [ 1 , 2 ] , "b" : { } }`,
		strings.Repeat("[", maxFastDepth) + strings.Repeat("]", maxFastDepth),
		strings.Repeat(`{"a":`, maxFastDepth-1) + "1" + strings.Repeat("}", maxFastDepth-1)} {
		trimmed := strings.TrimRight(v, " ")
		assert.Equal(t, len(trimmed), skipEnd([]byte(v+`,"next"`)), "one value: %s", v)
	}
	for _, v := range []string{``, `{`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1]`, `[1}`,
		`{a:1}`, `{"\u0061":1}`, `[{"a\n":1}]`, `{"a":1,"b"`, `tru`, `nul`, `-`, `-x`, `.5`, `"abc`, "\"a\x01\"", `]`,
		`}`, `{"a":[1,{"b":2]}}`, strings.Repeat("[", maxFastDepth+1) + strings.Repeat("]", maxFastDepth+1)} {
		assert.Equal(t, -1, skipEnd([]byte(v)), "gives up: %q", v)
	}
}

// FuzzFastSkip: what skip reads is one valid JSON value, and a valid one
// without escaped member names and within maxFastDepth is read whole.
func FuzzFastSkip(f *testing.F) {
	for _, v := range []string{`{"a":{"b":[1,{"c":[]},"x"]},"d":null}`, `[1,"2",true]`, `"\u00e9"`, `{"a":1]`} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		end := skipEnd(body)
		if end >= 0 {
			require.True(t, json.Valid(body[:end]), "skip read %q as a value", body[:end])
		}
		if json.Valid(body) && !bytes.Contains(body, []byte(`\`)) && bytes.Count(body, []byte("{"))+bytes.Count(body, []byte("[")) <= maxFastDepth {
			require.Equal(t, len(bytes.TrimRight(body, " \t\r\n")), end, "skip reads the whole of %q", body)
		}
	})
}
