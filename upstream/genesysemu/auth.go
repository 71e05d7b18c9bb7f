package genesysemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
)

// tokenStore holds the tokens the token endpoint issued.
type tokenStore struct {
	mu      sync.Mutex
	expiry  map[string]time.Time
	issued  int
	failing bool
}

func newTokenStore() *tokenStore { return &tokenStore{expiry: map[string]time.Time{}} }

// IssuedTokens returns how many tokens the token endpoint has issued.
func (s *Server) IssuedTokens() int {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	return s.tokens.issued
}

// ExpireTokens invalidates every issued token, so that the next call made
// with one gets 401 (caller tokens from Options.Tokens stay valid).
func (s *Server) ExpireTokens() {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.expiry = map[string]time.Time{}
}

// SetTokenEndpointFailing makes the token endpoint answer 503 (true) or
// work again (false).
func (s *Server) SetTokenEndpointFailing(failing bool) {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.failing = failing
}

func (t *tokenStore) isFailing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failing
}

func (t *tokenStore) issue(now time.Time, ttl time.Duration) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expiry[tok] = now.Add(ttl)
	t.issued++
	return tok
}

func (t *tokenStore) valid(tok string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.expiry[tok]
	return ok && now.Before(exp)
}

// tokenEndpoint serves POST /oauth/token (client credentials grant).
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) {
		return
	}
	if s.tokens.isFailing() {
		writeAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token service is unavailable")
		return
	}
	if err := limitBody(r); err != nil {
		writeError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a form")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	if !s.clientAuthenticated(r) {
		writeAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	tok := s.tokens.issue(s.now(), s.opts.TokenTTL)
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "bearer",
		ExpiresIn: int(s.opts.TokenTTL / time.Second)})
}

// clientAuthenticated checks Basic auth, or else the client_id and
// client_secret form fields, against the configured client.
func (s *Server) clientAuthenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if s.opts.ClientID == "" {
		return false
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
	return idOK && secretOK
}

func writeAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, authError{Error: code, Description: description, ErrorDescription: description})
}

// authenticate checks the bearer token and, for caller tokens, the
// permission the operation needs. It returns the token.
func (s *Server) authenticate(r *http.Request, permission string) (string, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", newError(http.StatusUnauthorized, "authentication.required", "no bearer token was sent")
	}
	if s.tokens.valid(tok, s.now()) {
		return tok, nil
	}
	perms, ok := s.opts.Tokens[tok]
	if !ok {
		return "", newError(http.StatusUnauthorized, "bad.credentials", "invalid or expired token")
	}
	if permission != "" && !hasPermission(perms, permission) {
		return "", &apiError{status: http.StatusForbidden, code: "missing.any.permissions",
			message: "missing any permissions: " + permission, params: map[string]string{"permissions": permission}}
	}
	return tok, nil
}

// hasPermission reports whether one of perms grants want; a "*" segment
// matches any segment.
func hasPermission(perms []string, want string) bool {
	ws := strings.Split(want, ":")
	for _, p := range perms {
		if p == "*" || permissionMatches(strings.Split(p, ":"), ws) {
			return true
		}
	}
	return false
}

func permissionMatches(ps, ws []string) bool {
	if len(ps) != len(ws) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != ws[i] {
			return false
		}
	}
	return true
}

// usersMe serves GET /api/v2/users/me for caller tokens; client credentials
// tokens have no user.
func (s *Server) usersMe(r *http.Request) (int, any, error) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	perms, ok := s.opts.Tokens[tok]
	if !ok {
		return 0, nil, newError(http.StatusBadRequest, "not.a.user",
			"this request requires a user context; client credentials cannot be used")
	}
	i := callerUser(tok, s.opts.Size.Users)
	me := meJSON{ID: demodata.UserID(i), Name: demodata.UserName(i), SelfURI: userSelfURI(demodata.UserID(i))}
	if slices.Contains(queryList(r.URL.Query(), "expand"), "authorization") {
		me.Authorization = &authorization{Permissions: append([]string{}, perms...)}
	}
	return http.StatusOK, me, nil
}

// callerUser picks the demo user a caller token belongs to, stably.
func callerUser(tok string, users int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(tok))
	return int(h.Sum32() % uint32(max(users, 1)))
}
