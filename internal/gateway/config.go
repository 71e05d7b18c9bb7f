package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/graph/quota"
	"github.com/groupdir/gateway/graph/resolvers"
	"github.com/groupdir/gateway/redisstore"
	"github.com/groupdir/gateway/telemetry"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Environments (GATEWAY_ENV).
const (
	envDevelopment = "development"
	envProduction  = "production"
)

// Config is the gateway's validated configuration, read once at start-up
// from the environment (see the README's configuration table).
type Config struct {
	ListenAddr string
	// Demo is true when no upstream variable is set: the gateway then runs
	// the in-process emulators.
	Demo bool
	// Env is envDevelopment or envProduction.
	Env string
	// AuthMode is how callers are authenticated: auth.ModeNone, ModeJWT or
	// ModeGenesys.
	AuthMode string
	// AuthJWT is the JWT verification of AUTH_MODE=jwt (AUTH_JWKS_URL,
	// AUTH_ISSUER, AUTH_AUDIENCE, AUTH_PERMISSIONS_CLAIM).
	AuthJWT auth.JWTOptions
	// CallerRatePerMinute is each caller's budget of upstream calls a
	// minute (AUTH_RATE_LIMIT_PER_MINUTE; 0: no limit).
	CallerRatePerMinute int
	// CallerMaxSharePercent is the largest share, in percent, of the
	// shared upstream budget a caller's budget may be
	// (AUTH_RATE_LIMIT_MAX_SHARE; see sharedRatePerMinute).
	CallerMaxSharePercent int
	// MaxUpstreamCalls bounds the upstream calls of one operation
	// (GATEWAY_MAX_UPSTREAM_CALLS).
	MaxUpstreamCalls int
	// MembershipPermission is what a caller needs for addGroupMembers and
	// removeGroupMembers when the gateway's own Genesys credentials act for
	// it (GATEWAY_MEMBERSHIP_PERMISSION; see @membershipPermission).
	MembershipPermission string
	// TrustedProxyHops is how many proxies in front of the gateway append
	// to X-Forwarded-For (AUTH_TRUSTED_PROXY_HOPS): it names the client of
	// AUTH_MODE=none.
	TrustedProxyHops int

	GenesysAPIURL, GenesysLoginURL  string
	GenesysClientID, GenesysSecret  string
	UsergroupURL, UsergroupKey      string
	UsergroupCompanyID              int64
	Introspection, Suggestions, IDE bool
	LogLevel                        slog.Level
	LogJSON                         bool
	CORSOrigins                     []string
	// CORSHeaders are the request headers browsers may send
	// (guard.DefaultCORSHeaders and CORS_ALLOWED_HEADERS).
	CORSHeaders []string
	// TrustedDocuments, when set, are the only operations that run
	// (GATEWAY_TRUSTED_DOCUMENTS).
	TrustedDocuments *guard.TrustedDocuments
	// PersistedCDNMaxAge is how long shared caches may keep answers to GETs
	// of persisted queries (PERSISTED_QUERY_CDN_MAX_AGE).
	PersistedCDNMaxAge time.Duration
	// ReadCacheTTL, when positive, keeps successful upstream reads that
	// long (per credential; cleared by the gateway's own writes);
	// ReadCacheStale is how much longer they may be served marked stale
	// when the upstream cannot be asked (docs/batching.md, "Caching and the
	// upstream budget").
	ReadCacheTTL, ReadCacheStale time.Duration
	// OperationTimeout bounds one GraphQL request's upstream work;
	// AttemptTimeout bounds one upstream call (docs/limits.md, "Upstream resilience").
	OperationTimeout, AttemptTimeout time.Duration
	// GenesysResilience and UsergroupResilience protect each upstream.
	GenesysResilience, UsergroupResilience upstream.ResilienceOptions
	// Limits bound every GraphQL request (docs/limits.md, "Query and HTTP limits").
	Limits guard.Limits
	// Shed bounds the /query requests served at once and their body bytes
	// (GATEWAY_MAX_IN_FLIGHT, GATEWAY_QUEUE_WAIT,
	// GATEWAY_MAX_BODY_BYTES_IN_FLIGHT).
	Shed guard.ShedOptions
	// CallerRequestsPerMinute is each caller's budget of /query requests a
	// minute, charged before the document is read
	// (GATEWAY_CALLER_REQUESTS_PER_MINUTE; 0: no limit).
	CallerRequestsPerMinute int
	// Tracing says whether spans are exported over OTLP (the standard
	// OTEL_* variables; docs/operating.md).
	Tracing telemetry.TracingConfig
	// MaxMemberIDs bounds the ids of one membership mutation
	// (GATEWAY_MAX_MEMBER_IDS).
	MaxMemberIDs int
	// DeleteConfirmTimeout bounds how long deleteGroup reads a deleted
	// group back (GATEWAY_DELETE_CONFIRM_TIMEOUT).
	DeleteConfirmTimeout time.Duration
	// Federation serves the Apollo Federation v2 subgraph fields
	// (_entities, _service) and types (GATEWAY_FEDERATION; default false:
	// the public schema stays without them).
	Federation bool
	// RedisURL is the Redis the replicas share (REDIS_URL; empty: all
	// shared state in memory). It may hold a password: never logged.
	RedisURL string
}

