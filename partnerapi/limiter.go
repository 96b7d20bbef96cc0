package partnerapi

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Priority says who waits for a call: a person (Interactive) or a job
// (Background). Each token of a budget goes to the oldest interactive
// waiter first, so a click is never stuck behind a job's queue.
type Priority int

const (
	// Interactive is a person waiting for a page; it is the default.
	Interactive Priority = iota
	// Background is work no one is watching; it gets every token no
	// interactive caller wants.
	Background
)

type priorityKey struct{}

// WithPriority returns a context whose partner API calls wait at priority p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p == Background {
		return Background
	}
	return Interactive
}

// Limiters holds one budget per (credential, action) at the action's
// documented limit. Share one Limiters between every Client in a process so
// that no two clients of the same credential can together exceed a limit.
//
// Each budget's tokens come from a golang.org/x/time/rate limiter at the
// limit with a burst of one (the service counts per second and would refuse
// a burst arriving at the end of one second and the start of the next).
// The limiter cannot choose who gets the next token, so callers queue here
// in two FIFO queues and each token goes to the oldest interactive waiter,
// else to the oldest background one. The queue's next token is reserved
// when the previous one is handed out, so a timer that fires late does not
// push every later token back.
type Limiters struct {
	scale float64

	mu      sync.Mutex
	buckets map[limiterKey]*bucket
}

type limiterKey struct {
	secretId string
	action   string
}

// bucket hands out the tokens of one (credential, action). Its timer is
// armed only while someone waits; nothing runs while it is idle.
type bucket struct {
	perSecond float64
	interval  time.Duration // one token's time, for estimates
	lim       *rate.Limiter

	mu      sync.Mutex
	pending *rate.Reservation // the token reserved for the queue, while the timer runs
	queues  [2][]*waiter      // FIFO per Priority
	timer   *time.Timer
	armed   bool
	calls   int64
	hour    [60]minuteCount // Record's counts, one slot per minute of the last hour
}

// waiter is one caller queued for a token. granted and token are guarded
// by the bucket's mutex; ready is closed when the token is granted.
type waiter struct {
	ready   chan struct{}
	granted bool
	token   *rate.Reservation // the reservation it was granted, when it came from the timer
}

type minuteCount struct {
	minute int64 // Unix minute the counts belong to
	calls  int64
	errors int64
}

// NewLimiters returns limiters at the documented limits multiplied by scale
// (1 against the real endpoint; larger only against the sandbox running
// with the same factor).
func NewLimiters(scale float64) *Limiters {
	if scale <= 0 {
		scale = 1
	}
	return &Limiters{scale: scale, buckets: map[limiterKey]*bucket{}}
}

// Scale returns the factor the documented limits are multiplied by.
func (l *Limiters) Scale() float64 { return l.scale }

func (l *Limiters) bucket(secretId, action string) (*bucket, error) {
	info, ok := actionTable[action]
	if !ok {
		return nil, fmt.Errorf("unknown action %q", action)
	}
	key := limiterKey{secretId, action}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		limit := float64(info.PerSecond) * l.scale
		b = &bucket{
			perSecond: limit,
			interval:  time.Duration(math.Ceil(float64(time.Second) / limit)),
			lim:       rate.NewLimiter(rate.Limit(limit), 1),
		}
		l.buckets[key] = b
	}
	return b, nil
}

