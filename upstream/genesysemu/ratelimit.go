package genesysemu

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateWindow is the length of a rate-limit window.
const rateWindow = time.Minute

// limiter counts calls per token in fixed one-minute windows.
type limiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newLimiter() *limiter { return &limiter{windows: map[string]*window{}} }

// take counts one call of token at now and returns the calls in the current
// window and the time left in it.
func (l *limiter) take(token string, now time.Time) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	win := l.windows[token]
	if win == nil || now.Sub(win.start) >= rateWindow {
		win = &window{start: now}
		l.windows[token] = win
	}
	win.count++
	return win.count, rateWindow - now.Sub(win.start)
}

// limit sets the inin-ratelimit-* headers for the call and, when
// Options.RateLimit is set and exceeded, refuses it with the normalised 429.
func (s *Server) limit(w http.ResponseWriter, token string) error {
	count, left := s.limiter.take(token, s.now())
	allowed := defaultRateLimitReport
	if s.opts.RateLimit > 0 {
		allowed = s.opts.RateLimit
	}
	reset := strconv.Itoa(int((left + time.Second - 1) / time.Second))
	h := w.Header()
	h.Set("inin-ratelimit-count", strconv.Itoa(count))
	h.Set("inin-ratelimit-allowed", strconv.Itoa(allowed))
	h.Set("inin-ratelimit-reset", reset)
	if s.opts.RateLimit <= 0 || count <= allowed {
		return nil
	}
	h.Set("Retry-After", reset)
	return newError(http.StatusTooManyRequests, "too.many.requests.retry.after",
		"rate limit exceeded the maximum, retry the request in [%s] seconds", reset)
}
