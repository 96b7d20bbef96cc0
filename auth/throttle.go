package auth

import (
	"slices"
	"sync"
	"time"
)

// Throttle slows down password guessing. It keys failures two ways:
//
//   - per account: after AccountFree failures the account is locked for
//     30 s, doubling with each further failure up to 15 min, from every
//     address;
//   - per client address: after AddressFree failures (many more, since an
//     office behind one gateway shares an address) the address is locked
//     the same way, whatever name it tries.
//
// So a person who mistypes is slowed down, one account cannot be guessed at
// from many addresses, and someone spraying user names from a shared
// gateway must fail AddressFree times before the others behind it are
// affected at all.
//
// An attempt is counted when it begins, before the slow password check, so
// twenty guesses sent at once for one account are not all checked: the
// attempts past the limit are refused before any hashing. A successful
// sign-in gives its attempt back.
//
// Counts live in memory, bounded to MaxEntries keys; a restart forgets
// them. Refused attempts are gathered per address into bursts (see
// TakeBursts) so that the audit log gets one row per address and window, not
// one per request.
type Throttle struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
	bursts  map[string]*Burst
}

// Throttle limits.
const (
	AccountFree = 5   // failures an account may have before it is locked
	AddressFree = 100 // failures an address may have before it is locked
	// MaxEntries bounds how many accounts and addresses the throttle
	// remembers; past it, the entries idle longest are forgotten.
	MaxEntries = 50000
	// BurstWindow is the span one audit row of refused attempts covers.
	BurstWindow = 10 * time.Minute
	// maxBurstNames is how many distinct names a burst remembers.
	maxBurstNames = 5
	// maxKeyLength bounds a remembered user name, in bytes.
	maxKeyLength = 64
	baseLock     = 30 * time.Second
	maxLock      = 15 * time.Minute
	forgetAfter  = 24 * time.Hour
)

type throttleEntry struct {
	failures    int
	lockedUntil time.Time
	lastFailure time.Time
}

// Burst is the refused sign-in attempts from one address within a window.
type Burst struct {
	Addr        string
	First, Last time.Time
	Count       int
	Names       []string // up to five distinct names tried, as typed (bounded)
}

// NewThrottle returns a throttle; now is the clock (time.Now when nil).
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{now: now, entries: map[string]*throttleEntry{}, bursts: map[string]*Burst{}}
}

// Attempt is a sign-in attempt that Begin let through. It counts as a
// failure unless Succeeded or Abandoned is called.
type Attempt struct {
	t                *Throttle
	account, address string
	settled          bool
}

func accountKey(username string) string {
	if len(username) > maxKeyLength {
		username = username[:maxKeyLength]
	}
	return "u:" + username
}

func addressKey(addr string) string { return "a:" + addr }

// Begin asks whether a sign-in attempt for username (case-folded by the
// caller) from addr may go ahead. When it may, the attempt is counted at
// once and returned; when not, ok is false and wait says for how long, and
// the refusal joins the address's burst.
func (t *Throttle) Begin(username, addr string) (a *Attempt, wait time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	acc, adr := accountKey(username), addressKey(addr)
	for _, k := range []string{acc, adr} {
		if e := t.entries[k]; e != nil && now.Before(e.lockedUntil) {
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	if wait > 0 {
		t.refusedLocked(username, addr, now)
		return nil, wait, false
	}
	t.failLocked(acc, AccountFree, now)
	t.failLocked(adr, AddressFree, now)
	return &Attempt{t: t, account: acc, address: adr}, 0, true
}

// Succeeded records that the attempt signed in: the account's failures are
// cleared and the address gets its attempt back.
func (a *Attempt) Succeeded() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.settled {
		return
	}
	a.settled = true
	delete(a.t.entries, a.account)
	a.t.giveBackLocked(a.address, AddressFree)
}

// Abandoned records that the attempt never checked a password (the portal
// was too busy): it counts against neither key.
func (a *Attempt) Abandoned() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.settled {
		return
	}
	a.settled = true
	a.t.giveBackLocked(a.account, AccountFree)
	a.t.giveBackLocked(a.address, AddressFree)
}

// Failed records that the password was wrong; the attempt was counted when
// it began, so this only settles it.
func (a *Attempt) Failed() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.settled = true
}

func (t *Throttle) failLocked(key string, free int, now time.Time) {
	e := t.entries[key]
	if e == nil {
		t.makeRoomLocked(now)
		e = &throttleEntry{}
		t.entries[key] = e
	}
	e.failures++
	e.lastFailure = now
	if over := e.failures - free + 1; over > 0 {
		lock := baseLock << min(over-1, 20)
		e.lockedUntil = now.Add(min(lock, maxLock))
	}
}

// giveBackLocked takes one failure back, lifting a lock it alone caused.
func (t *Throttle) giveBackLocked(key string, free int) {
	e := t.entries[key]
	if e == nil {
		return
	}
	e.failures--
	if e.failures <= 0 {
		delete(t.entries, key)
		return
	}
	if e.failures < free {
		e.lockedUntil = time.Time{}
	}
}

// makeRoomLocked keeps the table under MaxEntries: it forgets entries idle
// for a day, and if that is not enough, the tenth idle longest.
func (t *Throttle) makeRoomLocked(now time.Time) {
	if len(t.entries) < MaxEntries {
		return
	}
	for k, e := range t.entries {
		if now.Sub(e.lastFailure) > forgetAfter && !now.Before(e.lockedUntil) {
			delete(t.entries, k)
		}
	}
	if len(t.entries) < MaxEntries {
		return
	}
	type idle struct {
		key  string
		last time.Time
	}
	all := make([]idle, 0, len(t.entries))
	for k, e := range t.entries {
		all = append(all, idle{k, e.lastFailure})
	}
	slices.SortFunc(all, func(a, b idle) int { return a.last.Compare(b.last) })
	for _, x := range all[:len(all)/10+1] {
		delete(t.entries, x.key)
	}
}

// refusedLocked adds a refused attempt to its address's burst.
func (t *Throttle) refusedLocked(username, addr string, now time.Time) {
	b := t.bursts[addr]
	if b == nil {
		if len(t.bursts) >= MaxEntries {
			// An attacker rotating addresses shares one burst with the
			// other overflow, so the table stays bounded.
			addr = "*"
			b = t.bursts[addr]
		}
		if b == nil {
			b = &Burst{Addr: addr, First: now}
			t.bursts[addr] = b
		}
	}
	b.Count++
	b.Last = now
	if len(username) > maxKeyLength {
		username = username[:maxKeyLength]
	}
	if len(b.Names) < maxBurstNames && !slices.Contains(b.Names, username) {
		b.Names = append(b.Names, username)
	}
}

// TakeBursts returns and forgets the bursts whose window has ended at now,
// or every burst when all is true (at shutdown), oldest first.
func (t *Throttle) TakeBursts(all bool) []Burst {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var out []Burst
	for addr, b := range t.bursts {
		if all || now.Sub(b.First) >= BurstWindow {
			out = append(out, *b)
			delete(t.bursts, addr)
		}
	}
	slices.SortFunc(out, func(a, b Burst) int { return a.First.Compare(b.First) })
	return out
}

// Size returns how many accounts, addresses and bursts the throttle holds.
func (t *Throttle) Size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries) + len(t.bursts)
}