// upstreamVars are the variables whose presence leaves demo mode.
var upstreamVars = []string{
	"GENESYS_REGION", "GENESYS_API_URL", "GENESYS_LOGIN_URL", "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET",
	"USERGROUP_API_URL", "USERGROUP_COMPANY_ID", "USERGROUP_INTEGRATION_KEY",
}

// LoadConfig reads and validates the configuration. Every problem is
// reported at once, each naming its variable; no value of a secret variable
// is ever repeated in an error.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{ListenAddr: or(getenv("LISTEN_ADDR"), ":8080"), Demo: true}
	for _, v := range upstreamVars {
		if getenv(v) != "" {
			c.Demo = false
		}
	}
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if !c.Demo {
		c.loadUpstreams(getenv, fail)
	}
	c.loadModes(getenv, fail)
	c.loadLogging(getenv, fail)
	c.loadResilience(getenv, fail)
	c.loadLimits(getenv, fail)
	c.loadAdmission(getenv, fail)
	var err error
	if c.Tracing, err = telemetry.TracingConfigFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	c.ReadCacheTTL = cacheDuration(getenv, fail, "UPSTREAM_READ_CACHE_TTL", defaultReadCacheTTL)
	c.ReadCacheStale = cacheDuration(getenv, fail, "UPSTREAM_READ_CACHE_STALE", defaultReadCacheStale)
	c.MaxMemberIDs = intVar(getenv, fail, "GATEWAY_MAX_MEMBER_IDS", resolvers.DefaultMaxMemberIDs, 1, maxMemberIDsLimit)
	c.DeleteConfirmTimeout = durationVar(getenv, fail, "GATEWAY_DELETE_CONFIRM_TIMEOUT", resolvers.DefaultDeleteConfirmTimeout,
		maxDeleteConfirmTimeout)
	c.MaxUpstreamCalls = intVar(getenv, fail, "GATEWAY_MAX_UPSTREAM_CALLS", quota.DefaultMaxCalls, 1, 100_000)
	if c.RedisURL = getenv("REDIS_URL"); c.RedisURL != "" {
		if _, err := redisstore.ParseURL(c.RedisURL); err != nil {
			fail("REDIS_URL", "%s", err.Error())
		}
	}
	c.loadFrontend(getenv, fail)
	return c, errors.Join(errs...)
}

// demoCORSOrigins are the origins allowed in demo mode when
// CORS_ALLOWED_ORIGINS is not set: a frontend's development server.
var demoCORSOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}

