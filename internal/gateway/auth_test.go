package gateway

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "directory-gateway"
	codeUnauth   = "UNAUTHENTICATED"
	codeForbid   = "FORBIDDEN"
	codeLimited  = "RATE_LIMITED"
)

// testRSAKey is generated once: RSA key generation is slow under -race.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// testIDP is an identity provider made in the test: its keys, and a JWKS
// served by httptest that publishes some of them.
type testIDP struct {
	t       *testing.T
	srv     *httptest.Server
	fetches atomic.Int32

	mu        sync.Mutex
	signers   map[string]crypto.Signer
	published []jwkset.JWKMarshal
}

// newIDP starts an identity provider publishing an ECDSA key "ec-1" and an
// RSA key "rsa-1".
func newIDP(t *testing.T) *testIDP {
	p := &testIDP{t: t, signers: map[string]crypto.Signer{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwkset.JWKSMarshal{Keys: p.published})
	}))
	t.Cleanup(p.srv.Close)
	p.addKey("ec-1", newECKey(t), true)
	p.addKey("rsa-1", testRSAKey(), true)
	return p
}

// addKey makes key known to the test under kid, and publishes it in the
// JWKS when publish is set.
func (p *testIDP) addKey(kid string, key crypto.Signer, publish bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signers[kid] = key
	if !publish {
		return
	}
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
	require.NoError(p.t, err)
	p.published = append(p.published, jwk.Marshal())
}

// env is the configuration of a gateway trusting this provider.
func (p *testIDP) env(extra ...string) map[string]string {
	env := map[string]string{"AUTH_MODE": "jwt", "AUTH_JWKS_URL": p.srv.URL, "AUTH_ISSUER": testIssuer, "AUTH_AUDIENCE": testAudience}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// token signs claims with the key known as kid (ES256 or RS256).
func (p *testIDP) token(kid string, claims jwt.MapClaims) string {
	p.mu.Lock()
	key := p.signers[kid]
	p.mu.Unlock()
	require.NotNil(p.t, key, kid)
	method := jwt.SigningMethod(jwt.SigningMethodES256)
	if _, ok := key.(*rsa.PrivateKey); ok {
		method = jwt.SigningMethodRS256
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(p.t, err)
	return s
}

// claims are valid claims for sub holding permissions (the default
// permissions claim).
func claims(sub string, permissions ...string) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": testIssuer, "aud": []string{testAudience, "other-api"}, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if permissions != nil {
		c["permissions"] = permissions
	}
	return c
}

// with returns c with the changes made (nil deletes a claim).
func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func bearerHeader(token string) []string { return []string{"Authorization", "Bearer " + token} }

// upstreamCalls is every call both emulators received.
func (e *testEnv) upstreamCalls() int { return e.genesysKit().Count("") + e.usergroupsKit().Count("") }

const pageQuery = `{ groups(pageSize: 1) { entities { id } } }`

