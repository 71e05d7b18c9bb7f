package genesys

import (
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// driftLog records the drifted members a decoding reports.
type driftLog struct {
	mu     sync.Mutex
	fields []string
}

func (l *driftLog) report(field string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fields = append(l.fields, field)
}

func (l *driftLog) Drifted(upstreamName, field string) { l.report(upstreamName + "/" + field) }

func (l *driftLog) reported() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.fields)
}

// unmarshalOptions decode every member by hand, drift reported nowhere.
var unmarshalOptions = newUnmarshalOptions(Fields{}, func(string) {})

// reference decodes data into v with json v2's reflection made tolerant
// (upstream.Tolerant): the generic path of every type the client does not
// decode by hand, and the reference the hand decoders must equal.
func reference(data []byte, v any, report func(string)) error {
	_, err := upstream.Decode(data, v, lenient, jsonv2.WithUnmarshalers(upstream.Tolerant(report)))
	return err
}

// differential decodes data into a T with the reference and with the
// client's unmarshalers and checks that both give the same value, the same
// drift reports (returned) and fail alike.
func differential[T any](t *testing.T, data []byte) []string {
	t.Helper()
	var want, got T
	var wantDrift, gotDrift driftLog
	wantErr := reference(data, &want, wantDrift.report)
	_, gotErr := upstream.Decode(data, &got, newUnmarshalOptions(Fields{}, gotDrift.report))
	if wantErr != nil {
		require.Error(t, gotErr, "the reference failed with %v", wantErr)
		return nil
	}
	require.NoError(t, gotErr)
	assert.Equal(t, want, got)
	assert.Equal(t, wantDrift.reported(), gotDrift.reported(), "drift reports")
	return gotDrift.reported()
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
		require.NotNil(t, u.Expansions)
		assert.Equal(t, len(u.Expansions.Presence), cap(u.Expansions.Presence))
		assert.Equal(t, len(u.Expansions.RoutingStatus), cap(u.Expansions.RoutingStatus))
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
const fullGroup = `{"id":"g1","name":"Group \\ one","description":"D","dateModified":"2026-01-01T00:00:00.000Z","memberCount":123456789,"state":"active","version":3,
"type":"official","images":[{"resolution":"x48","imageUri":"/i"}],"addresses":[{"address":"+1","extension":"2","display":"+1 (2)","type":"GROUPRING","mediaType":"PHONE"}],
"rulesVisible":true,"visibility":"owners","rolesEnabled":false,"includeOwners":true,"callsEnabled":null,"owners":[{"id":"o1","name":"Owner","selfUri":"/u/o1"},{"id":"o2"}],
"selfUri":"/api/v2/groups/g1","unknownList":[1,2,3]}`

func TestUnmarshalDifferential(t *testing.T) {
	page := func(entities string) []byte {
		return []byte(`{"entities":[` + entities + `],"pageSize":25,"pageNumber":1,"total":2,"pageCount":1,` +
			`"firstUri":"/f","previousUri":null,"nextUri":"/n?a=1\u0026b=2","lastUri":"/l","selfUri":"/s","extra":{}}`)
	}
	tests := []struct {
		name        string
		users       string // a UserEntityListing
		groups      string // a GroupEntityListing
		user, group string // a User, a Group
		// drift is the member every decoding of the case reports as
		// drifted ("" for none).
		drift        string
		wantsFailure bool
	}{
		{name: "full", users: string(page(fullUser + "," + fullUser)), groups: string(page(fullGroup + "," + fullGroup)), user: fullUser, group: fullGroup},
		{name: "large raw part", user: `{"skills":[` + strings.Repeat(`{"id":"s","proficiency":4},`, 100) + `{}],"team":{}}`},
		{name: "empty objects", users: `{}`, groups: `{}`, user: `{}`, group: `{}`},
		{name: "empty page", users: string(page("")), groups: string(page(""))},
		{name: "null entities", users: `{"entities":null,"total":0}`, groups: `{"entities":null}`},
		{name: "nulls everywhere", users: string(page(`{"id":null,"division":null,"chat":null,"primaryContactInfo":null,"manager":null,"version":null,"acdAutoAnswer":null,"presence":null,"images":null,"state":null}`)),
			groups: string(page(`{"id":null,"memberCount":null,"rulesVisible":null,"rolesEnabled":null,"owners":null,"addresses":null,"type":null}`)),
			user:   `{"division":null,"chat":{"jabberId":null}}`, group: `{"owners":[null,{"id":"o"}]}`},
		{name: "null elements", users: string(page(`null,{"id":"b"}`)), groups: string(page(`null`)), user: `{"primaryContactInfo":[null]}`},
		{name: "unknown fields only", users: `{"foo":1,"bar":[{"entities":1}]}`, groups: `{"foo":{"id":"x"}}`, user: `{"x":"y"}`, group: `{"x":[true]}`},
		{name: "escaped names", users: string(page(`{"\u0069d":"x","n\u0061me":"y"}`)), user: `{"self\u0055ri":"/u"}`},
		{name: "negative numbers", users: `{"total":-12,"pageNumber":-0}`, group: `{"memberCount":-2147483648,"version":-5}`},
		{name: "integral float for an int", users: `{"pageSize":2.0}`, group: `{"version":2.0}`},
		{name: "exponent for an int", users: `{"pageSize":1e2}`, group: `{"memberCount":25E-1}`, drift: "memberCount"},
		{name: "invalid UTF-8", users: string(page("{\"id\":\"a\xff\",\"name\":\"b\xc3\\n\"}")), group: "{\"name\":\"\xe2\x80\"}"},

		// Type drift: the member reads as its zero value (or the number
		// of a string), the rest of the answer as sent.
		{name: "float for an int", users: string(page(`{"id":"a","version":1.5}`)), drift: "version"},
		{name: "beyond GraphQL's Int", users: `{"pageSize":999999999999999999}`, group: `{"memberCount":2147483648,"version":-2147483649}`, drift: "memberCount"},
		{name: "overflow", users: `{"total":92233720368547758070}`, group: `{"memberCount":92233720368547758070}`, drift: "total"},
		{name: "string for an int", users: string(page(`{"version":"152"}`)), groups: string(page(`{"memberCount":"3","version":" 4"}`)), group: `{"memberCount":"3"}`, drift: "memberCount"},
		{name: "bool for an int", users: `{"total":true,"pageCount":{}}`, group: `{"version":[1]}`, drift: "version"},
		{name: "number for a string", user: `{"email":5}`, users: string(page(`{"id":"u","email":5,"name":"n"}`)), drift: "email"},
		{name: "object for a string", group: `{"name":{"x":1},"id":"g"}`, groups: string(page(`{"selfUri":["/s"],"description":"d"}`)), drift: "name"},
		{name: "string for a bool", group: `{"rulesVisible":"true"}`, drift: "rulesVisible"},
		{name: "number for an optional bool", users: string(page(`{"acdAutoAnswer":1}`)), group: `{"rolesEnabled":"yes","includeOwners":false}`, drift: "acdAutoAnswer"},
		{name: "string for an object", users: string(page(`{"division":"Home","chat":5,"manager":[]}`)), user: `{"biography":"b","employerInfo":1}`, drift: "division"},
		{name: "object for a list", user: `{"primaryContactInfo":{}}`, groups: string(page(`{"owners":"o","images":{},"addresses":5}`)), drift: "primaryContactInfo"},
		{name: "wrong elements", user: `{"primaryContactInfo":[1,{"address":5,"type":"x"}],"certifications":["c",2]}`, group: `{"owners":[1,{"id":2}],"addresses":["a"]}`, drift: "primaryContactInfo"},
		{name: "nested mismatch", user: `{"manager":{"chat":{"jabberId":1}}}`, drift: "jabberId"},
		{name: "mismatch in a rare member", user: `{"biography":{"hobbies":"h","interests":[1]}}`, drift: "hobbies"},
		{name: "string for the entities", users: `{"entities":"x","total":3}`, groups: `{"entities":{},"pageSize":1}`, drift: "entities"},
		{name: "wrong entities", users: string(page(`"x",1,{"id":"b"}`)), groups: string(page(`[],{"id":"g"}`)), drift: "entities"},
		{name: "unknown enum values", users: string(page(`{"state":"suspended"},{"state":"ACTIVE"}`)),
			groups: string(page(`{"state":"archived","type":"secret","visibility":"hidden","addresses":[{"type":"FAX"}]}`)), group: `{"visibility":"PUBLIC\u0007"}`, drift: "state"},
		{name: "wrong type for an enum", users: string(page(`{"state":1}`)), groups: string(page(`{"type":true,"visibility":{},"state":[]}`)), drift: "state"},
		{name: "duplicate name: the last wins", users: string(page(`{"id":"a","id":"b"}`)), group: `{"name":"a","name":"b"}`},
		{name: "truncated", users: `{"entities":[{"id":"a"`, group: `{"id":`, wantsFailure: true},
		{name: "not JSON", users: `{"entities":[{"id":x}]}`, group: `{"id":"a",}`, wantsFailure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The groups page again as search results, whose entities
			// are named "results".
			asSearch := strings.NewReplacer("entities", "results")
			var drifts []string
			for _, c := range []struct {
				body string
				run  func(*testing.T, []byte) []string
			}{
				{tc.users, differential[UserEntityListing]},
				{tc.groups, differential[GroupEntityListing]},
				{asSearch.Replace(tc.groups), differential[GroupsSearchResponse]},
				{tc.user, differential[User]},
				{tc.group, differential[Group]},
			} {
				if c.body == "" {
					continue
				}
				d := c.run(t, []byte(c.body))
				drifts = append(drifts, d...)
				if tc.wantsFailure {
					checkFailure(t, c.body)
				}
			}
			if tc.drift == "" {
				assert.Empty(t, drifts)
			} else {
				assert.Contains(t, drifts, tc.drift)
			}
		})
	}
}

