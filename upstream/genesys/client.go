// Package genesys is the typed client for the Genesys Cloud Groups API: the
// 18 group, field-config and group-profile operations plus GET /users/me,
// the client-credentials token source and the region table.
//
// Every path parameter is checked to be a UUID before a request is built,
// every answer is read with a size cap, and every failure is an
// *upstream.Error, *upstream.TransportError or *upstream.InputError whose
// text never holds a token, a secret or a raw upstream body. The client does
// not retry; a later layer does.
package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/groupdir/gateway/upstream"
)

// DefaultUserAgent is the User-Agent sent unless WithUserAgent sets another.
const DefaultUserAgent = "groupdir-gateway"

// MaxRequestBody is the API's request size limit (request.bytes.max); a
// larger body is an *upstream.InputError and is not sent.
const MaxRequestBody = 512000

// Lengths kept of what the upstream says in an error answer.
const (
	maxMessage       = 200
	maxCode          = 100
	maxCorrelationID = 100
)

// Client calls the Genesys Cloud Groups API. It is safe for concurrent use.
type Client struct {
	base      url.URL
	hc        *http.Client
	tokens    oauth2.TokenSource
	userAgent string
	decoding  *decoding
}

// Option configures a Client.
type Option func(*Client)

// WithTokenSource sets the source of the gateway's own access token, used
// for every call whose context carries no caller token (see WithCallerToken).
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *Client) { c.tokens = ts }
}

// WithUserAgent sets the User-Agent header sent with every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the API at baseURL (e.g. "https://api.mypurecloud.ie",
// see RegionURLs), which must be an absolute http or https URL without
// credentials, query or fragment. hc is normally upstream.NewHTTPClient(...);
// nil means upstream.NewHTTPClient with its defaults.
func New(baseURL string, hc *http.Client, opts ...Option) (*Client, error) {
	base, err := parseBaseURL("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = upstream.NewHTTPClient(upstream.ClientOptions{})
	}
	c := &Client{base: base, hc: hc, userAgent: DefaultUserAgent}
	for _, o := range opts {
		o(c)
	}
	if c.decoding == nil {
		c.decoding = newDecoding(nil)
	}
	return c, nil
}

// parseBaseURL validates a base URL without ever echoing it (it could hold
// credentials) and drops a trailing slash from its path.
func parseBaseURL(field, raw string) (url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return url.URL{}, &upstream.InputError{Field: field,
			Reason: "must be an absolute http or https URL without credentials, query or fragment"}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return *u, nil
}

// newRequest builds a request for path (already validated, starting with
// /api/v2/) under the base URL, with query and, when body is not nil, a JSON
// body. It authenticates the request as described at WithCallerToken.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	u := c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("genesys: encoding the body of %s %s: %w", method, path, err)
		}
		if len(b) > MaxRequestBody {
			return nil, &upstream.InputError{Field: "body", Reason: "larger than the API's 512000-byte request limit"}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, fmt.Errorf("genesys: building %s %s: %w", method, path, err)
	}
	token, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// do sends req and decodes a success body into v (a pointer to a struct),
// or, when v is nil, only checks that the body is empty or JSON (202 {}).
func (c *Client) do(req *http.Request, v any) error {
	resp, err := upstream.Send(c.hc, upstream.Genesys, req)
	if err != nil {
		return err
	}
	if err := checkResponse(resp); err != nil {
		return err
	}
	body, err := upstream.ReadBody(upstream.Genesys, resp, upstream.MaxSuccessBody)
	if err != nil {
		var te *upstream.TransportError
		if errors.As(err, &te) {
			annotate(te, resp)
		}
		return err
	}
	return decode(resp, body, v, FieldsFrom(req.Context()), c.decoding)
}

// call is newRequest then do. When the API refuses the gateway's own token
// (401: revoked before its expiry), the token is dropped and the call is
// made once more with a new one; a write too, since a 401 means that
// nothing was applied. A caller's token (WithCallerToken) is never renewed.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	req, err := c.newRequest(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	err = c.do(req, out)
	renewer, ok := c.tokens.(interface{ Invalidate(token string) })
	if !ok || UsesCallerToken(ctx) || !errors.Is(err, upstream.ErrUnauthorized) {
		return err
	}
	renewer.Invalidate(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "))
	if req, err = c.newRequest(ctx, method, path, query, in); err != nil {
		return err
	}
	return c.do(req, out)
}

