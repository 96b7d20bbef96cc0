package auth

import (
	"sync"
	"time"
)

// Throttle slows down password guessing: after a few failures for one
// account, or from one client address, further attempts are refused for a
// while that doubles with each further failure. It keeps its counts in
// memory; a restart forgets them, which costs an attacker a restart.
type Throttle struct {
	now       func() time.Time
	free      int           // failures that lock an account
	base, max time.Duration // first and longest lock

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures    int
	lockedUntil time.Time
	lastFailure time.Time
}

// NewThrottle returns a throttle that locks an account after 5 failures and
// an address after 20, for 30 s, doubling with each further failure up to
// 15 min. now is the clock.
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{now: now, free: 5, base: 30 * time.Second, max: 15 * time.Minute, entries: map[string]*throttleEntry{}}
}

func accountKey(username string) string { return "u:" + username }
func addressKey(addr string) string     { return "a:" + addr }

// Check reports whether a login attempt for username from addr may proceed,
// and if not, how long to wait.
func (t *Throttle) Check(username, addr string) (ok bool, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []string{accountKey(username), addressKey(addr)} {
		if e := t.entries[k]; e != nil && now.Before(e.lockedUntil) {
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	return wait == 0, wait
}

// Failed records a failed attempt.
func (t *Throttle) Failed(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.fail(accountKey(username), t.free, now)
	// An address may be shared by an office behind one gateway; give it more room.
	t.fail(addressKey(addr), t.free*4, now)
	t.forgetOld(now)
}

func (t *Throttle) fail(key string, free int, now time.Time) {
	e := t.entries[key]
	if e == nil {
		e = &throttleEntry{}
		t.entries[key] = e
	}
	e.failures++
	e.lastFailure = now
	if over := e.failures - free + 1; over > 0 {
		lock := t.base << min(over-1, 20)
		e.lockedUntil = now.Add(min(lock, t.max))
	}
}

// Succeeded clears the account's failures; the address keeps its count, so
// one valid login cannot launder guesses at other accounts.
func (t *Throttle) Succeeded(username string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, accountKey(username))
}

// forgetOld drops entries idle for a day, bounding memory.
func (t *Throttle) forgetOld(now time.Time) {
	if len(t.entries) < 10000 {
		return
	}
	for k, e := range t.entries {
		if now.Sub(e.lastFailure) > 24*time.Hour {
			delete(t.entries, k)
		}
	}
}