// Wait blocks until the credential may call the action, or ctx ends. The
// caller waits at the priority of ctx (see WithPriority). When ctx ends
// first, the error wraps ctx.Err() and no token is used; a wait that could
// not end before ctx's deadline fails at once with an error wrapping
// context.DeadlineExceeded.
func (l *Limiters) Wait(ctx context.Context, secretId, action string) error {
	b, err := l.bucket(secretId, action)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wait for %s rate limit: %w", action, err)
	}
	prio := priorityFrom(ctx)

	b.mu.Lock()
	now := time.Now()
	if b.idleLocked() && b.lim.AllowN(now, 1) {
		b.calls++
		b.mu.Unlock()
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(b.turnLocked(prio, now)) {
		b.mu.Unlock()
		return fmt.Errorf("wait for %s rate limit: %w", action, context.DeadlineExceeded)
	}
	w := &waiter{ready: make(chan struct{})}
	b.queues[prio] = append(b.queues[prio], w)
	b.armLocked(now)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	if w.granted {
		// The token came as ctx ended: hand it on rather than lose it.
		b.returnLocked(w, time.Now())
	} else {
		b.queues[prio] = slices.DeleteFunc(b.queues[prio], func(q *waiter) bool { return q == w })
		if b.idleLocked() && b.armed && b.timer.Stop() {
			// Nobody waits any more: give the reserved token back.
			b.armed = false
			b.pending.CancelAt(time.Now())
			b.pending = nil
		}
	}
	b.mu.Unlock()
	return fmt.Errorf("wait for %s rate limit: %w", action, ctx.Err())
}

func (b *bucket) idleLocked() bool {
	return len(b.queues[Interactive]) == 0 && len(b.queues[Background]) == 0
}

// turnLocked is the earliest time a new waiter of priority p can expect its
// token: after every waiter already ahead of it, unless some of them leave.
func (b *bucket) turnLocked(p Priority, now time.Time) time.Time {
	ahead := len(b.queues[Interactive])
	if p == Background {
		ahead += len(b.queues[Background])
	}
	first := now.Add(b.untilTokenLocked(now))
	return first.Add(time.Duration(ahead) * b.interval)
}

// untilTokenLocked is how long until the next token is free.
func (b *bucket) untilTokenLocked(now time.Time) time.Duration {
	if b.armed {
		return b.pending.DelayFrom(now)
	}
	missing := 1 - b.lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(missing / b.perSecond * float64(time.Second)))
}

// armLocked hands free tokens to waiters and, while anyone still waits,
// reserves the next token and sets the timer for it.
func (b *bucket) armLocked(now time.Time) {
	for !b.armed && !b.idleLocked() {
		r := b.lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			b.pending, b.armed = r, true
			// A new timer each time rather than Reset: the bucket may outlive
			// the goroutines (and, in tests, the synctest bubble) that made it.
			b.timer = time.AfterFunc(d, b.tick)
			return
		}
		b.grantLocked(b.popLocked(), r)
	}
}

func (b *bucket) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed = false
	r := b.pending
	b.pending = nil
	if w := b.popLocked(); w != nil {
		b.grantLocked(w, r)
	}
	// A token nobody was left to take is spent: the schedule moves on.
	b.armLocked(time.Now())
}

func (b *bucket) popLocked() *waiter {
	for _, p := range []Priority{Interactive, Background} {
		if q := b.queues[p]; len(q) > 0 {
			w := q[0]
			q[0] = nil
			b.queues[p] = q[1:]
			return w
		}
	}
	return nil
}

func (b *bucket) grantLocked(w *waiter, token *rate.Reservation) {
	w.granted = true
	w.token = token
	b.calls++
	close(w.ready)
}

// returnLocked passes on the token of a waiter that left as it was
// granted: to the next waiter if there is one, else back to the limiter
// when it is still the moment the token was due.
func (b *bucket) returnLocked(w *waiter, now time.Time) {
	b.calls--
	if next := b.popLocked(); next != nil {
		b.grantLocked(next, w.token)
		if b.idleLocked() && b.armed && b.timer.Stop() {
			b.armed = false
			b.pending.CancelAt(now)
			b.pending = nil
		}
		return
	}
	if w.token != nil {
		w.token.CancelAt(now)
	}
}