// loadFrontend reads what browser applications need: CORS
// (CORS_ALLOWED_ORIGINS, CORS_ALLOWED_HEADERS) and persisted operations
// (GATEWAY_TRUSTED_DOCUMENTS, PERSISTED_QUERY_CDN_MAX_AGE).
func (c *Config) loadFrontend(getenv func(string) string, fail func(string, string, ...any)) {
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			u, err := url.Parse(strings.TrimSuffix(o, ":*"))
			if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.Port() != "" && strings.HasSuffix(o, ":*") {
				fail("CORS_ALLOWED_ORIGINS", "%q is not an origin like https://app.example.com or http://localhost:*", o)
				continue
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if c.CORSOrigins == nil && c.Demo {
		c.CORSOrigins = demoCORSOrigins
	}
	c.CORSHeaders = append(c.CORSHeaders, guard.DefaultCORSHeaders...)
	for _, h := range strings.Split(getenv("CORS_ALLOWED_HEADERS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if !headerName.MatchString(h) {
				fail("CORS_ALLOWED_HEADERS", "%q is not a header name", h)
				continue
			}
			c.CORSHeaders = append(c.CORSHeaders, h)
		}
	}
	if path := getenv("GATEWAY_TRUSTED_DOCUMENTS"); path != "" {
		docs, err := guard.LoadTrustedDocuments(path)
		if err != nil {
			fail("GATEWAY_TRUSTED_DOCUMENTS", "%v", err)
		}
		c.TrustedDocuments = docs
	}
	c.PersistedCDNMaxAge = durationVar(getenv, fail, "PERSISTED_QUERY_CDN_MAX_AGE", 0, 24*time.Hour)
}

// headerName is an HTTP header name (an RFC 9110 token).
var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

func (c *Config) loadUpstreams(getenv func(string) string, fail func(string, string, ...any)) {
	if region := getenv("GENESYS_REGION"); region != "" {
		api, login, err := genesys.RegionURLs(region)
		if err != nil {
			fail("GENESYS_REGION", "unknown region domain %q (one of %s)", region, strings.Join(genesys.Regions(), ", "))
		}
		c.GenesysAPIURL, c.GenesysLoginURL = api, login
	}
	c.GenesysAPIURL = or(getenv("GENESYS_API_URL"), c.GenesysAPIURL)
	c.GenesysLoginURL = or(getenv("GENESYS_LOGIN_URL"), c.GenesysLoginURL)
	checkURL(fail, "GENESYS_API_URL (or GENESYS_REGION)", c.GenesysAPIURL)
	checkURL(fail, "GENESYS_LOGIN_URL (or GENESYS_REGION)", c.GenesysLoginURL)
	c.GenesysClientID, c.GenesysSecret = getenv("GENESYS_CLIENT_ID"), getenv("GENESYS_CLIENT_SECRET")
	required(fail, "GENESYS_CLIENT_ID", c.GenesysClientID)
	required(fail, "GENESYS_CLIENT_SECRET", c.GenesysSecret)
	c.UsergroupURL = getenv("USERGROUP_API_URL")
	checkURL(fail, "USERGROUP_API_URL", c.UsergroupURL)
	c.UsergroupKey = getenv("USERGROUP_INTEGRATION_KEY")
	required(fail, "USERGROUP_INTEGRATION_KEY", c.UsergroupKey)
	if v := getenv("USERGROUP_COMPANY_ID"); v == "" {
		fail("USERGROUP_COMPANY_ID", "is required")
	} else if id, err := strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
		fail("USERGROUP_COMPANY_ID", "must be a positive integer")
	} else {
		c.UsergroupCompanyID = id
	}
}

func (c *Config) loadModes(getenv func(string) string, fail func(string, string, ...any)) {
	c.Env = getenv("GATEWAY_ENV")
	switch {
	case c.Env == "" && c.Demo:
		c.Env = envDevelopment
	case c.Env == "":
		c.Env = envProduction
	case c.Env != envDevelopment && c.Env != envProduction:
		fail("GATEWAY_ENV", "must be %s or %s", envDevelopment, envProduction)
	}
	c.loadAuth(getenv, fail)
	dev := c.Env == envDevelopment
	c.Introspection = boolVar(getenv, fail, "GATEWAY_INTROSPECTION", dev)
	c.Suggestions = boolVar(getenv, fail, "GATEWAY_FIELD_SUGGESTIONS", dev)
	c.IDE = boolVar(getenv, fail, "GATEWAY_IDE", dev)
	c.Federation = boolVar(getenv, fail, "GATEWAY_FEDERATION", false)
}

// authModes are the values of AUTH_MODE, as listed in errors.
const authModes = auth.ModeNone + ", " + auth.ModeJWT + " or " + auth.ModeGenesys