func TestJWTRefusedBeforeAnyUpstreamCall(t *testing.T) {
	idp := newIDP(t)
	idp.addKey("unpublished", newECKey(t), false)
	e := setup(t, idp.env("CORS_ALLOWED_ORIGINS", "https://app.example.com"))
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(testRSAKey().Public()))})
	hourAgo, inAnHour := time.Now().Add(-time.Hour).Unix(), time.Now().Add(time.Hour).Unix()

	forgedKid := jwt.NewWithClaims(jwt.SigningMethodES256, claims("mallory"))
	forgedKid.Header["kid"] = "ec-1" // a published kid, signed with another key
	noneAlg := jwt.NewWithClaims(jwt.SigningMethodNone, claims("mallory", "directory:*:*"))
	noneAlg.Header["kid"] = "ec-1"
	hmacWithPublicKey := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("mallory", "directory:*:*"))
	hmacWithPublicKey.Header["kid"] = "rsa-1"

	tests := []struct {
		name  string
		token string
	}{
		{"expired", idp.token("ec-1", with(claims("alice"), map[string]any{"exp": hourAgo}))},
		{"not yet valid", idp.token("ec-1", with(claims("alice"), map[string]any{"nbf": inAnHour}))},
		{"issued in the future", idp.token("ec-1", with(claims("alice"), map[string]any{"iat": inAnHour}))},
		{"no expiry", idp.token("ec-1", with(claims("alice"), map[string]any{"exp": nil}))},
		{"wrong issuer", idp.token("ec-1", with(claims("alice"), map[string]any{"iss": "https://evil.example.com/"}))},
		{"wrong audience", idp.token("rsa-1", with(claims("alice"), map[string]any{"aud": "another-api"}))},
		{"no subject", idp.token("ec-1", with(claims("alice"), map[string]any{"sub": nil}))},
		{"alg none", must(noneAlg.SignedString(jwt.UnsafeAllowNoneSignatureType))},
		{"HS256 keyed with the RSA public key", must(hmacWithPublicKey.SignedString(publicPEM))},
		{"signed by another key", must(forgedKid.SignedString(newECKey(t)))},
		{"tampered payload", tamper(idp.token("ec-1", claims("alice")))},
		{"not a JWT", "not-a-jwt"},
		{"unknown kid", idp.token("unpublished", claims("alice", "directory:*:*"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.resetCalls()
			fetches := idp.fetches.Load()
			r := e.post(pageQuery, nil, append(bearerHeader(tt.token), "Origin", "https://app.example.com")...)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, []string{codeUnauth}, r.codes())
			assert.Equal(t, r.Header.Get("X-Request-Id"), r.Errors[0].Extensions["requestId"])
			assert.Nil(t, r.Data)
			assert.True(t, strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="graphql", error="invalid_token"`))
			assert.Equal(t, "https://app.example.com", r.Header.Get("Access-Control-Allow-Origin"), "a browser app can read the 401")
			assert.Zero(t, e.upstreamCalls())
			if tt.name == "unknown kid" {
				assert.Equal(t, fetches+1, idp.fetches.Load(), "the JWKS is fetched again for an unknown kid")
			}
			assert.NotContains(t, e.log.String(), tt.token)
		})
	}
	t.Run("no token", func(t *testing.T) {
		e.resetCalls()
		r := e.post(pageQuery, nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, []string{codeUnauth}, r.codes())
		assert.Equal(t, `Bearer realm="graphql"`, r.Header.Get("WWW-Authenticate"))
		assert.Zero(t, e.upstreamCalls())
	})
	t.Run("valid, within the clock skew", func(t *testing.T) {
		r := e.post(pageQuery, nil, bearerHeader(idp.token("rsa-1",
			with(claims("alice"), map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()})))...)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		assert.Empty(t, r.Errors)
	})
}

// tamper changes the payload of a signed token, keeping its signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := jwt.NewParser().DecodeSegment(parts[1])
	changed := strings.Replace(string(payload), `"sub":"alice"`, `"sub":"admin"`, 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestJWTKeyRotation(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	require.Equal(t, int32(1), idp.fetches.Load(), "the keys are fetched at start")
	idp.addKey("ec-2", newECKey(t), true)
	r := e.post(pageQuery, nil, bearerHeader(idp.token("ec-2", claims("alice")))...)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Empty(t, r.Errors)
	assert.Equal(t, int32(2), idp.fetches.Load(), "a new kid made the gateway fetch the JWKS again")
	r = e.post(pageQuery, nil, bearerHeader(idp.token("ec-2", claims("bob")))...)
	assert.Empty(t, r.Errors)
	assert.Equal(t, int32(2), idp.fetches.Load(), "known keys are cached")
}

func TestFieldPermissions(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	createGroup := `mutation { createGroup(input: {name: "Night Shift"}) { id name } }`
	groupQuery := `query($id: ID!) { group(id: $id) { id name dynamicDefinition { groupId } } userGroups(pageSize: 1) { entities { id } } }`
	vars := map[string]any{"id": demodata.GroupID(1)}

	t.Run("without the permission: FORBIDDEN, no upstream call", func(t *testing.T) {
		e.resetCalls()
		r := e.post(createGroup, nil, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:view")))...)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, []string{codeForbid}, r.codes())
		assert.Equal(t, []any{"createGroup"}, r.Errors[0].Path)
		assert.Equal(t, []any{"directory:group:add"}, r.Errors[0].Extensions["permissions"])
		assert.Nil(t, dig(r.Data, "createGroup"))
		assert.Zero(t, e.upstreamCalls())
	})
	t.Run("the other fields still resolve", func(t *testing.T) {
		e.resetCalls()
		r := e.post(groupQuery, vars, bearerHeader(idp.token("ec-1", claims("alice")))...)
		assert.Equal(t, []string{codeForbid}, r.codes())
		assert.Equal(t, []any{"group", "dynamicDefinition"}, r.Errors[0].Path)
		assert.NotEmpty(t, dig(r.Data, "group", "name"))
		assert.Len(t, dig(r.Data, "userGroups", "entities"), 1)
		assert.Zero(t, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	})
	t.Run("with the permission in scope", func(t *testing.T) {
		e.resetCalls()
		c := with(claims("alice"), map[string]any{"scope": "openid directory:group:add"})
		r := e.post(createGroup, nil, bearerHeader(idp.token("ec-1", c))...)
		require.Empty(t, r.Errors)
		assert.Equal(t, "Night Shift", dig(r.Data, "createGroup", "name"))
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostGroups))
	})
	t.Run("with a wildcard permission", func(t *testing.T) {
		e.resetCalls()
		r := e.post(groupQuery, vars, bearerHeader(idp.token("rsa-1", claims("alice", "directory:group:*")))...)
		require.Empty(t, r.Errors)
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	})
	t.Run("a user group mutation needs it too", func(t *testing.T) {
		e.resetCalls()
		r := e.post(`mutation($id: ID!) { deleteUserGroup(id: $id) { id } }`, map[string]any{"id": demodata.UserGroupID(1)},
			bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
		assert.Equal(t, []string{codeForbid}, r.codes())
		assert.Zero(t, e.usergroupsKit().Count(usergroupsemu.RouteDelete))
	})
}

func TestGenesysModeUsesTheCallersToken(t *testing.T) {
	e := setupSized(t, map[string]string{"AUTH_MODE": "genesys"}, demodata.Demo, withCallerTokens(map[string][]string{
		"caller-reader-token": {"directory:group:view"}, "caller-editor-token": {"directory:group:*"},
	}))
	query := `{ groups(pageSize: 2) { entities { id dynamicDefinition { groupId } members(pageSize: 1) { total } } }
		userGroups(pageSize: 1) { entities { id } } }`

	r := e.post(query, nil, bearerHeader("caller-reader-token")...)
	require.Empty(t, r.Errors, string(r.Raw))
	e.post(query, nil, bearerHeader("caller-reader-token")...)
	calls := e.genesysKit().Calls()
	require.NotEmpty(t, calls)
	for _, c := range calls {
		assert.Equal(t, "Bearer caller-reader-token", c.Header.Get("Authorization"), c.Route)
	}
	assert.Zero(t, e.genesysKit().Count(genesysemu.RouteToken), "the gateway's own token is never asked for")
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteUsersMe), "the caller's permissions are cached")
	require.NotZero(t, e.usergroupsKit().Count(""))
	for _, c := range e.usergroupsKit().Calls() {
		assert.NotContains(t, c.Header.Get("Authorization")+c.Query.Encode(), "caller-reader-token",
			"the Usergroup API gets the gateway's credentials")
	}

	update := `mutation($id: ID!) { updateGroup(id: $id, input: {description: "renamed"}) { description } }`
	vars := map[string]any{"id": demodata.GroupID(2)}
	e.resetCalls()
	r = e.post(update, vars, bearerHeader("caller-reader-token")...)
	assert.Equal(t, []string{codeForbid}, r.codes())
	assert.Zero(t, e.upstreamCalls())

	r = e.post(update, vars, bearerHeader("caller-editor-token")...)
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "renamed", dig(r.Data, "updateGroup", "description"))
	for _, c := range e.genesysKit().Calls() {
		assert.Equal(t, "Bearer caller-editor-token", c.Header.Get("Authorization"), c.Route)
	}

	e.resetCalls()
	for _, token := range []string{"", "forged-token"} {
		var headers []string
		if token != "" {
			headers = bearerHeader(token)
		}
		r = e.post(query, nil, headers...)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, []string{codeUnauth}, r.codes())
	}
	assert.Equal(t, 1, e.genesysKit().Count(""), "only the forged token's GET /users/me")
	assert.Zero(t, e.usergroupsKit().Count(""))
}

func TestCallersAreLimitedIndependently(t *testing.T) {
	query := `{ a: userGroup(id: "` + demodata.UserGroupID(1) + `") { id } b: groups(pageSize: 1) { entities { id } } }`
	limitedAfterTwo := func(t *testing.T, e *testEnv, headers []string) {
		t.Helper()
		for range 2 {
			r := e.post(query, nil, headers...)
			require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
			require.Empty(t, r.Errors)
		}
		before := e.upstreamCalls()
		r := e.post(query, nil, headers...)
		assert.Equal(t, http.StatusTooManyRequests, r.Status)
		assert.Equal(t, []string{codeLimited}, r.codes())
		assert.Nil(t, r.Data)
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err)
		assert.Positive(t, secs)
		assert.Equal(t, float64(secs), r.Errors[0].Extensions["retryAfter"])
		assert.NotEmpty(t, r.Errors[0].Extensions["requestId"])
		assert.Equal(t, before, e.upstreamCalls(), "a refused request calls nothing")
	}
	t.Run("by JWT subject", func(t *testing.T) {
		idp := newIDP(t)
		e := setup(t, idp.env("AUTH_RATE_LIMIT_PER_MINUTE", "4")) // two requests of two calls
		alice := bearerHeader(idp.token("ec-1", claims("alice")))
		limitedAfterTwo(t, e, alice)
		limitedAfterTwo(t, e, bearerHeader(idp.token("rsa-1", claims("bob"))))
		r := e.post(query, nil, alice...)
		assert.Equal(t, http.StatusTooManyRequests, r.Status, "alice is still limited")
	})
	t.Run("by client address behind a trusted proxy", func(t *testing.T) {
		e := setup(t, map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "4", "AUTH_TRUSTED_PROXY_HOPS": "1"})
		limitedAfterTwo(t, e, []string{"X-Forwarded-For", "203.0.113.7"})
		limitedAfterTwo(t, e, []string{"X-Forwarded-For", "198.51.100.20"})
	})
	t.Run("by Genesys user", func(t *testing.T) {
		e := setupSized(t, map[string]string{"AUTH_MODE": "genesys", "AUTH_RATE_LIMIT_PER_MINUTE": "4"}, demodata.Demo,
			withCallerTokens(map[string][]string{"token-one": nil, "token-two": nil}))
		limitedAfterTwo(t, e, bearerHeader("token-one"))
		limitedAfterTwo(t, e, bearerHeader("token-two"))
	})
}

func TestIdempotencyKeysArePerCaller(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	mutation := `mutation { createGroup(input: {name: "Once"}) { id } }`
	alice := append(bearerHeader(idp.token("ec-1", claims("alice", "directory:group:add"))), "Idempotency-Key", "key-1")
	bob := append(bearerHeader(idp.token("ec-1", claims("bob", "directory:group:add"))), "Idempotency-Key", "key-1")
	first := e.post(mutation, nil, alice...)
	require.Empty(t, first.Errors)
	other := e.post(mutation, nil, bob...)
	require.Empty(t, other.Errors)
	assert.Empty(t, other.Header.Get("Idempotent-Replayed"), "bob's key is not alice's")
	again := e.post(mutation, nil, alice...)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RoutePostGroups))
}

func TestAuthConfiguration(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"production needs an explicit mode", map[string]string{"GATEWAY_ENV": "production"}, []string{"AUTH_MODE"}},
		{"unknown mode", map[string]string{"AUTH_MODE": "basic"}, []string{"AUTH_MODE"}},
		{"jwt settings missing", map[string]string{"AUTH_MODE": "jwt"}, []string{"AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"}},
		{"jwt settings without jwt", map[string]string{"AUTH_ISSUER": testIssuer}, []string{"AUTH_ISSUER"}},
		{"bad rate", map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "-1"}, []string{"AUTH_RATE_LIMIT_PER_MINUTE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(getenv(tt.env))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("production with an explicit none warns", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"})
		assert.Contains(t, e.log.String(), "AUTH_MODE=none in production")
		assert.Empty(t, e.post(pageQuery, nil).Errors)
	})
	t.Run("defaults", func(t *testing.T) {
		c, err := LoadConfig(getenv(fullEnv()))
		require.NoError(t, err)
		assert.Equal(t, defaultCallerRatePerMinute, c.CallerRatePerMinute)
		c, err = LoadConfig(getenv(nil))
		require.NoError(t, err)
		assert.Zero(t, c.CallerRatePerMinute, "off in demo mode")
	})
}

// Membership mutations under each AUTH_MODE (@membershipPermission): the
// gateway's own Genesys token must not change memberships for a caller who
// may not (red-team case 49).

// membershipVars names group 5 and a user who is not one of its members.
var membershipVars = map[string]any{"g": demodata.GroupID(5), "ids": []string{demodata.UserID(150)}}

func TestMembershipMutationsNeedThePermissionWithTheGatewaysToken(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	for _, m := range []struct{ name, query string }{{"addGroupMembers", addMembers}, {"removeGroupMembers", removeMembers}} {
		t.Run(m.name+" refused to a reader", func(t *testing.T) {
			e.resetCalls()
			r := e.post(m.query, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:view")))...)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, []string{codeForbid}, r.codes())
			assert.Equal(t, []any{m.name}, r.Errors[0].Path)
			assert.Equal(t, []any{"directory:group:edit"}, r.Errors[0].Extensions["permissions"])
			assert.Nil(t, dig(r.Data, m.name))
			assert.Zero(t, e.upstreamCalls())
		})
	}
	t.Run("allowed with directory:group:edit", func(t *testing.T) {
		e.resetCalls()
		r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:*")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		r = e.post(removeMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "removeGroupMembers", "status"))
	})
}

func TestMembershipPermissionIsConfigurable(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env("GATEWAY_MEMBERSHIP_PERMISSION", "directory:membership:edit"))
	r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
	assert.Equal(t, []string{codeForbid}, r.codes())
	assert.Equal(t, []any{"directory:membership:edit"}, r.Errors[0].Extensions["permissions"])
	assert.Zero(t, e.upstreamCalls())
	r = e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:membership:edit")))...)
	require.Empty(t, r.Errors, string(r.Raw))

	_, err := LoadConfig(func(k string) string {
		return map[string]string{"GATEWAY_MEMBERSHIP_PERMISSION": "edit members"}[k]
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GATEWAY_MEMBERSHIP_PERMISSION")
}

func TestMembershipMutationsInOtherModes(t *testing.T) {
	t.Run("none: every caller holds every permission", func(t *testing.T) {
		e := setup(t, nil)
		r := e.post(addMembers, membershipVars)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
	})
	t.Run("genesys: the caller's token goes to Genesys, which decides", func(t *testing.T) {
		e := setupSized(t, map[string]string{"AUTH_MODE": "genesys"}, demodata.Demo,
			withCallerTokens(map[string][]string{"caller-reader-token": {"directory:group:view"}}))
		r := e.post(addMembers, membershipVars, bearerHeader("caller-reader-token")...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		calls := e.genesysKit().Calls()
		require.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		for _, c := range calls {
			assert.Equal(t, "Bearer caller-reader-token", c.Header.Get("Authorization"), c.Route)
		}
	})
}

func TestSeveralOperationsNeedOperationName(t *testing.T) {
	e := setup(t, nil)
	doc := `query A { groups(pageSize: 1) { total } } query B { __typename }`
	r := e.timedPost(t, doc, nil, "Accept", mediaGraphQLResponse)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, []string{codeValidationFailed}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "operationName is required", "says what the client must send")
	e.assertNoUpstreamCall(t)

	get := e.raw(t, http.MethodGet, "/query?query="+urlEncode(doc), nil)
	require.Equal(t, []string{codeValidationFailed}, get.codes())
	assert.Contains(t, get.Errors[0].Message, "operationName is required")

	r = e.post(`query { __typename } query B { __typename }`, nil)
	assert.Equal(t, []string{codeValidationFailed}, r.codes(), "an anonymous operation among others: the GraphQL rule")
	assert.NotContains(t, r.Errors[0].Message, "operationName")

	body, err := json.Marshal(map[string]any{"query": doc, "operationName": "B"})
	require.NoError(t, err)
	r = e.raw(t, http.MethodPost, "/query", bytes.NewReader(body), "Content-Type", "application/json")
	assert.Empty(t, r.Errors)
	assert.Equal(t, "Query", dig(r.Data, "__typename"))
}

// Upstream text never reaches callers (red-team case 50): an upstream that
// echoes the request (URL with its query, Authorization, body) into its
// error message shows callers only the gateway's own words; the log keeps
// the upstream's text with the credentials redacted.
func TestUpstreamTextNeverReachesCallers(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	key := e.gw.cfg.UsergroupKey
	company := strconv.FormatInt(e.gw.cfg.UsergroupCompanyID, 10)
	// Beside the echo: cut, base64 and upper-case copies of the key.
	extra := ` cut=` + key[3:15] + ` b64=` + base64.StdEncoding.EncodeToString([]byte(key)) + ` up=` + strings.ToUpper(key)
	ugEcho := `{"ResponseStatus":{"ErrorCode":"ArgumentException","Message":"` + emukit.EchoRequest + extra + `"}}`
	tests := []struct {
		name, route, query string
		vars               map[string]any
		kit                *emukit.Kit
		body               string
		code, path         string
	}{
		{"usergroup GET echo", usergroupsemu.RouteGet, `query($id: ID!) { userGroup(id: $id) { name } }`,
			map[string]any{"id": demodata.UserGroupID(1)}, e.usergroupsKit(), ugEcho, "BAD_USER_INPUT", "userGroup"},
		{"usergroup POST echo", usergroupsemu.RouteCreate, `mutation { createUserGroup(input: {name: "Echo"}) { id } }`,
			nil, e.usergroupsKit(), ugEcho, "BAD_USER_INPUT", "createUserGroup"},
		{"usergroup 500 echo with a code that is not a code", usergroupsemu.RouteGet, `query($id: ID!) { userGroup(id: $id) { name } }`,
			map[string]any{"id": demodata.UserGroupID(1)}, e.usergroupsKit(),
			`{"ResponseStatus":{"ErrorCode":"` + emukit.EchoRequest + `","Message":"x"}}`, "UPSTREAM_UNAVAILABLE", "userGroup"},
		{"genesys GET echo", genesysemu.RouteGetProfile, `query($id: ID!) { groupProfile(groupId: $id, fields: ["name"]) { id } }`,
			map[string]any{"id": demodata.GroupID(1)}, e.genesysKit(),
			`{"code":"bad.request","message":"` + emukit.EchoRequest + `","contextId":"` + emukit.EchoRequest + `"}`, "BAD_USER_INPUT", "groupProfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.resetCalls()
			e.usergroupsKit().ClearFaults()
			e.genesysKit().ClearFaults()
			status := http.StatusBadRequest
			if tt.code == "UPSTREAM_UNAVAILABLE" {
				status = http.StatusInternalServerError
			}
			tt.kit.Inject(tt.route, emukit.Fault{Status: status, Body: tt.body})
			r := e.post(tt.query, tt.vars)
			require.NotEmpty(t, r.Errors, string(r.Raw))
			require.Equal(t, tt.code, r.Errors[0].Extensions["code"], string(r.Raw))
			assert.Equal(t, []any{tt.path}, r.Errors[0].Path)
			assert.EqualValues(t, status, r.Errors[0].Extensions["status"])
			require.NotZero(t, tt.kit.Count(tt.route), "the upstream was called and echoed")
			canaries := append(e.canaries(), company, key[3:15], strings.ToUpper(key), "IntegrationKey", "CompanyId",
				"Authorization", "Bearer", "format=json", "/api/v2/", "Echo\\\"")
			for _, c := range canaries {
				assert.NotContains(t, string(r.Raw), c)
			}
			e.assertNoSecrets(r, e.canaries())
			var detail string
			for _, l := range e.logLines() {
				if l["msg"] == "upstream error detail" {
					detail, _ = l["detail"].(string)
				}
			}
			require.NotEmpty(t, detail, "the upstream's text is logged")
			assert.Contains(t, detail, "[redacted]")
			for _, c := range []string{company, key[3:15], strings.ToUpper(key), "format=json"} {
				assert.NotContains(t, detail, c)
			}
		})
	}
}

// A revoked gateway token is replaced (red-team case 52): many calls
// refused with it cause one token request, and each call is made again once.
func TestRevokedGatewayTokenIsReplacedOnce(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	emu := e.gw.demo.genesys
	issued := emu.IssuedTokens()
	emu.ExpireTokens()

	for _, c := range concurrentGroupReads(e, 20) {
		assert.Empty(t, c)
	}
	assert.Equal(t, issued+1, emu.IssuedTokens(), "one token request for every refused call")

	// A write refused with a revoked token was not applied: it is sent once more.
	emu.ExpireTokens()
	e.resetCalls()
	r := e.post(`mutation { createGroup(input: {name: "After revocation"}) { name } }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "After revocation", dig(r.Data, "createGroup", "name"))
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RoutePostGroups), "refused once, then applied")
	assert.Equal(t, issued+2, emu.IssuedTokens())
}

