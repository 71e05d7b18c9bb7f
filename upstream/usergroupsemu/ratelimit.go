package usergroupsemu

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// codeTooManyRequests is the ErrorCode of a call over Options.RateLimit.
const codeTooManyRequests = "TooManyRequests"

// rateWindow counts the calls of the integration key in fixed one-minute
// windows (Options.RateLimit; zero: no limit).
type rateWindow struct {
	limit int

	mu    sync.Mutex
	start time.Time
	count int
}

// take counts one call at now, or refuses it with a 429 and Retry-After
// when the window's calls are spent.
func (rw *rateWindow) take(w http.ResponseWriter, now time.Time) *failure {
	if rw.limit <= 0 {
		return nil
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if now.Sub(rw.start) >= time.Minute {
		rw.start, rw.count = now, 0
	}
	rw.count++
	if rw.count <= rw.limit {
		return nil
	}
	left := time.Minute - now.Sub(rw.start)
	w.Header().Set("Retry-After", strconv.Itoa(int((left+time.Second-1)/time.Second)))
	return newFailure(http.StatusTooManyRequests, codeTooManyRequests, "Too many requests for this integration key.")
}
