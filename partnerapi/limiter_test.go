package partnerapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// intervalOf is the emission interval of an action's budget.
func intervalOf(l *Limiters, action string) time.Duration {
	b, err := l.bucket("AKIDtest", action)
	if err != nil {
		panic(err)
	}
	return b.interval
}

// TestLimiterServesInteractiveFirst saturates an action with background
// callers for two simulated minutes while a person clicks every few
// seconds: every click waits at most one interval, the jobs still get
// nearly every other token, and no second holds more calls than the limit.
func TestLimiterServesInteractiveFirst(t *testing.T) {
	cases := []struct {
		name       string
		action     string
		scale      float64
		background int
		every      time.Duration // between interactive arrivals
	}{
		{"1/s, 8 jobs", ActionDescribeCustomerBillSummary, 1, 8, 7 * time.Second},
		{"1/s, 1 job", ActionDescribeCustomerBillSummary, 1, 1, 7 * time.Second},
		{"5/s, 8 jobs", ActionQueryCustomersCredit, 1, 8, 1300 * time.Millisecond},
		{"50/s, 4 jobs", ActionDescribeCustomerBillSummary, 50, 4, 170 * time.Millisecond},
	}
	const epsilon = time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(tc.scale)
				interval := intervalOf(lim, tc.action)
				limit := float64(actionTable[tc.action].PerSecond) * tc.scale
				const run = 2 * time.Minute
				ctx, cancel := context.WithTimeout(t.Context(), run)
				defer cancel()
				start := time.Now()

				var mu sync.Mutex
				var stamps, waits []time.Duration
				var jobCalls int
				grant := func(interactive bool, waited time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					stamps = append(stamps, time.Since(start))
					if interactive {
						waits = append(waits, waited)
					} else {
						jobCalls++
					}
				}
				var wg sync.WaitGroup
				bg := WithPriority(ctx, Background)
				for range tc.background {
					wg.Go(func() {
						for lim.Wait(bg, "AKIDtest", tc.action) == nil {
							grant(false, 0)
						}
					})
				}
				wg.Go(func() {
					for next := tc.every; next < run; next += tc.every {
						time.Sleep(time.Until(start.Add(next)))
						began := time.Now()
						if lim.Wait(ctx, "AKIDtest", tc.action) != nil {
							return
						}
						grant(true, time.Since(began))
					}
				})
				wg.Wait()

				if len(waits) < int(run/tc.every)-2 {
					t.Fatalf("only %d interactive calls got through", len(waits))
				}
				if worst := slices.Max(waits); worst > interval+epsilon {
					t.Errorf("an interactive call waited %v; want at most one interval (%v)", worst, interval)
				}
				tokens := limit*run.Seconds() + 1
				if remaining := tokens - float64(len(waits)); float64(jobCalls) < 0.9*remaining {
					t.Errorf("background got %d tokens of the %v left by interactive calls; want at least 90%%", jobCalls, remaining)
				}
				if float64(len(stamps)) > tokens {
					t.Errorf("%d calls in %v; the limit allows %v", len(stamps), run, tokens)
				}
				slices.Sort(stamps)
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

// TestLimiterQueuesInOrder queues background callers first and then
// interactive ones: every interactive caller is served before any
// background one, each queue in the order it arrived, one per interval.
func TestLimiterQueuesInOrder(t *testing.T) {
	cases := []struct {
		name                    string
		interactive, background int
	}{
		{"interactive only", 12, 0},
		{"interactive ahead of jobs", 20, 3},
		{"jobs only", 0, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(1)
				ctx := t.Context()
				const action = ActionDescribeCustomerBillSummary
				interval := intervalOf(lim, action)
				if err := lim.Wait(ctx, "AKIDtest", action); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				type served struct {
					name string
					at   time.Duration
				}
				var mu sync.Mutex
				var got []served
				var wg sync.WaitGroup
				queue := func(name string, ctx context.Context) {
					wg.Go(func() {
						if err := lim.Wait(ctx, "AKIDtest", action); err != nil {
							t.Errorf("%s: %v", name, err)
							return
						}
						mu.Lock()
						got = append(got, served{name, time.Since(start)})
						mu.Unlock()
					})
					synctest.Wait() // queued before the next one arrives
				}
				var want []served
				for i := range tc.background {
					queue(fmt.Sprintf("background %d", i), WithPriority(ctx, Background))
				}
				for i := range tc.interactive {
					name := fmt.Sprintf("interactive %d", i)
					queue(name, ctx)
					want = append(want, served{name, time.Duration(i+1) * interval})
				}
				for i := range tc.background {
					want = append(want, served{fmt.Sprintf("background %d", i), time.Duration(tc.interactive+i+1) * interval})
				}
				wg.Wait()
				if !slices.Equal(got, want) {
					t.Fatalf("served\n%v\nwant\n%v", got, want)
				}
			})
		})
	}
}

