package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits of the client-side rate limiter.
const (
	// maxBurst caps a bucket's burst; a bucket of n calls per minute allows
	// a burst of n/6 (at least 1, at most maxBurst) and refills at n-burst
	// per minute, so that no 60-second window holds more than n calls.
	maxBurst = 50
	// maxBuckets bounds the credentials tracked at once; beyond it, idle
	// buckets are forgotten, then new credentials share one bucket.
	maxBuckets = 1024
	// bucketIdle is how long a bucket must be unused to be forgotten: long
	// enough to have refilled, so forgetting it changes nothing.
	bucketIdle = 2 * time.Minute
	// maxPause caps a pause asked for by Retry-After or
	// inin-ratelimit-reset (the Genesys SDK gives up beyond 180 s).
	maxPause = 3 * time.Minute
	// writeReserveShare: one burst-th of this share of a bucket is kept for
	// writes (10 calls of the burst of 50 at 300 a minute): a read waits
	// while the bucket holds no more than that, so reads never starve the
	// mutations of the same credential.
	writeReserveShare = 5
)

// Genesys rate-limit headers (reference §8.3; their presence on every
// endpoint and their exact meaning are unconfirmed).
const (
	headerRateAllowed = "inin-ratelimit-allowed"
	headerRateCount   = "inin-ratelimit-count"
	headerRateReset   = "inin-ratelimit-reset"
)

// limiter keeps one token bucket per upstream credential: per value of the
// Authorization header, identified by its SHA-256 (the value itself is
// never kept). A nil *limiter lets everything through.
type limiter struct {
	perMinute int

	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow *bucket
}

// newLimiter returns a limiter of perMinute calls per credential, or nil
// (no limit) when perMinute <= 0.
func newLimiter(perMinute int) *limiter {
	if perMinute <= 0 {
		return nil
	}
	return &limiter{perMinute: perMinute, buckets: map[string]*bucket{}, overflow: newBucket(perMinute)}
}

// bucket returns the bucket of the credential sent as authorization ("" for
// an upstream that authenticates otherwise: one bucket for the client).
func (l *limiter) bucket(authorization string) *bucket {
	if l == nil {
		return nil
	}
	key := ""
	if authorization != "" {
		sum := sha256.Sum256([]byte(authorization))
		key = hex.EncodeToString(sum[:16])
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		if len(l.buckets) >= maxBuckets {
			return l.overflow
		}
		b = newBucket(l.perMinute)
		l.buckets[key] = b
	}
	b.lastUsed = now
	return b
}

// sweep forgets the buckets unused for bucketIdle. l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.lastUsed) > bucketIdle {
			delete(l.buckets, k)
		}
	}
}

// bucket is the token bucket of one credential, adapted to what the
// upstream reports. A nil *bucket lets everything through.
type bucket struct {
	lim        *rate.Limiter
	configured int       // calls per minute, as configured
	lastUsed   time.Time // guarded by limiter.mu

	mu      sync.Mutex
	allowed int // calls per minute in force: min(configured, reported)
	// waitingReads counts the reads waiting for the bucket to hold more
	// than the write reserve (takeRead).
	waitingReads int
	pausedUntil  time.Time
}

func newBucket(perMinute int) *bucket {
	r, burst := shape(perMinute)
	return &bucket{lim: rate.NewLimiter(r, burst), configured: perMinute, allowed: perMinute}
}

// shape is the refill rate and burst of perMinute calls per minute.
func shape(perMinute int) (rate.Limit, int) {
	burst := min(max(perMinute/6, 1), maxBurst)
	refill := max(perMinute-burst, 1)
	return rate.Limit(float64(refill) / 60), burst
}

// waitError is a wait for the limiter that does not fit the deadline.
type waitError struct{ retryAfter time.Duration }

func (e *waitError) Error() string { return "rate limit: the wait does not fit the deadline" }