// loadAuth reads how callers are authenticated and limited (AUTH_*). In
// production an implicit AUTH_MODE=none (demo mode's default) is refused.
func (c *Config) loadAuth(getenv func(string) string, fail func(string, string, ...any)) {
	c.AuthMode = getenv("AUTH_MODE")
	switch c.AuthMode {
	case "":
		switch {
		case !c.Demo:
			fail("AUTH_MODE", "is required outside demo mode (%s)", authModes)
		case c.Env == envProduction:
			fail("AUTH_MODE", "must be set explicitly with GATEWAY_ENV=production (%s)", authModes)
		}
		c.AuthMode = auth.ModeNone
	case auth.ModeNone, auth.ModeGenesys:
	case auth.ModeJWT:
		c.AuthJWT = auth.JWTOptions{JWKSURL: getenv("AUTH_JWKS_URL"), Issuer: getenv("AUTH_ISSUER"),
			Audience: getenv("AUTH_AUDIENCE"), PermissionsClaim: getenv("AUTH_PERMISSIONS_CLAIM")}
		checkURL(fail, "AUTH_JWKS_URL", c.AuthJWT.JWKSURL)
		required(fail, "AUTH_ISSUER", c.AuthJWT.Issuer)
		required(fail, "AUTH_AUDIENCE", c.AuthJWT.Audience)
	default:
		fail("AUTH_MODE", "must be %s", authModes)
	}
	if c.AuthMode != auth.ModeJWT {
		for _, v := range []string{"AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_PERMISSIONS_CLAIM"} {
			if getenv(v) != "" {
				fail(v, "is only used with AUTH_MODE=jwt")
			}
		}
	}
	c.MembershipPermission = or(getenv("GATEWAY_MEMBERSHIP_PERMISSION"), resolvers.DefaultMembershipPermission)
	if !permissionShape.MatchString(c.MembershipPermission) {
		fail("GATEWAY_MEMBERSHIP_PERMISSION", "must be a Genesys permission such as %s (domain:entity:action)", resolvers.DefaultMembershipPermission)
	}
	c.TrustedProxyHops = intVar(getenv, fail, "AUTH_TRUSTED_PROXY_HOPS", 0, 0, 10)
	def := defaultCallerRatePerMinute
	if c.Demo {
		def = 0
	}
	c.CallerRatePerMinute = intVar(getenv, fail, "AUTH_RATE_LIMIT_PER_MINUTE", def, 0, 1e9)
	c.CallerMaxSharePercent = intVar(getenv, fail, "AUTH_RATE_LIMIT_MAX_SHARE", quota.DefaultMaxSharePercent, 1, 50)
}

// sharedRatePerMinute is the smallest per-minute budget of the upstreams
// every caller's calls share (0: none): the gateway's rate limits, except
// the Genesys one in AUTH_MODE=genesys, where each caller's calls go out
// with its own token and so under its own Genesys budget.
func (c *Config) sharedRatePerMinute() int {
	shared := c.UsergroupResilience.RatePerMinute
	if g := c.GenesysResilience.RatePerMinute; c.AuthMode != auth.ModeGenesys && g > 0 && (shared == 0 || g < shared) {
		shared = g
	}
	return shared
}

// permissionShape is a Genesys permission, domain:entity:action, where a
// segment may be "*".
var permissionShape = regexp.MustCompile(`^[A-Za-z0-9_*-]+:[A-Za-z0-9_*-]+:[A-Za-z0-9_*-]+$`)

// defaultCallerRatePerMinute is each caller's budget of upstream calls a
// minute outside demo mode: two fifths of the Genesys client-credentials
// budget of 300, so that one busy caller always leaves most of it to the
// others, while a page of 25 groups with their members (26 calls) still
// fits four times a minute.
const defaultCallerRatePerMinute = 120

func (c *Config) loadLogging(getenv func(string) string, fail func(string, string, ...any)) {
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		fail("LOG_LEVEL", "must be debug, info, warn or error")
	}
	switch f := or(getenv("LOG_FORMAT"), "json"); f {
	case "json", "text":
		c.LogJSON = f == "json"
	default:
		fail("LOG_FORMAT", "must be json or text")
	}
}

