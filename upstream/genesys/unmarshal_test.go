package genesys

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// differential decodes data into a T with plain json v2 and with the
// client's unmarshalers and checks that both give the same value and the
// same error field.
func differential[T any](t *testing.T, data []byte) {
	t.Helper()
	var want, got T
	wantField, wantErr := upstream.Decode(data, &want, allowDuplicateNames)
	gotField, gotErr := upstream.Decode(data, &got, unmarshalOptions)
	if wantErr != nil {
		require.Error(t, gotErr, "plain json v2 failed with %v", wantErr)
		assert.Equal(t, wantField, gotField)
		return
	}
	require.NoError(t, gotErr)
	assert.Equal(t, want, got)
}

func TestUnmarshalTestdata(t *testing.T) {
	members, err := os.ReadFile("testdata/members20.json")
	require.NoError(t, err)
	groups, err := os.ReadFile("testdata/groups20.json")
	require.NoError(t, err)
	differential[UserEntityListing](t, members)
	differential[UserEntityListing](t, repeatedPage(t, "members20.json"))
	differential[UserEntityListing](t, repeatedPage(t, "members20-expanded.json"))
	differential[GroupEntityListing](t, groups)
	differential[GroupEntityListing](t, repeatedPage(t, "groups20.json"))
	differential[GroupsSearchResponse](t, searchPage(t))
	var l UserEntityListing
	_, err = upstream.Decode(repeatedPage(t, "members20.json"), &l, unmarshalOptions)
	require.NoError(t, err)
	assert.Len(t, l.Entities, 20*pageCopies)
	assert.Equal(t, len(l.Entities), cap(l.Entities), "entities allocated at their final length")

	_, err = upstream.Decode(repeatedPage(t, "members20-expanded.json"), &l, unmarshalOptions)
	require.NoError(t, err)
	for _, u := range l.Entities {
		// Raw parts share chunks: an append to one must not reach another.
		assert.Equal(t, len(u.Presence), cap(u.Presence))
		assert.Equal(t, len(u.RoutingStatus), cap(u.RoutingStatus))
	}
}

// fullUser sends every member of a User, the expansions included.
const fullUser = `{"id":"u1","name":"Ada \"the first\" L\u00f6velace \ud83d\ude00","division":{"id":"d","name":"Home","selfUri":"/d","extra":[1,{"a":null}]},
"chat":{"jabberId":"j@x"},"department":"Dept","email":"a@x","primaryContactInfo":[{"address":"a@x","display":"A","mediaType":"EMAIL","type":"PRIMARY","extension":"1","countryCode":"FR","integration":"i"},{"address":"+33"}],
"addresses":[],"state":"active","title":"T","username":"u","manager":{"id":"m1","name":"Boss","manager":{"id":"m2","division":null}},
"images":[{"resolution":"x96","imageUri":"https://i/1"}],"version":42,"certifications":["c1","c2"],"biography":{"biography":"b","interests":["i"],"hobbies":[],"spouse":"s","education":[{"school":"S"}]},
"employerInfo":{"officialName":"O","employeeId":"E","employeeType":"Full","dateHire":"2020-01-01"},"preferredName":"P",
"routingStatus":{"status":"IDLE","startTime":"2026-01-01T00:00:00Z"},"presence":{ "presenceDefinition" : {"systemPresence":"Available"} },
"integrationPresence":null,"conversationSummary":{"call":{}},"outOfOffice":{"active":false},"geolocation":{"city":"Paris"},"station":{},"authorization":{"roles":[]},
"profileSkills":["s1"],"locations":[{"id":"l"}],"groups":[{"id":"g1","name":"G","rolesEnabled":true,"owners":[{"id":"o1"}]}],"team":{"id":"t"},
"workPlanBidRanks":{"x":1},"skills":[{"id":"sk","proficiency":4.5}],"languages":[],"acdAutoAnswer":true,"languagePreference":"en-US",
"lastTokenIssued":{"dateIssued":"2026-01-01"},"dateLastLogin":"2026-01-02","dateWelcomeSent":"2026-01-03","selfUri":"/api/v2/users/u1","unknown":{"deep":[[{}]]}}`

