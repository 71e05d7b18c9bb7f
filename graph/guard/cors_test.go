package guard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/groupdir/gateway/graph/guard/origins"
)

func TestCORS(t *testing.T) {
	const allowed = "https://app.example.com"
	tests := []struct {
		name        string
		origins     []string
		method      string
		headers     []string
		status      int
		allowOrigin string
		preflight   bool
		vary        bool
	}{
		{"allowed origin", []string{allowed}, http.MethodPost, []string{"Origin", allowed}, 200, allowed, false, true},
		{"allowed origin, other case", []string{allowed}, http.MethodPost, []string{"Origin", "https://APP.example.com"}, 200, "https://APP.example.com", false, true},
		{"other origin", []string{allowed}, http.MethodPost, []string{"Origin", "https://evil.example.com"}, 200, "", false, true},
		{"other port", []string{allowed}, http.MethodPost, []string{"Origin", allowed + ":8443"}, 200, "", false, true},
		{"no origin", []string{allowed}, http.MethodPost, nil, 200, "", false, true},
		{"no CORS configured", nil, http.MethodPost, []string{"Origin", allowed}, 200, "", false, false},
		{"preflight, allowed", []string{allowed}, http.MethodOptions,
			[]string{"Origin", allowed, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}, 204, allowed, true, true},
		{"preflight, other origin", []string{allowed}, http.MethodOptions,
			[]string{"Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST"}, 204, "", false, true},
		{"preflight, no CORS configured", nil, http.MethodOptions,
			[]string{"Origin", allowed, "Access-Control-Request-Method", "POST"}, 204, "", false, false},
		{"any port, one", []string{"http://localhost:*"}, http.MethodPost, []string{"Origin", "http://localhost:3000"}, 200, "http://localhost:3000", false, true},
		{"any port, none", []string{"http://localhost:*"}, http.MethodPost, []string{"Origin", "http://localhost"}, 200, "http://localhost", false, true},
		{"any port, other host", []string{"http://localhost:*"}, http.MethodPost, []string{"Origin", "http://localhost.evil.example:3000"}, 200, "", false, true},
		{"any port, other scheme", []string{"http://localhost:*"}, http.MethodPost, []string{"Origin", "https://localhost:3000"}, 200, "", false, true},
		{"any port, not a port", []string{"http://localhost:*"}, http.MethodPost, []string{"Origin", "http://localhost:3000@evil.example"}, 200, "", false, true},
		{"preflight, any port", []string{"http://127.0.0.1:*"}, http.MethodOptions,
			[]string{"Origin", "http://127.0.0.1:5173", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "traceparent"}, 204, "http://127.0.0.1:5173", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := defaults()
			opts.CORSOrigins = tt.origins
			e := newEnv(t, opts)
			headers := append([]string{"Content-Type", "application/json"}, tt.headers...)
			a := e.do(tt.method, "/", strings.NewReader(`{"query":"{ __typename }"}`), headers...)
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.allowOrigin, a.header.Get("Access-Control-Allow-Origin"))
			assert.Empty(t, a.header.Get("Access-Control-Allow-Credentials"), "never credentials")
			assert.Equal(t, tt.vary, strings.Contains(strings.Join(a.header.Values("Vary"), ","), "Origin"))
			if tt.preflight {
				assert.Equal(t, corsMethods, a.header.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, strings.Join(DefaultCORSHeaders, ", "), a.header.Get("Access-Control-Allow-Headers"))
				assert.NotEmpty(t, a.header.Get("Access-Control-Max-Age"))
			} else {
				assert.Empty(t, a.header.Get("Access-Control-Allow-Methods"))
			}
			if tt.allowOrigin != "" && !tt.preflight {
				assert.Equal(t, origins.ExposeHeaders, a.header.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

func TestRefusalsCarryCORSHeaders(t *testing.T) {
	const allowed = "https://app.example.com"
	opts := defaults()
	opts.CORSOrigins = []string{allowed}
	e := newEnv(t, opts)
	a := e.do(http.MethodPost, "/", strings.NewReader("[]"), "Content-Type", "application/json", "Origin", allowed)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, allowed, a.header.Get("Access-Control-Allow-Origin"), "the browser may read the error")
}