// checkFailure checks that the client's decoding of body into every hand
// decoded type fails: only a body that is not JSON still does.
func checkFailure(t *testing.T, body string) {
	t.Helper()
	for _, v := range []any{&UserEntityListing{}, &GroupEntityListing{}, &GroupsSearchResponse{}, &User{}, &Group{}} {
		_, err := upstream.Decode([]byte(body), v, unmarshalOptions)
		assert.Error(t, err, "decoding %s into %T", body, v)
	}
}

func TestUnmarshalReuse(t *testing.T) {
	// Decoding after a failure, and again into the same pages, gives the
	// same values: the pooled scratch keeps nothing from earlier calls.
	data := repeatedPage(t, "members20.json")
	var want UserEntityListing
	require.NoError(t, jsonv2.Unmarshal(data, &want))
	for range 3 {
		_, err := upstream.Decode([]byte(`{"entities":[{"id":"x","version":"bad","state":5}]}`), &UserEntityListing{}, unmarshalOptions)
		require.NoError(t, err)
		_, err = upstream.Decode([]byte(`{"entities":[{"id":"x","version":"bad","name":"a\\u`), &UserEntityListing{}, unmarshalOptions)
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

func TestUnmarshalExpansionsOnlyWhenSent(t *testing.T) {
	// A plain user costs no expansions: the pointer stays nil, by hand
	// and with json v2's reflection; the first expanded member, even null,
	// allocates them.
	plain := repeatedPage(t, "members20.json")
	expanded := repeatedPage(t, "members20-expanded.json")
	for name, opts := range map[string]jsonv2.Options{"hand": unmarshalOptions, "jsonv2": lenient} {
		var l UserEntityListing
		_, err := upstream.Decode(plain, &l, opts)
		require.NoError(t, err)
		require.NotEmpty(t, l.Entities)
		for _, u := range l.Entities {
			assert.Nil(t, u.Expansions, "%s: %s", name, u.ID)
		}
		_, err = upstream.Decode(expanded, &l, opts)
		require.NoError(t, err)
		for _, u := range l.Entities {
			require.NotNil(t, u.Expansions, "%s: %s", name, u.ID)
			assert.NotEmpty(t, u.Expansions.Presence, name)
		}
		var u User
		_, err = upstream.Decode([]byte(`{"id":"u","presence":null}`), &u, opts)
		require.NoError(t, err)
		require.NotNil(t, u.Expansions, name)
		assert.Equal(t, jsontext.Value("null"), u.Expansions.Presence, name)
	}
	assert.Less(t, unsafe.Sizeof(User{}), uintptr(400), "a User holds its expansions behind one pointer")
}