// fullGroup sends every member of a Group.
const fullGroup = `{"id":"g1","name":"Group \\ one","description":"D","dateModified":"2026-01-01T00:00:00.000Z","memberCount":12345678901,"state":"active","version":3,
"type":"official","images":[{"resolution":"x48","imageUri":"/i"}],"addresses":[{"address":"+1","extension":"2","display":"+1 (2)","type":"GROUPRING","mediaType":"PHONE"}],
"rulesVisible":true,"visibility":"owners","rolesEnabled":false,"includeOwners":true,"callsEnabled":null,"owners":[{"id":"o1","name":"Owner","selfUri":"/u/o1"},{"id":"o2"}],
"selfUri":"/api/v2/groups/g1","unknownList":[1,2,3]}`

func TestUnmarshalDifferential(t *testing.T) {
	page := func(entities string) []byte {
		return []byte(`{"entities":[` + entities + `],"pageSize":25,"pageNumber":1,"total":2,"pageCount":1,` +
			`"firstUri":"/f","previousUri":null,"nextUri":"/n?a=1\u0026b=2","lastUri":"/l","selfUri":"/s","extra":{}}`)
	}
	tests := []struct {
		name         string
		users        string // a UserEntityListing
		groups       string // a GroupEntityListing
		user, group  string // a User, a Group
		errField     string
		wantsFailure bool
	}{
		{name: "full", users: string(page(fullUser + "," + fullUser)), groups: string(page(fullGroup + "," + fullGroup)), user: fullUser, group: fullGroup},
		{name: "large raw part", user: `{"skills":[` + strings.Repeat(`{"id":"s","proficiency":4},`, 100) + `{}],"team":{}}`},
		{name: "empty objects", users: `{}`, groups: `{}`, user: `{}`, group: `{}`},
		{name: "empty page", users: string(page("")), groups: string(page(""))},
		{name: "null entities", users: `{"entities":null,"total":0}`, groups: `{"entities":null}`},
		{name: "nulls everywhere", users: string(page(`{"id":null,"division":null,"chat":null,"primaryContactInfo":null,"manager":null,"version":null,"acdAutoAnswer":null,"presence":null,"images":null}`)),
			groups: string(page(`{"id":null,"memberCount":null,"rulesVisible":null,"rolesEnabled":null,"owners":null,"addresses":null}`)),
			user:   `{"division":null,"chat":{"jabberId":null}}`, group: `{"owners":[null,{"id":"o"}]}`},
		{name: "null elements", users: string(page(`null,{"id":"b"}`)), groups: string(page(`null`)), user: `{"primaryContactInfo":[null]}`},
		{name: "unknown fields only", users: `{"foo":1,"bar":[{"entities":1}]}`, groups: `{"foo":{"id":"x"}}`, user: `{"x":"y"}`, group: `{"x":[true]}`},
		{name: "escaped names", users: string(page(`{"\u0069d":"x","n\u0061me":"y"}`)), user: `{"self\u0055ri":"/u"}`},
		{name: "negative and big numbers", users: `{"total":-12,"pageSize":999999999999999999,"pageNumber":-0}`, group: `{"memberCount":9223372036854775807,"version":-5}`},
		{name: "float for an int", users: string(page(`{"id":"a","version":1.5}`)), errField: "version"},
		{name: "integral float for an int", group: `{"version":2.0}`, errField: "version"},
		{name: "exponent for an int", users: `{"pageSize":1e2}`, errField: "pageSize"},
		{name: "overflow", group: `{"memberCount":92233720368547758070}`, errField: "memberCount"},
		{name: "string for an int", groups: string(page(`{"memberCount":"5"}`)), errField: "memberCount"},
		{name: "number for a string", user: `{"email":5}`, errField: "email"},
		{name: "string for a bool", group: `{"rulesVisible":"true"}`, errField: "rulesVisible"},
		{name: "number for an optional bool", users: string(page(`{"acdAutoAnswer":1}`)), errField: "acdAutoAnswer"},
		{name: "string for an object", users: string(page(`{"division":"Home"}`)), errField: "division"},
		{name: "object for a list", user: `{"primaryContactInfo":{}}`, errField: "primaryContactInfo"},
		{name: "nested mismatch", user: `{"manager":{"chat":{"jabberId":1}}}`, errField: "jabberId"},
		{name: "mismatch in a rare member", user: `{"biography":{"hobbies":"h"}}`, errField: "hobbies"},
		{name: "string for the entities", users: `{"entities":"x"}`, groups: `{"entities":{}}`, errField: "entities"},
		{name: "duplicate name: the last wins", users: string(page(`{"id":"a","id":"b"}`)), group: `{"name":"a","name":"b"}`},
		{name: "truncated", users: `{"entities":[{"id":"a"`, group: `{"id":`, wantsFailure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The groups page again as search results, whose entities
			// are named "results".
			asSearch := strings.NewReplacer("entities", "results")
			for _, c := range []struct {
				body, errField string
				run            func(*testing.T, []byte)
			}{
				{tc.users, tc.errField, differential[UserEntityListing]},
				{tc.groups, tc.errField, differential[GroupEntityListing]},
				{asSearch.Replace(tc.groups), asSearch.Replace(tc.errField), differential[GroupsSearchResponse]},
				{tc.user, tc.errField, differential[User]},
				{tc.group, tc.errField, differential[Group]},
			} {
				if c.body == "" {
					continue
				}
				c.run(t, []byte(c.body))
				if c.errField != "" || tc.wantsFailure {
					checkFailure(t, c.body, c.errField)
				}
			}
		})
	}
}

