package apicache

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrPending reports that the data was not ready before the caller's
// deadline: the call goes on and fills the cache, and the caller shows what
// it has (stale data with its age, or a loading state) and asks again.
var ErrPending = errors.New("the partner API has not answered yet")

// Key names one cached answer: which credential asked which action with
// which parameters.
type Key struct {
	Credential string // the SecretId the call is made with
	Action     string
	Params     string // the request's parameters in a canonical form
}

// Entry is one cached answer.
type Entry struct {
	Value     any       // the answer of the last successful call; nil before one
	FetchedAt time.Time // when that answer arrived; zero before one
	// Err is the last call's failure while it is remembered, so that a
	// failing API is not called again on every view.
	Err   error
	ErrAt time.Time
}

// Options configures a Cache; zero fields take the defaults.
type Options struct {
	Now         func() time.Time // the clock; time.Now
	MaxEntries  int              // entries kept before the oldest are dropped; 10,000
	Wait        time.Duration    // how long a person waits for a call before seeing what is cached; 3 s
	CallTimeout time.Duration    // how long a call may take in all; 60 s
	// RememberError is how long a failure stands before the next call; 15 s.
	RememberError time.Duration
	// MinRefresh is the shortest interval between two forced refreshes of
	// one key: clicks within it share the last answer; 2 s.
	MinRefresh time.Duration
}

// Fetch makes the call behind a key.
type Fetch func(ctx context.Context) (any, error)

// Cache holds partner API answers in memory and coalesces their calls.
type Cache struct {
	opts Options

	mu      sync.Mutex
	entries map[Key]*Entry
	flights map[Key]*flight
	calls   int64 // calls started, for tests and metrics
}

// flight is one call in progress; done is closed when entry holds its result.
type flight struct {
	done  chan struct{}
	entry Entry
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10000
	}
	if opts.Wait <= 0 {
		opts.Wait = 3 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Minute
	}
	if opts.RememberError <= 0 {
		opts.RememberError = 15 * time.Second
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = 2 * time.Second
	}
	return &Cache{opts: opts, entries: map[Key]*Entry{}, flights: map[Key]*flight{}}
}

// Now returns the cache's clock reading, so callers judge ages by the same clock.
func (c *Cache) Now() time.Time { return c.opts.Now() }

// Peek returns what the cache holds for key without calling anything.
func (c *Cache) Peek(key Key) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Get returns the answer for key: the cached one while it is fresh for its
// kind (or while a failure is remembered), else the answer of a call that
// every concurrent caller of the key shares. It waits for the call until
// ctx ends or the cache's Wait passes; then it returns what it holds with
// ErrPending, and the call goes on to fill the cache.
func (c *Cache) Get(ctx context.Context, key Key, kind Kind, fetch Fetch) (Entry, error) {
	c.mu.Lock()
	now := c.opts.Now()
	if e, ok := c.entries[key]; ok {
		if e.Err != nil && now.Sub(e.ErrAt) < c.opts.RememberError {
			c.mu.Unlock()
			return *e, e.Err
		}
		if e.Err == nil && !Stale(kind, e.FetchedAt, now) {
			c.mu.Unlock()
			return *e, nil
		}
	}
	f := c.joinLocked(ctx, key, fetch)
	c.mu.Unlock()
	return c.await(ctx, key, f)
}

// Refresh forces a call for key, except that everyone who asks while a call
// is in flight, or within MinRefresh of the last answer, shares that one:
// ten people pressing Refresh together cost one call.
func (c *Cache) Refresh(ctx context.Context, key Key, fetch Fetch) (Entry, error) {
	c.mu.Lock()
	now := c.opts.Now()
	if e, ok := c.entries[key]; ok && c.flights[key] == nil {
		last := e.FetchedAt
		if e.ErrAt.After(last) {
			last = e.ErrAt
		}
		if now.Sub(last) < c.opts.MinRefresh {
			c.mu.Unlock()
			return *e, e.Err
		}
	}
	f := c.joinLocked(ctx, key, fetch)
	c.mu.Unlock()
	return c.await(ctx, key, f)
}

// joinLocked returns the call in flight for key, starting one when there is
// none. The call runs detached from ctx (keeping its values, such as the
// API language and priority), so a caller who gives up does not cancel it
// for the others.
func (c *Cache) joinLocked(ctx context.Context, key Key, fetch Fetch) *flight {
	if f, ok := c.flights[key]; ok {
		return f
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.calls++
	go func() {
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CallTimeout)
		defer cancel()
		v, err := fetch(callCtx)
		c.mu.Lock()
		defer c.mu.Unlock()
		e := Entry{}
		if old, ok := c.entries[key]; ok {
			e = *old
		}
		if err != nil {
			e.Err, e.ErrAt = err, c.opts.Now()
		} else {
			e = Entry{Value: v, FetchedAt: c.opts.Now()}
		}
		c.entries[key] = &e
		c.evictLocked()
		delete(c.flights, key)
		f.entry = e
		close(f.done)
	}()
	return f
}

// await waits for a call, at most until ctx ends or Wait passes.
func (c *Cache) await(ctx context.Context, key Key, f *flight) (Entry, error) {
	timer := time.NewTimer(c.opts.Wait)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.entry, f.entry.Err
	case <-ctx.Done():
	case <-timer.C:
	}
	e, _ := c.Peek(key)
	return e, ErrPending
}

// evictLocked drops the oldest tenth of the entries when there are too many.
func (c *Cache) evictLocked() {
	if len(c.entries) <= c.opts.MaxEntries {
		return
	}
	type aged struct {
		key Key
		at  time.Time
	}
	all := make([]aged, 0, len(c.entries))
	for k, e := range c.entries {
		at := e.FetchedAt
		if e.ErrAt.After(at) {
			at = e.ErrAt
		}
		all = append(all, aged{k, at})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.at.Compare(b.at) })
	drop := len(c.entries) - c.opts.MaxEntries + c.opts.MaxEntries/10
	for _, a := range all[:drop] {
		delete(c.entries, a.key)
	}
}

// Invalidate forgets every entry whose key matches, so the next view calls
// again: a write invalidates what it changed.
func (c *Cache) Invalidate(match func(Key) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if match(k) {
			delete(c.entries, k)
		}
	}
}

// InvalidateAction forgets every entry of an action, for every credential.
func (c *Cache) InvalidateAction(action string) {
	c.Invalidate(func(k Key) bool { return k.Action == action })
}

// Calls returns how many calls the cache has started.
func (c *Cache) Calls() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
