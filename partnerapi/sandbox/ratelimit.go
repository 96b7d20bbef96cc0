package sandbox

import (
	"math"
	"sync"
	"time"
)

// rateLimiter enforces each action's documented frequency limit per
// SecretId with the generic cell rate algorithm (GCRA): every credential and
// action has a theoretical arrival time (TAT); a request is accepted when
// TAT − now ≤ τ, and each accepted request moves TAT one emission interval
// T further. Rejected requests change nothing.
type rateLimiter struct {
	scale float64

	mu  sync.Mutex
	tat map[rateKey]time.Time
}

type rateKey struct {
	secretId string
	action   string
}

func newRateLimiter(scale float64) *rateLimiter {
	return &rateLimiter{scale: scale, tat: make(map[rateKey]time.Time)}
}

// gcraParams returns the emission interval T = 1/limit and the burst
// tolerance τ = (limit−1)·T + T/2 for a limit in requests per second. The
// extra half interval absorbs network jitter of a client pacing itself
// exactly at the limit; the long-run rate still never exceeds the limit
// because T is rounded up.
func gcraParams(limit float64) (interval, tolerance time.Duration) {
	interval = time.Duration(math.Ceil(float64(time.Second) / limit))
	burst := math.Max(limit, 1)
	tolerance = time.Duration((burst-1)*float64(interval)) + interval/2
	return interval, tolerance
}

// allow reports whether a request by secretId for action, documented at
// perSecond, may proceed at now, and records it when it may.
func (l *rateLimiter) allow(secretId, action string, perSecond int, now time.Time) bool {
	limit := float64(perSecond) * l.scale
	if limit <= 0 {
		return false
	}
	interval, tolerance := gcraParams(limit)
	key := rateKey{secretId, action}

	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	if tat.Sub(now) > tolerance {
		return false
	}
	l.tat[key] = tat.Add(interval)
	return true
}
