package apicache

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Mode says how fresh a read must be.
type Mode int

// The modes of reading through the cache.
const (
	// Cached returns what the cache holds without calling the API, except
	// for a value never read before, which it waits for.
	Cached Mode = iota
	// Fresh calls the API for a stale value, waiting until the deadline.
	Fresh
	// Refresh calls the API whatever the value's age (shared with whoever
	// else asks at the same moment).
	Refresh
)

// Figure is one value read through the cache, with its age.
type Figure[T any] struct {
	Value     *T        // nil when unknown (never read, or failed)
	FetchedAt time.Time // when Value was read
	Err       error     // why the last read failed, if it did
	Pending   bool      // a read is under way and has not answered yet
}

// Stale reports whether the figure, of the kind, is older than its
// freshness at now.
func (f Figure[T]) Stale(kind Kind, now time.Time) bool {
	return f.Value == nil || Stale(kind, f.FetchedAt, now)
}

// Failed returns a figure that could not be read at all.
func Failed[T any](err error) Figure[T] { return Figure[T]{Err: err} }

// Read reads one value through the cache, keyed by the credential's
// SecretId, the action and its parameters; call makes the API call.
func Read[T any](ctx context.Context, c *Cache, credential string, kind Kind, mode Mode, action string, params any, call func(context.Context) (T, error)) Figure[T] {
	p, _ := json.Marshal(params)
	key := Key{Credential: credential, Action: action, Params: string(p)}
	fetch := func(ctx context.Context) (any, error) { return call(ctx) }
	var e Entry
	var err error
	switch mode {
	case Refresh:
		e, err = c.Refresh(ctx, key, fetch)
	case Fresh:
		e, err = c.Get(ctx, key, kind, fetch)
	default:
		var ok bool
		if e, ok = c.Peek(key); ok {
			err = e.Err
		} else {
			e, err = c.Get(ctx, key, kind, fetch)
		}
	}
	f := Figure[T]{FetchedAt: e.FetchedAt, Pending: errors.Is(err, ErrPending)}
	if !f.Pending {
		f.Err = err
	}
	if v, ok := e.Value.(T); ok {
		f.Value = &v
	}
	return f
}