// Record counts one attempt at the action that got an answer or failed
// trying, for the last-hour counts of States. Unknown actions are ignored.
func (l *Limiters) Record(secretId, action string, failed bool) {
	b, err := l.bucket(secretId, action)
	if err != nil {
		return
	}
	minute := time.Now().Unix() / 60
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &b.hour[minute%60]
	if c.minute != minute {
		*c = minuteCount{minute: minute}
	}
	c.calls++
	if failed {
		c.errors++
	}
}

// LimiterState is a snapshot of one budget, for status pages.
type LimiterState struct {
	Credential string  // the SecretId, masked
	Action     string  //
	PerSecond  float64 // the enforced rate: documented limit × scale
	// Tokens is what a caller could take now: 1 when the budget is idle, the
	// refilled fraction of the current interval while it is in use, minus
	// one for every caller queued.
	Tokens float64
	// InUse reports that the budget's one token was taken within the last
	// interval: a caller arriving now waits.
	InUse       bool
	Interactive int   // interactive callers queued now
	Background  int   // background callers queued now
	Waiting     int64 // all callers queued now
	Calls       int64 // tokens granted since start
	// CallsLastHour and ErrorsLastHour count the attempts reported through
	// Record in the last hour, by the minute.
	CallsLastHour  int64
	ErrorsLastHour int64
}

// States returns a snapshot of every budget used so far, by credential and action.
func (l *Limiters) States() []LimiterState {
	l.mu.Lock()
	keys := make([]limiterKey, 0, len(l.buckets))
	buckets := make([]*bucket, 0, len(l.buckets))
	for k, b := range l.buckets {
		keys = append(keys, k)
		buckets = append(buckets, b)
	}
	l.mu.Unlock()

	now := time.Now()
	out := make([]LimiterState, len(buckets))
	for i, b := range buckets {
		out[i] = b.state(now)
		out[i].Credential = MaskSecretID(keys[i].secretId)
		out[i].Action = keys[i].action
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Credential != out[j].Credential {
			return out[i].Credential < out[j].Credential
		}
		return out[i].Action < out[j].Action
	})
	return out
}

// StatesFor returns a snapshot of every action's budget for each of the
// credentials, in the order given and by action name, idle budgets (never
// used) included: the whole budget an admin can spend.
func (l *Limiters) StatesFor(secretIDs []string) []LimiterState {
	actions := make([]string, 0, len(actionTable))
	for name := range actionTable {
		actions = append(actions, name)
	}
	sort.Strings(actions)
	now := time.Now()
	var out []LimiterState
	seen := map[string]bool{}
	for _, id := range secretIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, action := range actions {
			l.mu.Lock()
			b := l.buckets[limiterKey{id, action}]
			l.mu.Unlock()
			s := LimiterState{PerSecond: float64(actionTable[action].PerSecond) * l.scale, Tokens: 1}
			if b != nil {
				s = b.state(now)
			}
			s.Credential, s.Action = MaskSecretID(id), action
			out = append(out, s)
		}
	}
	return out
}

func (b *bucket) state(now time.Time) LimiterState {
	b.mu.Lock()
	defer b.mu.Unlock()
	until := b.untilTokenLocked(now)
	s := LimiterState{
		PerSecond:   b.perSecond,
		InUse:       until > 0,
		Interactive: len(b.queues[Interactive]),
		Background:  len(b.queues[Background]),
		Calls:       b.calls,
		Tokens:      1 - min(1, float64(until)/float64(b.interval)),
	}
	s.Waiting = int64(s.Interactive + s.Background)
	s.Tokens -= float64(s.Waiting)
	minute := now.Unix() / 60
	for _, c := range b.hour {
		if c.minute > minute-60 && c.minute <= minute {
			s.CallsLastHour += c.calls
			s.ErrorsLastHour += c.errors
		}
	}
	return s
}

// MaskSecretID shortens a SecretId to its first and last four characters,
// enough to tell credentials apart without revealing one.
func MaskSecretID(id string) string {
	if len(id) <= 8 {
		return "****"
	}
	return id[:4] + "****" + id[len(id)-4:]
}