// TestLimiterCancelledWaiterUsesNoToken checks that a waiter whose context
// ends leaves the queue without a token, and that a token granted just as a
// context ends goes to the next waiter rather than being lost.
func TestLimiterCancelledWaiterUsesNoToken(t *testing.T) {
	type spec struct {
		name     string
		prio     Priority
		cancelAt time.Duration // 0: never
		deadline time.Duration // 0: none
	}
	cases := []struct {
		name    string
		waiters []spec
		// want is each waiter's acceptable outcomes: the time of its
		// token, or the error its Wait returns.
		want   map[string][]any
		grants []time.Duration // every token issued after the first, in order
	}{
		{
			name: "cancelled while queued",
			waiters: []spec{
				{name: "first", prio: Background},
				{name: "cancelled", prio: Background, cancelAt: 500 * time.Millisecond},
				{name: "third", prio: Background},
			},
			want:   map[string][]any{"first": {time.Second}, "cancelled": {context.Canceled}, "third": {2 * time.Second}},
			grants: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name: "interactive cancelled while queued",
			waiters: []spec{
				{name: "job", prio: Background},
				{name: "click", prio: Interactive, cancelAt: 500 * time.Millisecond},
				{name: "click 2", prio: Interactive},
			},
			want:   map[string][]any{"click": {context.Canceled}, "click 2": {time.Second}, "job": {2 * time.Second}},
			grants: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			// The deadline falls on the very instant of the waiter's token:
			// whichever wins, the token is used by someone at 1 s.
			name: "deadline at the moment of its token",
			waiters: []spec{
				{name: "racing", prio: Background, deadline: time.Second},
				{name: "second", prio: Background, cancelAt: 2500 * time.Millisecond},
				{name: "third", prio: Background, cancelAt: 2500 * time.Millisecond},
			},
			want: map[string][]any{
				"racing": {time.Second, context.DeadlineExceeded},
				"second": {2 * time.Second, time.Second},
				"third":  {context.Canceled, 2 * time.Second},
			},
			grants: []time.Duration{time.Second, 2 * time.Second},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(1)
				const action = ActionDescribeCustomerBillSummary
				if err := lim.Wait(t.Context(), "AKIDtest", action); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				var mu sync.Mutex
				got := map[string]any{}
				var grants []time.Duration
				var wg sync.WaitGroup
				for _, w := range tc.waiters {
					ctx := WithPriority(t.Context(), w.prio)
					if w.deadline > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithDeadline(ctx, start.Add(w.deadline))
						defer cancel()
					}
					if w.cancelAt > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithCancel(ctx)
						defer cancel()
						time.AfterFunc(w.cancelAt, cancel)
					}
					wg.Go(func() {
						err := lim.Wait(ctx, "AKIDtest", action)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							got[w.name] = err
							return
						}
						got[w.name] = time.Since(start)
						grants = append(grants, time.Since(start))
					})
					synctest.Wait()
				}
				wg.Wait()
				for name, want := range tc.want {
					if !slices.ContainsFunc(want, func(w any) bool { return sameOutcome(got[name], w) }) {
						t.Errorf("%s: got %v, want one of %v", name, got[name], want)
					}
				}
				slices.Sort(grants)
				if !slices.Equal(grants, tc.grants) {
					t.Errorf("tokens issued at %v, want %v", grants, tc.grants)
				}
				if s := lim.States()[0]; s.Calls != int64(len(tc.grants))+1 || s.Waiting != 0 {
					t.Errorf("state after the waits: %+v", s)
				}
			})
		})
	}
}

// sameOutcome reports whether a waiter's outcome (the time of its token or
// its error) is want.
func sameOutcome(got, want any) bool {
	switch want := want.(type) {
	case time.Duration:
		at, ok := got.(time.Duration)
		return ok && at == want
	case error:
		err, ok := got.(error)
		return ok && errors.Is(err, want)
	}
	return false
}