// loadLimits reads the GraphQL request limits (GRAPHQL_MAX_*).
func (c *Config) loadLimits(getenv func(string) string, fail func(string, string, ...any)) {
	d := guard.DefaultLimits()
	c.Limits = guard.Limits{
		MaxBodyBytes:        int64(intVar(getenv, fail, "GRAPHQL_MAX_BODY_BYTES", int(d.MaxBodyBytes), 1<<10, 64<<20)),
		MaxTokens:           intVar(getenv, fail, "GRAPHQL_MAX_TOKENS", d.MaxTokens, 100, 1_000_000),
		MaxDepth:            intVar(getenv, fail, "GRAPHQL_MAX_DEPTH", d.MaxDepth, 2, 1000),
		MaxAliases:          intVar(getenv, fail, "GRAPHQL_MAX_ALIASES", d.MaxAliases, 0, 100_000),
		MaxMutationAliases:  intVar(getenv, fail, "GRAPHQL_MAX_MUTATION_ALIASES", d.MaxMutationAliases, 0, 1000),
		MaxRootFields:       intVar(getenv, fail, "GRAPHQL_MAX_ROOT_FIELDS", d.MaxRootFields, 1, 1000),
		MaxDirectives:       intVar(getenv, fail, "GRAPHQL_MAX_DIRECTIVES", d.MaxDirectives, 0, 100_000),
		MaxFieldsPerSet:     intVar(getenv, fail, "GRAPHQL_MAX_FIELDS_PER_SET", d.MaxFieldsPerSet, 1, 100_000),
		MaxDuplicateFields:  intVar(getenv, fail, "GRAPHQL_MAX_DUPLICATE_FIELDS", d.MaxDuplicateFields, 1, 100_000),
		MaxSelections:       intVar(getenv, fail, "GRAPHQL_MAX_SELECTIONS", d.MaxSelections, 1, 1_000_000),
		MaxMergeComparisons: intVar(getenv, fail, "GRAPHQL_MAX_MERGE_COMPARISONS", d.MaxMergeComparisons, 1, 100_000_000),
		MaxComplexity:       intVar(getenv, fail, "GRAPHQL_MAX_COMPLEXITY", d.MaxComplexity, 1, 100_000_000),
	}
}

// Admission defaults (docs/limits.md, "Query and HTTP limits").
const (
	// defaultMaxInFlight lets a burst of a couple of hundred concurrent
	// requests through (most of a request's time is spent waiting on an
	// upstream: 200 at once at token expiry is a hardening case), while a
	// flood that would only queue behind the upstream limits (32 calls in
	// flight each) is shed.
	defaultMaxInFlight = 256
	// defaultQueueWait is how long a request waits for a slot before 503.
	defaultQueueWait = 100 * time.Millisecond
	// defaultMaxBodyBytesInFlight holds 32 bodies at the default 256 KiB
	// cap (thousands of ordinary ones): 100 concurrent maximal bodies
	// raised the RSS by 199 MiB (red team case 58).
	defaultMaxBodyBytesInFlight = 8 << 20
	// defaultCallerRequestsPerMinute is 10 requests a second per caller,
	// in bursts of 60, outside demo mode.
	defaultCallerRequestsPerMinute = 600
)

// loadAdmission reads the load-shedding and per-caller request limits;
// the body budget defaults to at least one body at the cap.
func (c *Config) loadAdmission(getenv func(string) string, fail func(string, string, ...any)) {
	c.Shed = guard.ShedOptions{
		MaxInFlight: intVar(getenv, fail, "GATEWAY_MAX_IN_FLIGHT", defaultMaxInFlight, 1, 1_000_000),
		QueueWait:   durationVar(getenv, fail, "GATEWAY_QUEUE_WAIT", defaultQueueWait, 10*time.Second),
		MaxBodyBytesInFlight: int64(intVar(getenv, fail, "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT",
			max(defaultMaxBodyBytesInFlight, int(c.Limits.MaxBodyBytes)), int(c.Limits.MaxBodyBytes), 1<<40)),
		MaxBodyBytes: c.Limits.MaxBodyBytes,
	}
	def := defaultCallerRequestsPerMinute
	if c.Demo {
		def = 0
	}
	c.CallerRequestsPerMinute = intVar(getenv, fail, "GATEWAY_CALLER_REQUESTS_PER_MINUTE", def, 0, 1e9)
}