func TestReadyzFollowsARevokedToken(t *testing.T) {
	e := setup(t, nil) // passed checks trusted for the default 10 s
	e.warmUp()
	status, _ := e.readyz()
	require.Equal(t, http.StatusOK, status)

	emu := e.gw.demo.genesys
	emu.ExpireTokens()
	emu.SetTokenEndpointFailing(true)
	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes(), "the token endpoint is down, not the caller's fault")
	status, b := e.readyz()
	require.Equal(t, http.StatusServiceUnavailable, status, "no token works")
	assert.Contains(t, b.Upstreams["genesys"].Check, "token unavailable")

	emu.SetTokenEndpointFailing(false)
	status, _ = e.readyz()
	assert.Equal(t, http.StatusOK, status)
	r = e.post(groupQuery, groupVars)
	assert.Empty(t, r.Errors)
}

// Token endpoint trouble (red-team case 43). Tokens shorter-lived than
// genesys.TokenEarlyExpiry are replaced at every use, so every call needs
// the token endpoint.
func TestHangingTokenEndpoint(t *testing.T) {
	e := setupSized(t, map[string]string{"UPSTREAM_OPERATION_TIMEOUT": "1s", "UPSTREAM_ATTEMPT_TIMEOUT": "3s"},
		demodata.Demo, withReadyTTL(0), withDemoTokenTTL(time.Second))
	e.warmUp()
	e.genesysKit().Inject(genesysemu.RouteToken, emukit.Fault{Latency: time.Minute})

	for _, c := range concurrentGroupReads(e, 8) {
		assert.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, c, "each request gives up at its own deadline")
	}
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteToken), "one fetch for every waiter")

	client := &http.Client{Timeout: 4 * time.Second}
	resp, err := client.Get(e.srv.URL + "/readyz")
	require.NoError(t, err, "/readyz answers while the token endpoint hangs")
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestTokenEndpointFailuresHaveTheirOwnBreaker(t *testing.T) {
	e := setupSized(t, map[string]string{"UPSTREAM_BREAKER_FAILURES": "2"}, demodata.Demo, withDemoTokenTTL(time.Second))
	e.warmUp()
	emu := e.gw.demo.genesys
	emu.SetTokenEndpointFailing(true)
	for range genesys.TokenBreakerFailures + 2 {
		r := e.post(groupQuery, groupVars)
		require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
		userGroupsServed(t, r)
	}
	assert.Equal(t, genesys.TokenBreakerFailures, e.genesysKit().Count(genesysemu.RouteToken),
		"the token breaker opened: no more token requests")
	assert.Equal(t, "closed", e.gw.resilience[upstream.Genesys].BreakerState(), "the API's breaker saw no failure")
	assert.Zero(t, e.genesysKit().Count("GET /api/v2/groups"))
}

