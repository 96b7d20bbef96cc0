package apicache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var key = Key{Credential: "AKIDtest", Action: "QueryPartnerCredit", Params: "{}"}

// counter is a fetch that answers n (its call count) after a delay.
type counter struct {
	calls atomic.Int64
	delay time.Duration
	err   error
}

func (c *counter) fetch(ctx context.Context) (any, error) {
	n := c.calls.Add(1)
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		return nil, c.err
	}
	return n, nil
}

func TestConcurrentMissesShareOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		f := &counter{delay: 200 * time.Millisecond}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				e, err := c.Get(t.Context(), key, Figures, f.fetch)
				if err != nil || e.Value != int64(1) {
					t.Errorf("Get = %v, %v; want the one call's answer", e.Value, err)
				}
			})
		}
		wg.Wait()
		if n := f.calls.Load(); n != 1 {
			t.Fatalf("%d calls for 50 concurrent misses, want 1", n)
		}
		// Fresh for a minute: no call.
		time.Sleep(59 * time.Second)
		if _, err := c.Get(t.Context(), key, Figures, f.fetch); err != nil || f.calls.Load() != 1 {
			t.Fatalf("a fresh entry was fetched again (calls %d, %v)", f.calls.Load(), err)
		}
		// Stale after its policy: one more call.
		time.Sleep(2 * time.Second)
		e, err := c.Get(t.Context(), key, Figures, f.fetch)
		if err != nil || e.Value != int64(2) {
			t.Fatalf("stale entry: %v, %v; want a second call's answer", e.Value, err)
		}
	})
}

func TestDeadlineShowsWhatIsCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{Wait: time.Second})
		f := &counter{delay: 10 * time.Millisecond}
		if _, err := c.Get(t.Context(), key, Figures, f.fetch); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute) // stale now
		f.delay = 5 * time.Second   // and the API is slow
		e, err := c.Get(t.Context(), key, Figures, f.fetch)
		if !errors.Is(err, ErrPending) || e.Value != int64(1) {
			t.Fatalf("past the deadline: %v, %v; want the stale value and ErrPending", e.Value, err)
		}
		// The call went on and fills the cache for the next view.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if e, ok := c.Peek(key); !ok || e.Value != int64(2) {
			t.Fatalf("the call did not complete after its caller left: %v", e.Value)
		}
	})
}

func TestCallerWhoLeavesDoesNotCancelTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		f := &counter{delay: time.Second}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := c.Get(ctx, key, Figures, f.fetch)
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, ErrPending) {
			t.Fatalf("a caller who left got %v, want ErrPending", err)
		}
		e, err := c.Get(t.Context(), key, Figures, f.fetch)
		if err != nil || e.Value != int64(1) || f.calls.Load() != 1 {
			t.Fatalf("the next caller got %v, %v after %d calls; want the first call's answer", e.Value, err, f.calls.Load())
		}
	})
}

func TestFailuresAreRememberedBriefly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		boom := errors.New("InternalError")
		f := &counter{err: boom}
		for range 10 {
			if _, err := c.Get(t.Context(), key, Figures, f.fetch); !errors.Is(err, boom) {
				t.Fatalf("Get = %v, want the failure", err)
			}
		}
		if n := f.calls.Load(); n != 1 {
			t.Fatalf("%d calls while a failure stands, want 1", n)
		}
		time.Sleep(16 * time.Second)
		f.err = nil
		if e, err := c.Get(t.Context(), key, Figures, f.fetch); err != nil || e.Value != int64(2) {
			t.Fatalf("after the failure's time: %v, %v", e.Value, err)
		}
	})
}

func TestRefreshIsSharedAndDebounced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		f := &counter{delay: 100 * time.Millisecond}
		if _, err := c.Get(t.Context(), key, Figures, f.fetch); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := c.Refresh(t.Context(), key, f.fetch); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := f.calls.Load(); n != 2 {
			t.Fatalf("ten simultaneous refreshes made %d calls in all, want 2", n)
		}
		// A click right after shares the answer; one later calls again.
		c.Refresh(t.Context(), key, f.fetch)
		if n := f.calls.Load(); n != 2 {
			t.Fatalf("a refresh within MinRefresh called again (%d calls)", n)
		}
		time.Sleep(3 * time.Second)
		if e, _ := c.Refresh(t.Context(), key, f.fetch); e.Value != int64(3) {
			t.Fatalf("a later refresh answered %v, want a new call", e.Value)
		}
	})
}

func TestInvalidateAndBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{MaxEntries: 100})
		f := &counter{}
		for i := range 150 {
			k := Key{Credential: "AKID", Action: "QueryCustomersCredit", Params: string(rune('A' + i))}
			c.Get(t.Context(), k, Directory, f.fetch)
			time.Sleep(time.Millisecond)
		}
		c.mu.Lock()
		n := len(c.entries)
		c.mu.Unlock()
		if n > 100 {
			t.Fatalf("%d entries kept, want at most 100", n)
		}
		c.Get(t.Context(), key, Figures, f.fetch)
		c.InvalidateAction("QueryPartnerCredit")
		if _, ok := c.Peek(key); ok {
			t.Fatal("an invalidated entry is still there")
		}
	})
}

func TestPolicies(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		kind  Kind
		age   time.Duration
		stale bool
	}{
		{Figures, 59 * time.Second, false},
		{Figures, 61 * time.Second, true},
		{Directory, 14 * time.Minute, false},
		{Directory, 16 * time.Minute, true},
		{BillsKind("2026-11", now), 59 * time.Minute, false},
		{BillsKind("2026-11", now), 61 * time.Minute, true},
		{BillsKind("2026-10", now), 23 * time.Hour, false},
		{BillsKind("2026-10", now), 25 * time.Hour, true},
	}
	for _, tc := range cases {
		if got := Stale(tc.kind, now.Add(-tc.age), now); got != tc.stale {
			t.Errorf("%s at %v: stale %v, want %v", tc.kind, tc.age, got, tc.stale)
		}
	}
	if !Stale(Figures, time.Time{}, now) {
		t.Error("data never fetched is not stale")
	}
}
