// Package usergroups is a typed client for the Usergroup API of the forms
// platform (eFormsMobile, Forms On Fire, Amplus Forms: white labels of one
// ServiceStack service): create, get, update, delete and search user groups
// under /api/v2/usergroup.
//
// The API authenticates with a CompanyId and an IntegrationKey that travel in
// the query string (GET, DELETE) or in the JSON body (POST, PUT). Neither the
// query string nor a body ever appears in an error of this package: errors
// name the method and the path only, and an upstream message that echoes the
// credentials has them redacted (in any encoding, cut copies too).
//
// Every failure is an *upstream.Error (the upstream answered and refused), an
// *upstream.TransportError (no usable answer) or an *upstream.InputError (an
// argument rejected before any request). The client never retries.
package usergroups

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
	"unicode/utf8"

	"github.com/groupdir/gateway/upstream"
)

// apiPath is appended to the base URL.
const apiPath = "/api/v2/usergroup"

// maxMessage bounds the upstream message kept in an *upstream.Error.
const maxMessage = 512

// errInvalidBody stands for a success body that is not the expected JSON;
// unusable turns it into an *upstream.TransportError.
var errInvalidBody = errors.New("invalid response body")

// Client calls the Usergroup API of one company. It is safe for concurrent
// use.
type Client struct {
	hc       *http.Client
	endpoint string // base URL + apiPath, no query
	creds    credentials
}

// ConfigError is a setting New rejected. It never holds the setting's value.
type ConfigError struct {
	// Setting names the setting: "base URL", "company id" or
	// "integration key".
	Setting string
	// Reason is a fixed description of what is wrong.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return "usergroups: " + e.Setting + ": " + e.Reason }

// New returns a client for the API at baseURL (absolute http or https, e.g.
// "https://secure.formsonfire.com"; /api/v2/usergroup is appended) acting
// for companyID with integrationKey. hc is normally upstream.NewHTTPClient;
// nil takes one with the default options. A bad setting is a *ConfigError.
func New(baseURL string, companyID int64, integrationKey string, hc *http.Client) (*Client, error) {
	endpoint, err := endpointURL(baseURL)
	if err != nil {
		return nil, err
	}
	if companyID <= 0 {
		return nil, &ConfigError{Setting: "company id", Reason: "must be a positive integer"}
	}
	if integrationKey == "" {
		return nil, &ConfigError{Setting: "integration key", Reason: "must not be empty"}
	}
	if hc == nil {
		hc = upstream.NewHTTPClient(upstream.ClientOptions{})
	}
	return &Client{hc: hc, endpoint: endpoint, creds: credentials{CompanyID: companyID, IntegrationKey: integrationKey}}, nil
}

// endpointURL validates baseURL and appends apiPath.
func endpointURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return "", &ConfigError{Setting: "base URL", Reason: "must be an absolute http or https URL"}
	case u.User != nil, u.RawQuery != "", u.Fragment != "":
		return "", &ConfigError{Setting: "base URL", Reason: "must not hold credentials, a query or a fragment"}
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + apiPath
	u.RawPath = ""
	return u.String(), nil
}

// query returns the credentials as query parameters, for GET and DELETE.
func (c *Client) query() url.Values {
	return url.Values{
		"CompanyId":      {strconv.FormatInt(c.creds.CompanyID, 10)},
		"IntegrationKey": {c.creds.IntegrationKey},
	}
}

