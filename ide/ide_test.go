package ide

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shared is the page most tests ask for: rendered and compressed once.
var shared = Handler(Options{Endpoint: "/query"})

// get asks h for the page with the given request headers (name, value, ...).
func get(t *testing.T, h http.Handler, method string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// between returns the text of s after the first start and before the next end.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, start)
	require.True(t, ok, "no %q in the page", start)
	inner, _, ok := strings.Cut(rest, end)
	require.True(t, ok, "no %q after %q", end, start)
	return inner
}

func TestPage(t *testing.T) {
	t.Parallel()
	rec := get(t, Handler(Options{Title: "Gateway <dev>", Endpoint: "/query"}), http.MethodGet)
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()

	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	assert.Contains(t, page, "<title>Gateway &lt;dev&gt;</title>")

	var cfg pageConfig
	require.NoError(t, json.Unmarshal([]byte(between(t, page, `id="ide-config">`, "</script>")), &cfg))
	assert.Equal(t, pageConfig{Title: "Gateway <dev>", Endpoint: "/query", Tabs: DefaultTabs()}, cfg)

	inline := between(t, page, "<script>", "</script>")
	assert.Equal(t, string(script), inline, "the bundle is inlined unchanged")
	assert.Equal(t, string(style), between(t, page, "<style>", "</style>"))
	sum := sha256.Sum256([]byte(inline))
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.Contains(t, csp, "default-src 'none'")
}

func TestPageTabs(t *testing.T) {
	t.Parallel()
	tabs := []Tab{{Query: "{ a }", Variables: `{"x": 1}`, Headers: `{"X-Trace": "1"}`}}
	page := get(t, Handler(Options{Endpoint: "/graphql", Tabs: tabs}), http.MethodGet).Body.String()
	var cfg pageConfig
	require.NoError(t, json.Unmarshal([]byte(between(t, page, `id="ide-config">`, "</script>")), &cfg))
	assert.Equal(t, pageConfig{Endpoint: "/graphql", Tabs: tabs}, cfg)
}

func TestDefaultTabs(t *testing.T) {
	t.Parallel()
	tabs := DefaultTabs()
	require.NotEmpty(t, tabs)
	assert.Contains(t, tabs[0].Query, "groups(pageSize: 5)")
	for _, tab := range tabs {
		assert.Empty(t, tab.Headers, "a default tab sends no header")
		if tab.Variables != "" {
			assert.True(t, json.Valid([]byte(tab.Variables)), tab.Variables)
		}
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	plain := get(t, shared, http.MethodGet).Body.Bytes()
	gzipped := get(t, shared, http.MethodGet, "Accept-Encoding", "gzip").Body.Bytes()
	zr, err := gzip.NewReader(bytes.NewReader(gzipped))
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, plain, unzipped, "the gzipped page is the page")
	assert.Less(t, len(gzipped), len(plain))

	tests := []struct {
		acceptEncoding string
		gzipped        bool
	}{
		{"", false},
		{"identity", false},
		{"br", false},
		{"gzip", true},
		{"GZIP", true},
		{"br, gzip;q=0.5, deflate", true},
		{"gzip;q=0", false},
		{"gzip;q=nonsense", false},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding, func(t *testing.T) {
			rec := get(t, shared, http.MethodGet, "Accept-Encoding", tt.acceptEncoding)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
			want, encoding := plain, ""
			if tt.gzipped {
				want, encoding = gzipped, "gzip"
			}
			assert.Equal(t, encoding, rec.Header().Get("Content-Encoding"))
			assert.Equal(t, want, rec.Body.Bytes())
		})
	}
}

func TestRevalidation(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"", "gzip"} {
		first := get(t, shared, http.MethodGet, "Accept-Encoding", enc)
		etag := first.Header().Get("ETag")
		require.NotEmpty(t, etag)
		again := get(t, shared, http.MethodGet, "Accept-Encoding", enc, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, again.Code, enc)
		assert.Zero(t, again.Body.Len(), enc)
	}
	plain := get(t, shared, http.MethodGet).Header().Get("ETag")
	assert.NotEqual(t, plain, get(t, shared, http.MethodGet, "Accept-Encoding", "gzip").Header().Get("ETag"),
		"each encoding has its own ETag")
	changed := get(t, shared, http.MethodGet, "If-None-Match", `"stale"`)
	assert.Equal(t, http.StatusOK, changed.Code)
}

func TestHead(t *testing.T) {
	t.Parallel()
	rec := get(t, shared, http.MethodHead)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Content-Length"))
	assert.Zero(t, rec.Body.Len())
}

// TestBundleSelfContained guards the properties the page relies on: the
// bundle can be inlined, and it loads nothing from another host.
func TestBundleSelfContained(t *testing.T) {
	t.Parallel()
	js, css := string(script), string(style)
	assert.NotContains(t, strings.ToLower(js), "</script", "esbuild escapes it; the inline script would end early")
	assert.NotContains(t, strings.ToLower(css), "</style")
	for _, u := range regexp.MustCompile(`url\(\s*['"]?([^'")\s]*)`).FindAllStringSubmatch(css, -1) {
		assert.True(t, strings.HasPrefix(u[1], "data:") || strings.HasPrefix(u[1], "#"), "the stylesheet fetches %.60s", u[1])
	}
	for _, host := range []string{"unpkg.com", "jsdelivr.net", "cdnjs.", "esm.sh", "googleapis.com", "gstatic.com", "skypack.dev"} {
		assert.NotContains(t, js+css, host)
	}
	page := get(t, shared, http.MethodGet).Body.Bytes()
	head, _, _ := bytes.Cut(page, []byte("<style>"))
	assert.NotRegexp(t, `(src|href)="(https?:)?//`, string(head), "the page links nothing outside")
}
