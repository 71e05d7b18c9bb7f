package genesys

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/groupdir/gateway/upstream"
)

// driftServer returns a client, reporting drift to the returned log, whose
// every call is answered with body.
func driftServer(t *testing.T, body string) (*Client, *driftLog) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	log := &driftLog{}
	c, err := New(srv.URL, upstream.NewHTTPClient(upstream.ClientOptions{Timeout: time.Minute}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})), WithDriftObserver(log))
	require.NoError(t, err)
	return c, log
}

func TestDriftedAnswersSurvive(t *testing.T) {
	ctx := context.Background()
	t.Run("search page", func(t *testing.T) {
		// The official search sample sends version as a string.
		c, log := driftServer(t, `{"total":"2","pageCount":1,"pageSize":25,"pageNumber":1,"types":["groups"],"results":[`+
			`{"id":"g1","name":"One","version":"152","memberCount":"3","state":"archived","type":5,"owners":"o1"},`+
			`{"id":"g2","name":"Two","version":2,"visibility":"public","rulesVisible":"yes"}]}`)
		res, err := c.SearchGroups(ctx, GroupSearchRequest{})
		require.NoError(t, err)
		assert.Equal(t, int64(2), res.Total)
		require.Len(t, res.Results, 2)
		assert.Equal(t, Group{ID: "g1", Name: "One", Version: 152, MemberCount: 3, State: "archived"}, res.Results[0])
		assert.Equal(t, Group{ID: "g2", Name: "Two", Version: 2, Visibility: VisibilityPublic}, res.Results[1])
		assert.Equal(t, []string{"genesys/total", "genesys/version", "genesys/memberCount", "genesys/state", "genesys/type",
			"genesys/owners", "genesys/rulesVisible"}, log.reported())
	})
	t.Run("members", func(t *testing.T) {
		c, log := driftServer(t, `{"entities":[{"id":"u1","name":7,"email":"a@x","division":"Home","manager":{"id":"m","chat":[]},`+
			`"images":{"x":1},"primaryContactInfo":[{"address":"+1","type":3}],"state":"ghost"},{"id":"u2","name":"Bea"}],"total":2,"pageSize":25}`)
		page, err := c.GetGroupMembers(ctx, groupID, MembersOptions{})
		require.NoError(t, err)
		require.Len(t, page.Entities, 2)
		u := page.Entities[0]
		assert.Equal(t, "u1", u.ID)
		assert.Empty(t, u.Name)
		assert.Equal(t, "a@x", u.Email)
		assert.Nil(t, u.Division)
		assert.Equal(t, &User{ID: "m"}, u.Manager)
		assert.Nil(t, u.Images)
		assert.Equal(t, []Contact{{Address: "+1"}}, u.PrimaryContactInfo)
		assert.Equal(t, State("ghost"), u.State, "an unknown value is kept for the gateway to map")
		assert.Equal(t, "Bea", page.Entities[1].Name)
		assert.Equal(t, int64(2), page.Total)
		assert.Equal(t, []string{"genesys/name", "genesys/division", "genesys/chat", "genesys/images", "genesys/type",
			"genesys/state"}, log.reported())
	})
	t.Run("group", func(t *testing.T) {
		c, log := driftServer(t, `{"id":"`+groupID+`","name":"G","addresses":[{"address":"+1","type":"FAX"},"x"],`+
			`"includeOwners":"true","memberCount":4294967296,"version":1.5}`)
		g, err := c.GetGroup(ctx, groupID)
		require.NoError(t, err)
		assert.Equal(t, &Group{ID: groupID, Name: "G", Addresses: []GroupContact{{Address: "+1", Type: "FAX"}, {}}}, g)
		assert.Equal(t, []string{"genesys/type", "genesys/addresses", "genesys/includeOwners", "genesys/memberCount",
			"genesys/version"}, log.reported())
	})
	t.Run("generic paths", func(t *testing.T) {
		// Types the client does not decode by hand go through json v2,
		// made tolerant alike.
		c, log := driftServer(t, `{"id":"`+groupID+`","name":"P","state":1,"version":"9","group":"g","dateModified":3,`+
			`"query":{"skillConditions":[{"operation":"Xor","routingSkillConditions":{},"languageSkillConditions":[`+
			`{"languageSkill":"fr","comparator":"Near","proficiency":"4","childConditions":"none"}]}]}}`)
		p, err := c.GetGroupProfile(ctx, groupID, nil)
		require.NoError(t, err)
		assert.Equal(t, &GroupProfile{ID: groupID, Name: "P", Version: 9}, p)
		assert.Equal(t, []string{"genesys/state", "genesys/version", "genesys/dateModified"}, log.reported())

		c, log = driftServer(t, `{"group":"g","query":{"skillConditions":[{"operation":"Xor","routingSkillConditions":{},`+
			`"languageSkillConditions":[{"languageSkill":"fr","comparator":"Near","proficiency":"4","childConditions":"none"}]}]}}`)
		d, err := c.GetDynamicSettings(ctx, groupID)
		require.NoError(t, err)
		assert.Equal(t, &DynamicGroupDefinition{Query: DynamicGroupQuery{SkillConditions: []DynamicGroupSkillCondition{{
			Operation: "Xor", LanguageSkillConditions: []DynamicGroupLanguageSkillCondition{
				{LanguageSkill: "fr", Comparator: "Near", Proficiency: 4}}}}}}, d)
		assert.Equal(t, []string{"genesys/group", "genesys/operation", "genesys/routingSkillConditions", "genesys/comparator",
			"genesys/proficiency", "genesys/childConditions"}, log.reported())
	})
}

func TestSelectiveDecodingSkipsDriftedMembers(t *testing.T) {
	c, log := driftServer(t, `{"entities":[{"id":"u1","name":"Ann","email":5,"division":"Home","state":9}],"total":1}`)
	ctx := WithFields(context.Background(), NewFields([]string{"name", "state"}, nil))
	page, err := c.GetGroupMembers(ctx, groupID, MembersOptions{})
	require.NoError(t, err)
	assert.Equal(t, []User{{ID: "u1", Name: "Ann"}}, page.Entities)
	assert.Equal(t, []string{"genesys/state"}, log.reported(), "skipped members are not read, so not reported")
}

func TestKnownEnumValues(t *testing.T) {
	for _, e := range []upstream.Enum{StateActive, StateInactive, StateDeleted, GroupTypeOfficial, GroupTypeSocial,
		VisibilityPublic, VisibilityOwners, VisibilityMembers, GroupContactRing, GroupContactPhone,
		OperationAnd, OperationOr, OperationNot, EqualTo, NotEqualTo, LessThan, GreaterThan, GreaterThanOrEqualTo, LessThanOrEqualTo} {
		assert.True(t, e.Known(), "%v", e)
	}
	for _, e := range []upstream.Enum{State("ACTIVE"), State(""), GroupType("secret"), Visibility("public\a"),
		GroupContactType("FAX"), ConditionOperation("and"), Comparator("Near")} {
		assert.False(t, e.Known(), "%q", e)
	}
}
