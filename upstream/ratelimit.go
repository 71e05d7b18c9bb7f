package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
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

// SharedLimiter is a store of token buckets shared by the replicas of the
// gateway, each of perMinute calls a minute with bursts of up to burst.
type SharedLimiter interface {
	// Take takes n calls from key's bucket and returns 0, or takes nothing
	// and returns how long to wait when the bucket cannot pay now.
	Take(ctx context.Context, key string, perMinute, burst, n int) (time.Duration, error)
}

// maxSharedTakes bounds the attempts of one call to take from a shared
// bucket, each after the wait the previous one was told (plus up to a
// quarter more, so that waiters told the same wait do not all ask at
// once). A shared bucket cannot reserve a turn as the local one does:
// waiters race for each refill, and the deadline usually ends the waiting
// long before this bound does.
const maxSharedTakes = 100

// limiter keeps one token bucket per upstream credential: per value of the
// Authorization header, identified by its SHA-256 (the value itself is
// never kept). A nil *limiter lets everything through.
type limiter struct {
	name      string
	perMinute int
	shared    SharedLimiter

	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow *bucket
}

// newLimiter returns a limiter of perMinute calls per credential of the
// upstream called name, or nil (no limit) when perMinute <= 0. With shared,
// the buckets are counted there, and locally while it fails.
func newLimiter(name string, perMinute int, shared SharedLimiter) *limiter {
	if perMinute <= 0 {
		return nil
	}
	l := &limiter{name: name, perMinute: perMinute, shared: shared, buckets: map[string]*bucket{}}
	l.overflow = l.newBucket("overflow")
	return l
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
		b = l.newBucket(key)
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
	// shared and sharedKey are the bucket's counterpart for all replicas.
	shared    SharedLimiter
	sharedKey string

	mu      sync.Mutex
	allowed int // calls per minute in force: min(configured, reported)
	// waitingReads counts the reads waiting for the bucket to hold more
	// than the write reserve (takeRead).
	waitingReads int
	pausedUntil  time.Time
}

// newBucket returns the bucket of the credential identified by key.
func (l *limiter) newBucket(key string) *bucket {
	r, burst := shape(l.perMinute)
	return &bucket{lim: rate.NewLimiter(r, burst), configured: l.perMinute, allowed: l.perMinute,
		shared: l.shared, sharedKey: "upstream:" + l.name + ":" + key}
}

// shape is the refill rate and burst of perMinute calls per minute.
func shape(perMinute int) (rate.Limit, int) {
	refill, burst := shapePerMinute(perMinute)
	return rate.Limit(float64(refill) / 60), burst
}

// shapePerMinute is shape's refill in calls per minute.
func shapePerMinute(perMinute int) (refill, burst int) {
	burst = min(max(perMinute/6, 1), maxBurst)
	return max(perMinute-burst, 1), burst
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
		if err := Sleep(ctx, pause); err != nil {
			return 0, err
		}
	}
	if waited, ok, err := b.waitShared(ctx, write, noWait); ok {
		return pause + waited, err
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
	if err := Sleep(ctx, d); err != nil {
		r.Cancel()
		return pause, err
	}
	return pause + d, nil
}

// waitShared is wait's take from the shared buckets; ok is false when there
// are none or Redis failed (the local bucket then counts). With noWait a
// take that would wait is refused at once. A GCRA in Redis cannot take only
// beyond a level, so the reserves of the local bucket are rates here: a
// read first takes from a bucket of the budget less its write reserve, a
// read that has a stale answer first from one less twice that, and every
// call then from the whole budget (docs/batching.md, "Caching and the
// upstream budget").
func (b *bucket) waitShared(ctx context.Context, write, noWait bool) (waited time.Duration, ok bool, err error) {
	if b.shared == nil {
		return 0, false, nil
	}
	b.mu.Lock()
	refill, burst := shapePerMinute(b.allowed)
	b.mu.Unlock()
	type tier struct {
		key    string
		refill int
		burst  int
	}
	reserve := burst / writeReserveShare // as the local bucket's: none for a burst under 5
	reserved := func(suffix string, shares int) tier {
		return tier{b.sharedKey + suffix, max(refill-refill*shares/writeReserveShare, 1), max(burst-reserve*shares, 1)}
	}
	var tiers []tier
	if noWait && !write && reserve > 0 {
		tiers = append(tiers, reserved(":refresh", 2))
	}
	if !write && reserve > 0 {
		tiers = append(tiers, reserved(":reads", 1))
	}
	tiers = append(tiers, tier{b.sharedKey, refill, burst})
	for _, t := range tiers {
		d, ok, err := b.takeShared(ctx, t.key, t.refill, t.burst, noWait)
		waited += d
		if !ok || err != nil {
			return waited, ok, err
		}
	}
	return waited, true, nil
}

// takeShared takes one call from the shared bucket key, waiting (unless
// noWait) as long as ctx's deadline allows.
func (b *bucket) takeShared(ctx context.Context, key string, refill, burst int, noWait bool) (waited time.Duration, ok bool, err error) {
	for range maxSharedTakes {
		d, err := b.shared.Take(ctx, key, refill, burst, 1)
		switch {
		case err != nil:
			return waited, false, nil
		case d == 0:
			return waited, true, nil
		case noWait || !fits(ctx, d):
			return waited, true, &waitError{retryAfter: d}
		}
		d += rand.N(d/4 + 1)
		if err := Sleep(ctx, d); err != nil {
			return waited, true, err
		}
		waited += d
	}
	return waited, true, &waitError{retryAfter: time.Second}
}

// takeRead takes one call for a read once the bucket holds more than its
// write reserve, waiting (at most maxUnboundedWait in all, and within ctx's
// deadline) until it should. A read that would wait longer than that,
// counting the reads already waiting ahead of it, is refused at once.
func (b *bucket) takeRead(ctx context.Context, noWait bool) (time.Duration, error) {
	var waited time.Duration
	for n := 0; ; n++ {
		d := b.takeReadNow(time.Now(), n == 0, noWait)
		if d == 0 {
			return waited, nil
		}
		if noWait || !fits(ctx, d) || waited+d > maxUnboundedWait {
			b.doneWaiting()
			return waited, &waitError{retryAfter: d}
		}
		if err := Sleep(ctx, d); err != nil {
			b.doneWaiting()
			return waited, err
		}
		waited += d
	}
}

// takeReadNow takes one call beyond the write reserve when the bucket holds
// it at now and returns 0, or returns how long until it should, counting
// the reads waiting ahead (a first try that must wait joins them). A read
// that has a stale answer to fall back on (stale) takes a call only beyond
// twice the reserve: while the budget runs low, the calls go to the reads
// that have nothing to serve, and kept answers are served marked stale.
func (b *bucket) takeReadNow(now time.Time, first, stale bool) time.Duration {
	b.mu.Lock() // one read at a time checks and takes
	defer b.mu.Unlock()
	ahead := b.waitingReads
	if !first {
		ahead-- // this read is one of them
	}
	reserve := b.lim.Burst() / writeReserveShare
	if stale {
		reserve *= 2
	}
	need := float64(reserve+1+ahead) - b.lim.TokensAt(now)
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
