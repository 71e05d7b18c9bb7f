// Package ide serves the gateway's GraphQL IDE: GraphiQL and every library it
// needs, bundled into dist/ from the pinned npm packages in web/ by `make ide`
// and embedded in the binary, so the page works on a network without
// internet access and `go build` needs no Node.js.
//
// The page is one self-contained document (styles, fonts and script inline).
// Its only requests go to the GraphQL endpoint, and its
// Content-Security-Policy has the browser enforce that.
package ide

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed" // the bundle and the page template
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The bundle: the output of `make ide`.
var (
	//go:embed dist/graphiql.js
	script []byte
	//go:embed dist/graphiql.css
	style []byte
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// Options configure the IDE page.
type Options struct {
	// Title names the page and shows in the IDE's corner.
	Title string
	// Endpoint is the URL path of the GraphQL endpoint, e.g. "/query".
	Endpoint string
	// Tabs are the editor tabs a first visit opens (later visits restore
	// the user's own tabs). Empty means DefaultTabs().
	Tabs []Tab
}

// Tab is one editor tab of the IDE. Variables and Headers are JSON objects
// as text; the headers are sent with every request of the tab.
type Tab struct {
	Query     string `json:"query"`
	Variables string `json:"variables,omitempty"`
	Headers   string `json:"headers,omitempty"`
}

// pageConfig is what the page's script reads from its JSON block.
type pageConfig struct {
	Title    string `json:"title"`
	Endpoint string `json:"endpoint"`
	Tabs     []Tab  `json:"tabs"`
}

// page is the rendered document, with its compressed form made on first use.
type page struct {
	html    []byte
	etag    string
	csp     string
	gzipped func() []byte
}

// Handler returns the handler of the IDE page; mount it on GET of one path.
// The page is rendered on first use, then served from memory (gzipped to
// clients that accept it) with an ETag, and must be revalidated before reuse.
func Handler(opts Options) http.Handler {
	if len(opts.Tabs) == 0 {
		opts.Tabs = DefaultTabs()
	}
	return &handler{page: sync.OnceValues(func() (*page, error) { return render(opts) })}
}

// handler renders the page once, on the first request: gateways built
// with the IDE on but never asked for it pay nothing.
type handler struct {
	page func() (*page, error)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := h.page()
	if err != nil { // only with a broken template, which the package tests rule out
		http.Error(w, "The IDE is unavailable.", http.StatusInternalServerError)
		return
	}
	p.serve(w, r)
}

func render(opts Options) (*page, error) {
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, map[string]any{
		"Title":  opts.Title,
		"Config": pageConfig(opts),
		// Trusted as they are: our own bundle, in which esbuild escapes
		// "</style" and "</script" (checked by the tests).
		"Style":  template.CSS(style),
		"Script": template.JS(script),
	})
	if err != nil {
		return nil, fmt.Errorf("ide: render the page: %w", err)
	}
	html := buf.Bytes()
	sum := sha256.Sum256(html)
	return &page{
		html:    html,
		etag:    strconv.Quote(base64.RawURLEncoding.EncodeToString(sum[:12])),
		csp:     contentSecurityPolicy(),
		gzipped: sync.OnceValue(func() []byte { return compress(html) }),
	}, nil
}

// contentSecurityPolicy allows the page's own inline script (by its hash),
// its inline styles and data: fonts and images, and requests to the page's
// origin only.
func contentSecurityPolicy() string {
	sum := sha256.Sum256(script)
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"style-src 'unsafe-inline'",
		"font-src data:",
		"img-src data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression) // the level is valid
	_, _ = zw.Write(b)                                          // a bytes.Buffer does not fail
	_ = zw.Close()
	return buf.Bytes()
}

func (p *page) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	body, etag := p.html, p.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = p.gzipped(), strings.TrimSuffix(p.etag, `"`)+`-gzip"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, _ = strconv.ParseFloat(v, 64) // unparsable: 0, not accepted
		}
		return q > 0
	}
	return false
}
