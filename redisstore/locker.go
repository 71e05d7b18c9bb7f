package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/bsm/redislock"
)

// Lock retry timing: how often a waiter asks again for a held lock.
const (
	lockRetryMin = 5 * time.Millisecond
	lockRetryMax = 100 * time.Millisecond
)

// ErrLockLost is returned by a Lock's Check once the lock is no longer held.
var ErrLockLost = errors.New("redisstore: the lock expired or was taken over")

// Locker hands out locks in Redis (github.com/bsm/redislock: SET NX PX
// with a random token, released and checked only by that token), so that
// one key's critical sections never overlap across replicas.
type Locker struct {
	s  *Store
	rl *redislock.Client
}

// Locker returns the shared locker.
func (s *Store) Locker() *Locker { return &Locker{s: s, rl: redislock.New(s.client)} }

// Lock is a held lock.
type Lock struct {
	s    *Store
	lock *redislock.Lock
}

// noDeadlineHold is how long a lock taken under a context without a
// deadline is held at most (before margin).
const noDeadlineHold = time.Minute

// Lock waits until key is free or ctx ends, and takes it. The lock's TTL is
// the time left until ctx's deadline (noDeadlineHold without one) plus
// margin, so it outlives everything the holder does under ctx and expires
// on its own when the holder dies.
func (l *Locker) Lock(ctx context.Context, key string, margin time.Duration) (*Lock, error) {
	ttl := margin + noDeadlineHold
	if d, ok := ctx.Deadline(); ok {
		ttl = margin + time.Until(d)
	}
	lock, err := l.rl.Obtain(ctx, "gw:lock:"+key, ttl, &redislock.Options{
		RetryStrategy: redislock.ExponentialBackoff(lockRetryMin, lockRetryMax)})
	if err != nil {
		return nil, err
	}
	return &Lock{s: l.s, lock: lock}, nil
}

// Check is the fencing check before a write: it fails with ErrLockLost
// unless the lock is still held by this holder.
func (l *Lock) Check(ctx context.Context) error {
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	ttl, err := l.lock.TTL(ctx)
	if err != nil {
		return err
	}
	if ttl <= 0 {
		return ErrLockLost
	}
	return nil
}

// Unlock releases the lock (a lock already expired is left alone).
func (l *Lock) Unlock(ctx context.Context) {
	ctx, cancel := l.s.bound(context.WithoutCancel(ctx))
	defer cancel()
	_ = l.lock.Release(ctx)
}