// checkFailure checks that the client's decoding of body into every hand
// decoded type fails, naming field.
func checkFailure(t *testing.T, body, field string) {
	t.Helper()
	var (
		users  UserEntityListing
		groups GroupEntityListing
		search GroupsSearchResponse
		user   User
		group  Group
	)
	failed := false
	for _, v := range []any{&users, &groups, &search, &user, &group} {
		f, err := upstream.Decode([]byte(body), v, unmarshalOptions)
		if err != nil && f == field {
			failed = true
		}
	}
	assert.True(t, failed, "no decoding of %s failed naming %q", body, field)
}

func TestUnmarshalReuse(t *testing.T) {
	// Decoding after a failure, and again into the same pages, gives the
	// same values: the pooled scratch keeps nothing from earlier calls.
	data := repeatedPage(t, "members20.json")
	var want UserEntityListing
	require.NoError(t, jsonv2.Unmarshal(data, &want))
	for range 3 {
		_, err := upstream.Decode([]byte(`{"entities":[{"id":"x","version":"bad"}]}`), &UserEntityListing{}, unmarshalOptions)
		require.Error(t, err)
		var got UserEntityListing
		_, err = upstream.Decode(data, &got, unmarshalOptions)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func TestDecodeStateTrim(t *testing.T) {
	st := &decodeState{
		buf: make([]byte, 0, maxPooledBytes+1), pending: make([]pendingString, 0, 8),
		users: make([]User, 0, maxPooledEntities+1), groups: make([]Group, 0, 10),
	}
	st.trim()
	assert.Nil(t, st.buf)
	assert.Nil(t, st.pending)
	assert.Nil(t, st.users)
	assert.Equal(t, 10, cap(st.groups), "a scratch within the limits is kept")
}

// fill sets every field reachable from v to a value that is not its zero
// (pointers and slices up to depth levels deep), so that a member the hand
// decoders forgot shows as a difference.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s-" + strconv.Itoa(depth))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(7 + depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		if depth > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), depth-1)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[jsontext.Value]() {
			v.SetBytes([]byte(`{"k":[1,"x"]}`))
		} else if depth > 0 {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			fill(v.Index(0), depth-1)
			fill(v.Index(1), depth-1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), depth)
		}
	default:
		panic("fill: unexpected kind " + v.Kind().String())
	}
}

func TestUnmarshalEveryField(t *testing.T) {
	// A member added to a hand-decoded model must be added to its member
	// function too: this fails when one is missing.
	body := func(v any) []byte {
		fill(reflect.ValueOf(v).Elem(), 3)
		b, err := jsonv2.Marshal(v)
		require.NoError(t, err)
		return b
	}
	differential[UserEntityListing](t, body(&UserEntityListing{}))
	differential[GroupEntityListing](t, body(&GroupEntityListing{}))
	differential[User](t, body(&User{}))
	differential[Group](t, body(&Group{}))
	differential[GroupsSearchResponse](t, body(&GroupsSearchResponse{}))
}
