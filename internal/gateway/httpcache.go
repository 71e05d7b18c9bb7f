package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/upstream"
)

// httpCache lets browsers and CDNs keep the answers of GET /query: an
// answer without errors and not served stale gets a weak ETag (a hash of
// its data) and Cache-Control max-age of the read cache's TTL, public only
// when it needs no credential (AUTH_MODE=none), private otherwise; a
// request whose If-None-Match names the answer's ETag gets 304 and no body.
// Anything else (errors, a stale answer, a refusal, the cache off) is
// no-store. A GET of a persisted query by its hash keeps the Cache-Control
// the guard gave it (PERSISTED_QUERY_CDN_MAX_AGE) unless it failed or was
// served stale. POST requests pass untouched.
func (g *Gateway) httpCache(next http.Handler) http.Handler {
	scope := "private"
	if g.cfg.AuthMode == auth.ModeNone {
		scope = "public"
	}
	maxAge := int(g.cfg.ReadCacheTTL.Seconds())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		var a answerNote
		rec := &bufferedResponse{header: w.Header(), status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), answerNoteKey{}, &a)))
		h := w.Header()
		h.Add("Vary", "Authorization")
		_, stale := upstream.CallsFrom(r.Context()).Stale()
		if rec.status != http.StatusOK || a.errors || a.etag == "" || stale || (maxAge <= 0 && h.Get("Cache-Control") == "") {
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(rec.status)
			_, _ = w.Write(rec.body.Bytes())
			return
		}
		etag := a.etag
		h.Set("ETag", etag)
		if h.Get("Cache-Control") == "" { // a GET of a persisted query has its own policy (guard)
			h.Set("Cache-Control", scope+", max-age="+strconv.Itoa(maxAge))
		}
		if matchesETag(r.Header.Get("If-None-Match"), etag) {
			h.Del("Content-Length")
			h.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// matchesETag reports whether an If-None-Match header names etag (weak
// comparison, RFC 9110 13.1.2).
func matchesETag(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// answerNote is what httpCache learns of the GraphQL answer (noteAnswer):
// whether it carries errors, and the ETag of its data. The ETag covers
// data only: the extensions (the calls the answer cost) differ between two
// answers of the same data.
type answerNote struct {
	errors bool
	etag   string
}

type answerNoteKey struct{}

// noteAnswer tells httpCache about the answer, when it waits for one.
func noteAnswer(ctx context.Context, resp *graphql.Response) {
	a, ok := ctx.Value(answerNoteKey{}).(*answerNote)
	if !ok || resp == nil {
		return
	}
	a.errors = len(resp.Errors) > 0
	sum := sha256.Sum256(resp.Data)
	a.etag = `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// bufferedResponse holds an answer until httpCache has decided its
// caching headers; the headers are the real writer's.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
