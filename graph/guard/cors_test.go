package guard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
				assert.Equal(t, corsHeaders, a.header.Get("Access-Control-Allow-Headers"))
				assert.NotEmpty(t, a.header.Get("Access-Control-Max-Age"))
			} else {
				assert.Empty(t, a.header.Get("Access-Control-Allow-Methods"))
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