// fetch is call for operations that answer with a T.
func fetch[T any](ctx context.Context, c *Client, method, path string, query url.Values, in any) (*T, error) {
	var v T
	if err := c.call(ctx, method, path, query, in, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// decode unmarshals body into v, reading f's members of users and groups
// with d's options (a page of users or of groups that fastUserPage or
// fastGroupPage can read, with it).
// A body that is not the expected JSON (an HTML page with 200, a truncated
// object) is a *upstream.TransportError that does not quote the body.
func decode(resp *http.Response, body []byte, v any, f Fields, d *decoding) error {
	body = bytes.TrimSpace(body)
	if v == nil {
		if len(body) == 0 || json.Valid(body) {
			return nil
		}
		return invalidBody(resp, "")
	}
	if len(body) == 0 || body[0] != '{' {
		return invalidBody(resp, "")
	}
	switch l := v.(type) {
	case *UserEntityListing:
		if fastUserPage(body, f, pageSizeOf(resp.Request), l) {
			return nil
		}
	case *GroupEntityListing:
		if fastGroupPage(body, f, pageSizeOf(resp.Request), l) {
			return nil
		}
	}
	if field, err := upstream.Decode(body, v, d.optionsFor(f)); err != nil {
		return invalidBody(resp, field)
	}
	return nil
}

// pageSizeOf returns the pageSize of req's query (0 when it has none or
// not a positive number).
func pageSizeOf(req *http.Request) int {
	if req == nil || req.URL == nil {
		return 0
	}
	for rawQuery := req.URL.RawQuery; rawQuery != ""; {
		var param string
		param, rawQuery, _ = strings.Cut(rawQuery, "&")
		if v, ok := strings.CutPrefix(param, "pageSize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
			return 0
		}
	}
	return 0
}

// invalidBody reports a success answer whose body could not be decoded; field
// names the model field whose type did not match, when known.
func invalidBody(resp *http.Response, field string) error {
	te := &upstream.TransportError{Kind: "invalid response body"}
	if field != "" {
		te.Kind += " (field " + field + ")"
	}
	annotate(te, resp)
	return te
}

// annotate completes a TransportError about resp's unusable body.
func annotate(te *upstream.TransportError, resp *http.Response) {
	te.Upstream = upstream.Genesys
	te.Method, te.Path = resp.Request.Method, resp.Request.URL.Path
	te.Status = resp.StatusCode
	te.CorrelationID = clean(correlationID(resp.Header, ""), maxCorrelationID, "")
	// The write was answered with a success status, but what was applied
	// cannot be read back: the caller must check before repeating it.
	te.OutcomeUnknown = isWrite(resp.Request.Method)
}

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// checkResponse returns nil for a 2xx answer and otherwise an *upstream.Error
// built from the status, the ErrorBody (read with a size cap), the
// ININ-Correlation-Id header and Retry-After. A 3xx (redirects are never
// followed) is an error too. The body is never quoted.
func checkResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var eb ErrorBody
	if b, err := upstream.ReadBody(upstream.Genesys, resp, upstream.MaxErrorBody); err == nil {
		// An error body that is not an ErrorBody leaves eb empty: the status
		// and headers still describe the failure.
		_ = json.Unmarshal(b, &eb)
	}
	return responseError(resp, eb, strings.TrimPrefix(resp.Request.Header.Get("Authorization"), "Bearer "))
}

// responseError is the *upstream.Error for the non-2xx answer resp whose
// body said eb. Its code and message are truncated and stripped of control
// characters and of token.
func responseError(resp *http.Response, eb ErrorBody, token string) *upstream.Error {
	e := &upstream.Error{
		Upstream:      upstream.Genesys,
		Method:        resp.Request.Method,
		Path:          resp.Request.URL.Path,
		Status:        resp.StatusCode,
		Code:          clean(eb.Code, maxCode, token),
		Message:       clean(eb.Message, maxMessage, token),
		CorrelationID: clean(correlationID(resp.Header, eb.ContextID), maxCorrelationID, token),
		RetryAfter:    upstream.RetryAfter(resp.Header, time.Now()),
	}
	if e.Message == "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message = "redirect not followed"
	}
	return e
}

// correlationID is the ININ-Correlation-Id header, else fallback (the
// ErrorBody's contextId).
func correlationID(h http.Header, fallback string) string {
	if id := h.Get("ININ-Correlation-Id"); id != "" {
		return id
	}
	return fallback
}

// clean makes upstream text safe to put in an error: secret (when not
// empty) is redacted, control characters become spaces and the text is cut
// to limit runes.
func clean(s string, limit int, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return s
}