func TestTokenEndpointRefusalIsTheGatewaysProblem(t *testing.T) {
	e := setupSized(t, nil, demodata.Demo, withDemoTokenTTL(time.Second))
	e.warmUp()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized} {
		e.genesysKit().ClearFaults()
		e.genesysKit().Inject(genesysemu.RouteToken, emukit.Fault{Status: status,
			Body: `{"error":"invalid_client","error_description":"client ` + e.gw.cfg.GenesysSecret + ` unknown"}`})
		r := e.post(groupQuery, groupVars)
		require.Equal(t, []string{"UPSTREAM_ERROR"}, r.codes(), "a misconfigured gateway, not BAD_USER_INPUT or UNAUTHENTICATED")
		assert.EqualValues(t, status, r.Errors[0].Extensions["status"])
		assert.Equal(t, "invalid_client", r.Errors[0].Extensions["upstreamCode"])
		assert.Equal(t, http.StatusOK, r.Status)
		e.assertNoSecrets(r, e.canaries())
	}
}

// Forged key ids do not starve a freshly rotated key (red-team case 47):
// unknown-kid fetches are shared and spaced, not limited to one a minute.
func TestForgedKidsDoNotBlockARotatedKey(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	for i := range 21 {
		idp.addKey("forged-"+strconv.Itoa(i), newECKey(t), false)
	}
	r := e.post(pageQuery, nil, bearerHeader(idp.token("forged-0", claims("mallory", "directory:*:*")))...)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, int32(2), idp.fetches.Load(), "the first unknown kid is fetched at once")

	idp.addKey("ec-2", newECKey(t), true) // rotated right after the forged token
	var wg sync.WaitGroup
	forged := make(chan int, 20)
	for i := range 20 {
		wg.Go(func() {
			forged <- e.post(pageQuery, nil, bearerHeader(idp.token("forged-"+strconv.Itoa(i+1), claims("mallory")))...).Status
		})
	}
	r = e.post(pageQuery, nil, bearerHeader(idp.token("ec-2", claims("alice")))...)
	wg.Wait()
	close(forged)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Empty(t, r.Errors)
	for status := range forged {
		assert.Equal(t, http.StatusUnauthorized, status)
	}
	assert.LessOrEqual(t, idp.fetches.Load(), int32(4), "21 forged kids and a rotated key: fetches shared, not one each")
}

// concurrentGroupReads sends n one-group reads at once (groups 1..n) and
// returns each answer's error codes.
func concurrentGroupReads(e *testEnv, n int) [][]string {
	var wg sync.WaitGroup
	codes := make([][]string, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(i + 1)}).codes()
		})
	}
	wg.Wait()
	return codes
}
