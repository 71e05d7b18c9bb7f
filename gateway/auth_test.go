package gateway

import (
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

	"github.com/groupdir/gateway/upstream/demodata"
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
