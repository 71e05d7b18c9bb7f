package loaders

import (
	"context"
	"fmt"
	"sync"
)

// perKey is the loader of lookups the upstream cannot batch (members
// pages, jabber ids, user groups): each distinct key costs one call, which
// every asker of the key in the request shares, made at once in the
// asker's goroutine. A dataloader with a batch of one did the same with
// three goroutines, channels and a batch window per key: on a page of 25
// groups with their members that was 7 % of the gateway's CPU.
//
// As with load, a failed lookup is forgotten, so that a later ask (another
// field, a later mutation) calls again.
type perKey[K comparable, V any] struct {
	fetch func(context.Context, K) (V, error)
	// observe, when not nil, hears each call (a batch of one, for
	// Options.ObserveBatch).
	observe func()

	mu    sync.Mutex
	calls map[K]*keyCall[V]
}

// keyCall is one key's call; done closes when v and err are set.
type keyCall[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func newPerKey[K comparable, V any](o Options, name string, fetch func(context.Context, K) (V, error)) *perKey[K, V] {
	l := &perKey[K, V]{fetch: fetch, calls: map[K]*keyCall[V]{}}
	if o.ObserveBatch != nil {
		l.observe = func() { o.ObserveBatch(name, 1) }
	}
	return l
}

// Load returns the value of key, calling fetch unless a call for key is
// already made or under way.
func (l *perKey[K, V]) Load(ctx context.Context, key K) (V, error) {
	c, started := l.start(key)
	if started {
		l.run(ctx, key, c)
	} else {
		<-c.done
	}
	if c.err != nil {
		l.forget(key, c)
	}
	return c.v, c.err
}

// Prefetch starts the calls of keys that no call covers yet, each in its
// own goroutine, without waiting for them.
func (l *perKey[K, V]) Prefetch(ctx context.Context, keys []K) {
	for _, k := range keys {
		if c, started := l.start(k); started {
			goUpstream(func() { l.run(ctx, k, c) })
		}
	}
}

// pending returns the channel of key's call, nil when none was started.
func (l *perKey[K, V]) pending(key K) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.calls[key]; ok {
		return c.done
	}
	return nil
}

// start returns key's call, and true when the caller is to run it.
func (l *perKey[K, V]) start(key K) (*keyCall[V], bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.calls[key]; ok {
		return c, false
	}
	c := &keyCall[V]{done: make(chan struct{})}
	l.calls[key] = c
	return c, true
}

// run makes key's call; a panic in fetch is the call's error, as the
// dataloader made it.
func (l *perKey[K, V]) run(ctx context.Context, key K, c *keyCall[V]) {
	defer close(c.done)
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("panic in a loader: %v", p)
		}
	}()
	if l.observe != nil {
		l.observe()
	}
	c.v, c.err = l.fetch(ctx, key)
}

// forget drops key's call c (not a newer one).
func (l *perKey[K, V]) forget(key K, c *keyCall[V]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls[key] == c {
		delete(l.calls, key)
	}
}

// Clear drops what the loader knows of key.
func (l *perKey[K, V]) Clear(key K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.calls, key)
}

// ClearAll drops what the loader knows.
func (l *perKey[K, V]) ClearAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.calls)
}

// goUpstream runs f, which makes an upstream call, in a new goroutine
// whose stack first grows to its working size (growStack).
func goUpstream(f func()) {
	go func() {
		growStack()
		f()
	}()
}

// stackRoom is how much stack growStack makes room for.
const stackRoom = 8 << 10

// growStack makes the goroutine's stack grow to hold stackRoom bytes at
// once, while it holds only a frame or two: an upstream call goes about 60
// frames deep (loader, client, read sharing, resilience, telemetry,
// net/http), and a fresh goroutine's stack grew on the way, copying and
// adjusting every frame (copystack: 4-5 % of W3's CPU, 25 such goroutines
// a request: the prefetches, see goUpstream). Growing it first costs a copy of almost nothing; the stack
// is the size it would have reached anyway, and shrinks at GC as any.
//
//go:noinline
func growStack() byte {
	var room [stackRoom]byte
	return room[stackRoomUse]
}

// stackRoomUse is an index growStack reads, so the array is not optimized
// away.
var stackRoomUse = 0
