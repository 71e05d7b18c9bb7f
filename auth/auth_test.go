package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHasAny(t *testing.T) {
	tests := []struct {
		name   string
		held   []string
		wanted []string
		want   bool
	}{
		{"exact", []string{"directory:group:add"}, []string{"directory:group:add"}, true},
		{"other action", []string{"directory:group:view"}, []string{"directory:group:add"}, false},
		{"one of several wanted", []string{"directory:group:edit"}, []string{"directory:group:add", "directory:group:edit"}, true},
		{"action wildcard", []string{"directory:group:*"}, []string{"directory:group:delete"}, true},
		{"entity and action wildcard", []string{"directory:*:*"}, []string{"directory:group:edit"}, true},
		{"wildcard of another domain", []string{"routing:*:*"}, []string{"directory:group:edit"}, false},
		{"everything", []string{"*"}, []string{"directory:group:edit"}, true},
		{"fewer segments do not match", []string{"directory:*"}, []string{"directory:group:edit"}, false},
		{"a wildcard wanted is literal", []string{"directory:group:view"}, []string{"directory:group:*"}, false},
		{"nothing held", nil, []string{"directory:group:view"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewCaller("s", tt.held).HasAny(tt.wanted...))
		})
	}
	assert.True(t, Anyone("ip").HasAny("directory:group:delete"), "AUTH_MODE=none")
	var nobody *Caller
	assert.False(t, nobody.HasAny("directory:group:view"), "no caller in the context")
}

func TestCallerFromContext(t *testing.T) {
	assert.Nil(t, CallerFrom(context.Background()))
	c := NewCaller("alice", []string{"a:b:c"})
	assert.Same(t, c, CallerFrom(WithCaller(context.Background(), c)))
	perms := c.Permissions()
	perms[0] = "changed"
	assert.Equal(t, []string{"a:b:c"}, c.Permissions(), "Permissions returns a copy")
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name string
		xff  []string
		hops int
		want string
	}{
		{"no proxy trusted: the header is ignored", []string{"203.0.113.9"}, 0, "192.0.2.1"},
		{"one proxy: its entry", []string{"198.51.100.7, 203.0.113.9"}, 1, "203.0.113.9"},
		{"two proxies", []string{"198.51.100.7, 203.0.113.9"}, 2, "198.51.100.7"},
		{"headers repeated", []string{"198.51.100.7", "203.0.113.9"}, 2, "198.51.100.7"},
		{"fewer entries than hops", []string{"203.0.113.9"}, 3, "203.0.113.9"},
		{"no header", nil, 1, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/query", nil)
			r.RemoteAddr = "192.0.2.1:5555"
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, ClientIP(r, tt.hops))
			ctx, err := None{TrustedProxyHops: tt.hops}.Authenticate(r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, CallerFrom(ctx).Subject)
		})
	}
}

func TestStringsOf(t *testing.T) {
	assert.Equal(t, []string{"a", "b"}, stringsOf("a  b"))
	assert.Equal(t, []string{"a", "b"}, stringsOf([]any{"a", 7, "", "b"}))
	assert.Nil(t, stringsOf(42.0))
	assert.Nil(t, stringsOf(nil))
}

// authenticatorFunc adapts a function to Authenticator.
type authenticatorFunc func(r *http.Request) (context.Context, error)

func (f authenticatorFunc) Authenticate(r *http.Request) (context.Context, error) { return f(r) }

func TestMiddlewareRefusals(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		challenge  string
		retryAfter string
	}{
		{"missing", errMissing, http.StatusUnauthorized, CodeUnauthenticated, `Bearer realm="graphql"`, ""},
		{"invalid", unauthenticated(msgInvalid, errors.New("bad signature")), http.StatusUnauthorized, CodeUnauthenticated,
			`Bearer realm="graphql", error="invalid_token", error_description="` + msgInvalid + `"`, ""},
		{"any other error is a 401", errors.New("boom"), http.StatusUnauthorized, CodeUnauthenticated,
			`Bearer realm="graphql", error="invalid_token", error_description="` + msgInvalid + `"`, ""},
		{"identity provider rate limited", &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
			Message: "later", RetryAfter: 1500 * time.Millisecond}, http.StatusTooManyRequests, CodeRateLimited, "", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a refused request was passed on") })
			h := Middleware(authenticatorFunc(func(*http.Request) (context.Context, error) { return nil, tt.err }),
				Options{CORSOrigins: []string{"https://app.example.com"}})(next)
			r := httptest.NewRequest(http.MethodPost, "/query", nil)
			r.Header.Set("Origin", "https://app.example.com")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.challenge, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"))
			var body struct {
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
				Data any `json:"data"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			require.Len(t, body.Errors, 1)
			assert.Equal(t, tt.code, body.Errors[0].Extensions["code"])
			assert.Nil(t, body.Data)
		})
	}
}

func TestMiddlewarePassesPreflightsAndCallers(t *testing.T) {
	var seen *Caller
	next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = CallerFrom(r.Context()) })
	h := Middleware(authenticatorFunc(func(r *http.Request) (context.Context, error) {
		if r.Method == http.MethodOptions {
			t.Error("a preflight was authenticated")
		}
		return WithCaller(r.Context(), NewCaller("bob", nil)), nil
	}), Options{})(next)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodOptions, "/query", nil))
	assert.Nil(t, seen)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/query", nil))
	require.NotNil(t, seen)
	assert.Equal(t, "bob", seen.Subject)
}

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc ": "abc", "Basic abc": "", "Bearer": "", "": "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", header)
		assert.Equal(t, want, bearer(r), header)
	}
}