// newRequest builds a request to the endpoint plus sub ("" or "/search")
// with query q (format=json is added) and, when body is not nil, body as
// JSON. The URL is parsed before the query is attached, so a building error
// cannot hold the credentials.
func (c *Client) newRequest(ctx context.Context, method, sub string, q url.Values, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("usergroups: encoding the %s body: %w", method, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+sub, r)
	if err != nil {
		return nil, fmt.Errorf("usergroups: building the %s request: %w", method, err)
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("format", "json")
	req.URL.RawQuery = q.Encode()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// do sends req and decodes a success answer into v. Error answers go
// through checkResponse; an answer whose body cannot be read or decoded is
// an *upstream.TransportError that never holds the body. It returns the
// answer (its body consumed and closed) for the caller's own checks.
func (c *Client) do(req *http.Request, v envelope) (*http.Response, error) {
	resp, err := upstream.Send(c.hc, upstream.Usergroups, req)
	if err != nil {
		return nil, err
	}
	if !success(resp.StatusCode) {
		// An unreadable or oversized error body leaves the status alone to tell.
		body, _ := upstream.ReadBody(upstream.Usergroups, resp, upstream.MaxErrorBody)
		var env statusEnvelope
		_ = json.Unmarshal(body, &env) // not JSON (an HTML error page): same
		return nil, c.checkResponse(resp, env.ResponseStatus)
	}
	body, err := upstream.ReadBody(upstream.Usergroups, resp, upstream.MaxSuccessBody)
	if err != nil {
		return nil, unusable(resp, err)
	}
	if resp.StatusCode != http.StatusNoContent {
		if _, err := upstream.Decode(body, v); err != nil {
			return nil, unusable(resp, errInvalidBody)
		}
	}
	return resp, c.checkResponse(resp, v.status())
}

// success reports whether status is 2xx.
func success(status int) bool { return status >= 200 && status < 300 }

// unusable completes err, the *upstream.TransportError of a success answer
// whose body could not be read or decoded. The upstream answered 2xx, so a
// create (POST, not idempotent) was probably applied: its outcome is unknown.
func unusable(resp *http.Response, err error) error {
	var te *upstream.TransportError
	if !errors.As(err, &te) {
		te = &upstream.TransportError{Kind: err.Error()}
	}
	te.Upstream, te.Method, te.Path, te.Status = upstream.Usergroups, resp.Request.Method, resp.Request.URL.Path, resp.StatusCode
	te.OutcomeUnknown = resp.Request.Method == http.MethodPost
	return te
}

// checkResponse is the one place an answer becomes an *upstream.Error: any
// status outside 2xx, and a 2xx whose ResponseStatus carries an ErrorCode
// (ServiceStack services report some failures that way). For the latter,
// Status is the one ServiceStack maps that error to by default (see
// impliedStatus), so errors.Is matches what the failure means. It returns
// nil for a success. Code and Message never hold the IntegrationKey.
func (c *Client) checkResponse(resp *http.Response, rs *ResponseStatus) error {
	status := resp.StatusCode
	if success(status) {
		if rs == nil || rs.ErrorCode == "" {
			return nil
		}
		status = impliedStatus(rs)
	}
	e := &upstream.Error{
		Upstream:   upstream.Usergroups,
		Method:     resp.Request.Method,
		Path:       resp.Request.URL.Path,
		Status:     status,
		RetryAfter: upstream.RetryAfter(resp.Header, time.Now()),
	}
	if rs != nil {
		e.Code = truncate(c.scrub(rs.ErrorCode))
		e.Message = truncate(c.scrub(message(rs)))
	}
	return e
}

// impliedStatus maps the ErrorCode of a ResponseStatus to the HTTP status
// ServiceStack sends for it by default: validation failures and argument
// exceptions 400, authentication 401, access 403, missing 404, concurrency
// 409, unsupported 405; anything else 500.
func impliedStatus(rs *ResponseStatus) int {
	if s, ok := statusByCode[rs.ErrorCode]; ok {
		return s
	}
	if len(rs.Errors) > 0 {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// statusByCode holds the ServiceStack exception names and HttpError codes
// that do not mean 500.
var statusByCode = map[string]int{
	"ArgumentException":              http.StatusBadRequest,
	"ArgumentNullException":          http.StatusBadRequest,
	"ArgumentOutOfRangeException":    http.StatusBadRequest,
	"ValidationException":            http.StatusBadRequest,
	"SerializationException":         http.StatusBadRequest,
	"BadRequest":                     http.StatusBadRequest,
	"AuthenticationException":        http.StatusUnauthorized,
	"Unauthorized":                   http.StatusUnauthorized,
	"UnauthorizedAccessException":    http.StatusForbidden,
	"Forbidden":                      http.StatusForbidden,
	"FileNotFoundException":          http.StatusNotFound,
	"KeyNotFoundException":           http.StatusNotFound,
	"NotFound":                       http.StatusNotFound,
	"OptimisticConcurrencyException": http.StatusConflict,
	"Conflict":                       http.StatusConflict,
	"TooManyRequests":                http.StatusTooManyRequests,
	"NotImplementedException":        http.StatusMethodNotAllowed,
	"NotSupportedException":          http.StatusMethodNotAllowed,
}

// message is the ResponseStatus message, or its first field error when the
// message is empty.
func message(rs *ResponseStatus) string {
	if rs.Message == "" && len(rs.Errors) > 0 {
		return rs.Errors[0].FieldName + ": " + rs.Errors[0].Message
	}
	return rs.Message
}

// scrub removes the credentials from s: the IntegrationKey in any encoding
// and any cut copy of it, the CompanyId, and (upstream.Redact) query strings
// and tokens.
func (c *Client) scrub(s string) string {
	return upstream.Redact(upstream.RedactSecrets(s, c.creds.IntegrationKey, strconv.FormatInt(c.creds.CompanyID, 10)))
}

// truncate cuts s after at most maxMessage bytes, on a rune boundary, and
// marks the cut with an ellipsis.
func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