// TestLimiterStatesShowQueues checks the status-page view of a budget while
// callers queue on it and after they leave.
func TestLimiterStatesShowQueues(t *testing.T) {
	cases := []struct {
		name                    string
		interactive, background int
	}{
		{"both queues", 2, 3},
		{"interactive only", 4, 0},
		{"background only", 0, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(1)
				const action = ActionDescribeCustomerBillSummary
				ctx, cancel := context.WithCancel(t.Context())
				if err := lim.Wait(ctx, "AKIDtest", action); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				for i := range tc.interactive + tc.background {
					prio := Interactive
					if i >= tc.interactive {
						prio = Background
					}
					wg.Go(func() { lim.Wait(WithPriority(ctx, prio), "AKIDtest", action) })
				}
				time.Sleep(250 * time.Millisecond)
				synctest.Wait()
				waiting := tc.interactive + tc.background
				want := LimiterState{
					Credential: "****", Action: action, PerSecond: 1,
					Tokens: 0.25 - float64(waiting), InUse: true,
					Interactive: tc.interactive, Background: tc.background, Waiting: int64(waiting), Calls: 1,
				}
				if got := lim.States(); len(got) != 1 || got[0] != want {
					t.Fatalf("while callers queue: %+v\nwant %+v", got, want)
				}
				cancel()
				wg.Wait()
				time.Sleep(time.Second)
				want = LimiterState{Credential: "****", Action: action, PerSecond: 1, Tokens: 1, Calls: 1}
				if got := lim.States(); got[0] != want {
					t.Fatalf("after every caller left: %+v\nwant %+v", got[0], want)
				}
			})
		})
	}
}

// TestLimiterLastHourCounts checks that Record's counts cover exactly the
// last hour, by the minute, and roll off as the clock moves on.
func TestLimiterLastHourCounts(t *testing.T) {
	cases := []struct {
		name                string
		records             []recorded
		at                  time.Duration
		wantCalls, wantErrs int64
	}{
		{"nothing yet", nil, 0, 0, 0},
		{"same minute", []recorded{{0, false}, {10 * time.Second, true}, {59 * time.Second, false}}, time.Minute - 1, 3, 1},
		{"within the hour", []recorded{{0, true}, {30 * time.Minute, false}}, 59 * time.Minute, 2, 1},
		{"the first minute rolled off", []recorded{{0, true}, {30 * time.Minute, false}}, 61 * time.Minute, 1, 0},
		{"all rolled off", []recorded{{0, true}, {30 * time.Minute, true}}, 2 * time.Hour, 0, 0},
		{"a slot reused after an hour", []recorded{{0, true}, {time.Hour, false}}, time.Hour, 1, 0},
		{"one a minute for two hours", everyMinute(120), 120 * time.Minute, 60, 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := NewLimiters(1)
				const action = ActionQueryPartnerCredit
				// A call long ago makes the budget exist, and has rolled off.
				lim.Record("AKIDtest", action, false)
				time.Sleep(time.Hour + time.Minute)
				start := time.Now()
				for _, r := range tc.records {
					time.Sleep(time.Until(start.Add(r.at)))
					lim.Record("AKIDtest", action, r.failed)
				}
				time.Sleep(time.Until(start.Add(tc.at)))
				lim.Record("AKIDtest", "NoSuchAction", true) // ignored
				s := lim.States()
				if len(s) != 1 || s[0].CallsLastHour != tc.wantCalls || s[0].ErrorsLastHour != tc.wantErrs {
					t.Fatalf("states %+v; want %d calls and %d errors in the last hour", s, tc.wantCalls, tc.wantErrs)
				}
			})
		})
	}
}

// recorded is one attempt reported to Record, at a time since the start.
type recorded struct {
	at     time.Duration
	failed bool
}

// everyMinute is n failed attempts, one a minute.
func everyMinute(n int) []recorded {
	out := make([]recorded, n)
	for i := range out {
		out[i] = recorded{at: time.Duration(i+1) * time.Minute, failed: true}
	}
	return out
}

func TestStatesForListsIdleBudgets(t *testing.T) {
	l := NewLimiters(2)
	if err := l.Wait(context.Background(), "AKIDone", ActionQueryPartnerCredit); err != nil {
		t.Fatal(err)
	}
	states := l.StatesFor([]string{"AKIDone", "AKIDtwo", "AKIDone"})
	if len(states) != 2*len(Actions()) {
		t.Fatalf("%d states for two credentials, want %d", len(states), 2*len(Actions()))
	}
	var used, idle int
	for _, s := range states {
		info, _ := LookupAction(s.Action)
		if s.PerSecond != float64(info.PerSecond)*2 {
			t.Fatalf("%s at %v/s, want the documented limit ×2", s.Action, s.PerSecond)
		}
		if s.Calls > 0 {
			used++
		} else {
			idle++
		}
	}
	if used != 1 || idle != len(states)-1 {
		t.Fatalf("%d used and %d idle budgets, want 1 used", used, idle)
	}
}
