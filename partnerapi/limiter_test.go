package partnerapi

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimiterSaturation drives many goroutines at one action for a simulated
// minute and checks the rate stays at the documented limit: never above it,
// and not much below.
func TestLimiterSaturation(t *testing.T) {
	cases := []struct {
		action string
		scale  float64
	}{
		{ActionDescribeCustomerBillSummary, 1}, // 1/s
		{ActionQueryCustomersCredit, 1},        // 5/s
		{ActionForceQN, 1},                     // 2/s
		{ActionQueryT1IndirectCustomersDetail, 1},
		{ActionDescribeCustomerBillSummary, 50},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(tc.scale)
				limit := float64(actionTable[tc.action].PerSecond) * tc.scale
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				start := time.Now()
				var mu sync.Mutex
				var stamps []time.Duration
				var wg sync.WaitGroup
				for range 32 {
					wg.Go(func() {
						for {
							if err := lim.Wait(ctx, "AKIDtest", tc.action); err != nil {
								return
							}
							mu.Lock()
							stamps = append(stamps, time.Since(start))
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				got := float64(len(stamps))
				if max := limit*60 + 1; got > max {
					t.Fatalf("%v calls in a minute, more than the limit allows (%v)", got, max)
				}
				if min := 0.9 * limit * 60; got < min {
					t.Fatalf("%v calls in a minute, less than 90%% of the limit (%v)", got, min)
				}
				// No one-second window may hold more than the limit (plus the
				// call at its closing edge).
				for i := range stamps {
					j := i
					for j < len(stamps) && stamps[j]-stamps[i] < time.Second {
						j++
					}
					if n := j - i; float64(n) > limit {
						t.Fatalf("%d calls within one second starting at %v; limit %v", n, stamps[i], limit)
					}
				}
			})
		})
	}
}

func TestLimiterPerCredential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := NewLimiters(1)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var a, b atomic.Int64
		var wg sync.WaitGroup
		for _, c := range []struct {
			id string
			n  *atomic.Int64
		}{{"AKIDone", &a}, {"AKIDtwo", &b}} {
			wg.Go(func() {
				for lim.Wait(ctx, c.id, ActionDescribeBillSummaryByProduct) == nil {
					c.n.Add(1)
				}
			})
		}
		wg.Wait()
		// Each credential has its own 1/s budget: ten seconds give each about ten.
		for name, n := range map[string]int64{"one": a.Load(), "two": b.Load()} {
			if n < 9 || n > 11 {
				t.Errorf("credential %s made %d calls in 10 s at 1/s", name, n)
			}
		}
	})
}

func TestLimiterHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := NewLimiters(1)
		ctx := t.Context()
		if err := lim.Wait(ctx, "AKIDx", ActionDescribeCustomerBillSummary); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		err := lim.Wait(short, "AKIDx", ActionDescribeCustomerBillSummary)
		if err == nil {
			t.Fatal("a wait longer than the context's deadline succeeded")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			// rate.Limiter refuses at once when the wait would outlast the deadline.
			t.Logf("refused with %v", err)
		}
		states := lim.States()
		if len(states) != 1 || states[0].Calls != 1 || states[0].Waiting != 0 || states[0].Credential != "****" {
			t.Fatalf("unexpected limiter state %+v", states)
		}
	})
}

func TestLimiterUnknownAction(t *testing.T) {
	if err := NewLimiters(1).Wait(t.Context(), "AKIDx", "NoSuchAction"); err == nil {
		t.Fatal("waiting on an unknown action succeeded")
	}
}