// maxOperationTimeout keeps the operation deadline inside the server's
// write timeout, so the answer can still be written.
const maxOperationTimeout = writeTimeout - 5*time.Second

// defaultMaxReadWait is how long a read waits at most for a spent upstream
// budget before it is refused (docs/batching.md, "Caching and the upstream
// budget", says why).
const defaultMaxReadWait = 2 * time.Second

// loadResilience reads the upstream resilience settings. In demo mode the
// rate limiters are off unless set: the emulators have no budget to protect.
func (c *Config) loadResilience(getenv func(string) string, fail func(string, string, ...any)) {
	c.OperationTimeout = durationVar(getenv, fail, "UPSTREAM_OPERATION_TIMEOUT", 30*time.Second, maxOperationTimeout)
	c.AttemptTimeout = durationVar(getenv, fail, "UPSTREAM_ATTEMPT_TIMEOUT", 10*time.Second, time.Minute)
	r := upstream.DefaultResilienceOptions(upstream.Genesys)
	r.MaxRetries = intVar(getenv, fail, "UPSTREAM_MAX_RETRIES", r.MaxRetries, 0, 5)
	r.MaxConcurrency = intVar(getenv, fail, "UPSTREAM_MAX_CONCURRENCY", r.MaxConcurrency, 1, 1024)
	r.BreakerFailures = intVar(getenv, fail, "UPSTREAM_BREAKER_FAILURES", r.BreakerFailures, 0, 1000)
	r.BreakerOpenTimeout = durationVar(getenv, fail, "UPSTREAM_BREAKER_OPEN_TIMEOUT", r.BreakerOpenTimeout, 10*time.Minute)
	r.MaxReadWait = durationVar(getenv, fail, "UPSTREAM_RATE_LIMIT_MAX_WAIT", defaultMaxReadWait, maxOperationTimeout)
	genesysRate, usergroupRate := upstream.DefaultGenesysRatePerMinute, upstream.DefaultUsergroupsRatePerMinute
	if c.Demo {
		genesysRate, usergroupRate = 0, 0
	}
	c.GenesysResilience, c.UsergroupResilience = r, r
	c.GenesysResilience.RatePerMinute = intVar(getenv, fail, "GENESYS_RATE_LIMIT_PER_MINUTE", genesysRate, 0, 1e9)
	c.UsergroupResilience.RatePerMinute = intVar(getenv, fail, "USERGROUP_RATE_LIMIT_PER_MINUTE", usergroupRate, 0, 1e9)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func required(fail func(string, string, ...any), name, v string) {
	if v == "" {
		fail(name, "is required")
	}
}

func checkURL(fail func(string, string, ...any), name, v string) {
	if v == "" {
		fail(name, "is required")
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		fail(name, "must be an absolute http(s) URL without query or credentials")
	}
}

// maxDeleteConfirmTimeout is the largest GATEWAY_DELETE_CONFIRM_TIMEOUT:
// well inside the operation deadline, which bounds it too.
const maxDeleteConfirmTimeout = 20 * time.Second

// maxMemberIDsLimit is the largest GATEWAY_MAX_MEMBER_IDS: 200 member
// calls of 50 ids, which is about what fits in the operation's deadline.
const maxMemberIDsLimit = 10_000

func boolVar(getenv func(string) string, fail func(string, string, ...any), name string, def bool) bool {
	v := getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		fail(name, "must be true or false")
	}
	return b
}

func intVar(getenv func(string) string, fail func(string, string, ...any), name string, def, lo, hi int) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		fail(name, "must be an integer from %d to %d", lo, hi)
		return def
	}
	return n
}

func durationVar(getenv func(string) string, fail func(string, string, ...any), name string, def, hi time.Duration) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > hi {
		fail(name, "must be a duration above 0s and at most %s, e.g. 5s", hi)
		return def
	}
	return d
}

// cacheDuration reads a duration of the read cache: 0s (off) to 1h.
func cacheDuration(getenv func(string) string, fail func(string, string, ...any), name string, def time.Duration) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Hour {
		fail(name, "must be a duration between 0s (off) and 1h, e.g. 5s")
		return def
	}
	return d
}