// wait blocks until the bucket lets one call through and returns how long
// it held the call back. A read (write false) takes only a call the bucket
// holds beyond its write reserve (takeRead), so reads never spend the last
// calls a write needs nor queue ahead of one; with noWait, a read that
// would wait at all is refused at once (it has a stale answer to fall back
// on). When the wait does not fit ctx's deadline it returns a *waitError at
// once, without waiting (any pause already waited is still returned).
func (b *bucket) wait(ctx context.Context, write, noWait bool) (time.Duration, error) {
	if b == nil {
		return 0, nil
	}
	pause := b.pause(time.Now())
	if pause > 0 {
		if noWait || !fits(ctx, pause) {
			return 0, &waitError{retryAfter: pause}
		}
		if err := sleep(ctx, pause); err != nil {
			return 0, err
		}
	}
	if !write {
		waited, err := b.takeRead(ctx, noWait)
		return pause + waited, err
	}
	r := b.lim.Reserve()
	d := r.Delay()
	if !fits(ctx, d) {
		r.Cancel()
		return pause, &waitError{retryAfter: d}
	}
	if err := sleep(ctx, d); err != nil {
		r.Cancel()
		return pause, err
	}
	return pause + d, nil
}

// takeRead takes one call for a read once the bucket holds more than its
// write reserve, waiting (at most maxUnboundedWait in all, and within ctx's
// deadline) until it should. A read that would wait longer than that,
// counting the reads already waiting ahead of it, is refused at once.
func (b *bucket) takeRead(ctx context.Context, noWait bool) (time.Duration, error) {
	var waited time.Duration
	for n := 0; ; n++ {
		d := b.takeReadNow(time.Now(), n == 0)
		if d == 0 {
			return waited, nil
		}
		if noWait || !fits(ctx, d) || waited+d > maxUnboundedWait {
			b.doneWaiting()
			return waited, &waitError{retryAfter: d}
		}
		if err := sleep(ctx, d); err != nil {
			b.doneWaiting()
			return waited, err
		}
		waited += d
	}
}

// takeReadNow takes one call beyond the write reserve when the bucket holds
// it at now and returns 0, or returns how long until it should, counting
// the reads waiting ahead (a first try that must wait joins them).
func (b *bucket) takeReadNow(now time.Time, first bool) time.Duration {
	b.mu.Lock() // one read at a time checks and takes
	defer b.mu.Unlock()
	ahead := b.waitingReads
	if !first {
		ahead-- // this read is one of them
	}
	need := float64(b.lim.Burst()/writeReserveShare+1+ahead) - b.lim.TokensAt(now)
	if need <= float64(ahead) && b.lim.AllowN(now, 1) {
		if !first {
			b.waitingReads--
		}
		return 0
	}
	if first {
		b.waitingReads++
	}
	return max(time.Duration(need/float64(b.lim.Limit())*float64(time.Second)), time.Millisecond)
}

// doneWaiting forgets a read that waited and gave up.
func (b *bucket) doneWaiting() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitingReads = max(b.waitingReads-1, 0)
}

// pause is what is left of a pause the upstream asked for.
func (b *bucket) pause(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.pausedUntil.Sub(now), 0)
}

// observe adapts the bucket to an answer: the inin-ratelimit-* headers
// lower the rate to what the upstream allows (never above the configured
// rate) and pause the bucket until the window resets once the count reaches
// the allowance; a 429 pauses it for its Retry-After.
func (b *bucket) observe(resp *http.Response, now time.Time) {
	if b == nil {
		return
	}
	h := resp.Header
	allowed, _ := strconv.Atoi(h.Get(headerRateAllowed))
	count, _ := strconv.Atoi(h.Get(headerRateCount))
	reset, _ := strconv.Atoi(h.Get(headerRateReset))
	b.mu.Lock()
	defer b.mu.Unlock()
	if allowed > 0 {
		b.setAllowed(min(allowed, b.configured), now)
		if count >= allowed && reset > 0 {
			b.pauseFor(time.Duration(reset)*time.Second, now)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		b.pauseFor(RetryAfter(h, now), now)
	}
}

// setAllowed puts perMinute in force. b.mu is held.
func (b *bucket) setAllowed(perMinute int, now time.Time) {
	if perMinute == b.allowed {
		return
	}
	r, burst := shape(perMinute)
	b.lim.SetLimitAt(now, r)
	b.lim.SetBurstAt(now, burst)
	b.allowed = perMinute
}

// pauseFor holds calls back for d (capped at maxPause) from now, unless a
// longer pause is already in force. b.mu is held.
func (b *bucket) pauseFor(d time.Duration, now time.Time) {
	until := now.Add(min(d, maxPause))
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}
