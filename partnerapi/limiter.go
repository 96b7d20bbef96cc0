package partnerapi

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Limiters holds one token bucket per (credential, action) at the action's
// documented limit. Share one Limiters between every Client in a process so
// that no two clients of the same credential can together exceed a limit.
type Limiters struct {
	scale float64

	mu      sync.Mutex
	buckets map[limiterKey]*bucket
}

type limiterKey struct {
	secretId string
	action   string
}

type bucket struct {
	limiter *rate.Limiter
	waiting atomic.Int64
	calls   atomic.Int64
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
		// A burst of one paces calls evenly: the service counts per second and
		// would refuse a burst of N arriving together at the end of one second
		// and the start of the next.
		b = &bucket{limiter: rate.NewLimiter(rate.Limit(float64(info.PerSecond)*l.scale), 1)}
		l.buckets[key] = b
	}
	return b, nil
}

// Wait blocks until the credential may call the action, or ctx ends.
func (l *Limiters) Wait(ctx context.Context, secretId, action string) error {
	b, err := l.bucket(secretId, action)
	if err != nil {
		return err
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	if err := b.limiter.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The limiter refuses at once a wait that would outlast the
			// deadline; say so in the context's own terms.
			err = context.DeadlineExceeded
		}
		return fmt.Errorf("wait for %s rate limit: %w", action, err)
	}
	b.calls.Add(1)
	return nil
}

// LimiterState is a snapshot of one limiter, for status pages.
type LimiterState struct {
	Credential string  // the SecretId, masked
	Action     string  //
	PerSecond  float64 // the enforced rate: documented limit × scale
	Tokens     float64 // tokens available now; negative when callers are queued
	Waiting    int64   // callers waiting for a token now
	Calls      int64   // calls let through since start
}

// States returns a snapshot of every limiter used so far, by credential and action.
func (l *Limiters) States() []LimiterState {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LimiterState, 0, len(l.buckets))
	for k, b := range l.buckets {
		out = append(out, LimiterState{
			Credential: MaskSecretID(k.secretId),
			Action:     k.action,
			PerSecond:  float64(b.limiter.Limit()),
			Tokens:     b.limiter.Tokens(),
			Waiting:    b.waiting.Load(),
			Calls:      b.calls.Load(),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Credential != out[j].Credential {
			return out[i].Credential < out[j].Credential
		}
		return out[i].Action < out[j].Action
	})
	return out
}

// MaskSecretID shortens a SecretId to its first and last four characters,
// enough to tell credentials apart without revealing one.
func MaskSecretID(id string) string {
	if len(id) <= 8 {
		return "****"
	}
	return id[:4] + "****" + id[len(id)-4:]
}
