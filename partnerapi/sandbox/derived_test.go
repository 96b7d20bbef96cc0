package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// What the World derives once and keeps (whether a customer has spent
// anything, the customers in binding order) must answer exactly what
// working it out on every call answered.

// hasExpenseByRows is DescribeCustomerInfo's HasExpense by its definition:
// some month from June 2022 or the binding to now has a visible bill row.
func hasExpenseByRows(w *World, cu *customer, now time.Time) bool {
	first := max(earliestBillMonth, monthIndex(cu.bindTime))
	for m := monthIndex(now); m >= first; m-- {
		if len(w.visibleRows(cu, m, now)) > 0 {
			return true
		}
	}
	return false
}

func TestHasExpenseMatchesBillRows(t *testing.T) {
	f := newFixture(t, 45)
	// Customers bound a moment ago, some of them mid-second, whose first
	// row is still ahead: the cache must not freeze "no expense".
	for i, a := range slices.Clone(f.w.pendingClients) {
		caller := f.dist
		if a.partner != f.dist.Uin {
			caller = Caller{Role: partnerapi.RoleSubAgent, Uin: a.partner}
		}
		f.clock.Advance(time.Duration(i)*time.Hour + 1500*time.Millisecond)
		call[partnerapi.ApproveClientApplyResponse](t, f, caller, "ApproveClientApply", map[string]any{"ClientUin": a.uin, "ApproveType": "pass"})
	}
	start := f.clock.t
	steps := []time.Duration{0, time.Second, 10 * time.Minute, 5 * time.Hour, 3 * 24 * time.Hour, 40 * 24 * time.Hour, -60 * 24 * time.Hour, 400 * 24 * time.Hour}
	seen := map[bool]int{}
	for _, d := range steps {
		now := start.Add(d)
		for _, cu := range f.w.customers {
			want := hasExpenseByRows(f.w, cu, now)
			if got := f.w.hasExpense(cu, now); got != want {
				t.Errorf("customer %d bound %v at %v: hasExpense %v, the bills say %v", cu.uin, cu.bindTime, now, got, want)
			}
			seen[want]++
		}
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("the cases do not cover both answers: %v", seen)
	}
}

// TestHasExpenseAtItsEdges checks the clock at a first bill row, a second
// either side of it, and bindings just before and after that row (between
// whole seconds, as a clock with nanoseconds may bind).
func TestHasExpenseAtItsEdges(t *testing.T) {
	f := newFixture(t, 47)
	checked := 0
	for _, uin := range f.w.distributor.customers {
		cu := f.w.customers[uin]
		m := max(earliestBillMonth, monthIndex(cu.bindTime)) + 1
		plan := f.w.monthPlan(cu, m, nil)
		if len(plan) < 2 {
			continue
		}
		first := slices.MinFunc(plan, func(a, b planRow) int { return int(a.at - b.at) }).at
		row := time.Unix(first, 0)
		for _, bind := range []time.Time{row.Add(-500 * time.Millisecond), row.Add(500 * time.Millisecond), row, row.Add(-time.Second)} {
			c := &customer{uin: cu.uin, owner: cu.owner, spend: cu.spend, credential: cu.credential, vouchers: cu.vouchers, bindTime: bind}
			for _, now := range []time.Time{row.Add(-time.Second), row.Add(-time.Nanosecond), row, row.Add(time.Nanosecond), row.Add(999 * time.Millisecond), row.Add(time.Second), row.Add(40 * 24 * time.Hour)} {
				want := hasExpenseByRows(f.w, c, now)
				if got := f.w.hasExpense(c, now); got != want {
					t.Errorf("customer %d bound %v at %v: hasExpense %v, the bills say %v", c.uin, bind, now, got, want)
				}
			}
		}
		if checked++; checked == 50 {
			break
		}
	}
	if checked == 0 {
		t.Fatal("no customer with two rows in a month")
	}
}

// sortedByBind is QueryCustomersCredit's order by its definition: the
// partner's customers in association order, stably sorted by binding time.
func sortedByBind(w *World, p *partner, desc bool) []uint64 {
	cs := make([]*customer, 0, len(p.customers))
	for _, uin := range p.customers {
		cs = append(cs, w.customers[uin])
	}
	slices.SortStableFunc(cs, func(a, b *customer) int {
		if desc {
			return b.bindTime.Compare(a.bindTime)
		}
		return a.bindTime.Compare(b.bindTime)
	})
	out := make([]uint64, len(cs))
	for i, cu := range cs {
		out[i] = cu.uin
	}
	return out
}

func TestBindingOrderKeptAsCustomersAreBound(t *testing.T) {
	f := newFixture(t, 46)
	p := f.w.distributor
	check := func(when string) {
		t.Helper()
		for _, desc := range []bool{false, true} {
			list := p.byBind
			if desc {
				list = p.byBindDesc
			}
			got := make([]uint64, len(list))
			for i, cu := range list {
				got[i] = cu.uin
			}
			if want := sortedByBind(f.w, p, desc); !slices.Equal(got, want) {
				t.Fatalf("%s, desc %v: order %v, want %v", when, desc, got, want)
			}
		}
	}
	check("generated")
	// Several customers bound in the same second, one bound "before" the
	// others as a clock moved back would, then more later.
	pending := slices.Clone(f.w.pendingClients)
	for i, a := range pending {
		if a.partner != p.uin {
			continue
		}
		switch i {
		case 2:
			f.clock.Advance(-30 * 24 * time.Hour)
		case 4:
			f.clock.Advance(31 * 24 * time.Hour)
		}
		call[partnerapi.ApproveClientApplyResponse](t, f, f.dist, "ApproveClientApply", map[string]any{"ClientUin": a.uin, "ApproveType": "pass"})
		check("after approving " + a.name)
	}
	// The answers read the same order, filtered or not.
	asc := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"Page": 3, "PageSize": 100, "Order": "asc"})
	want := sortedByBind(f.w, p, false)
	if len(asc.Data) == 0 || asc.Data[0].ClientUin != want[200] || asc.Data[len(asc.Data)-1].ClientUin != want[len(want)-1] {
		t.Errorf("asc page 3 starts with %d and ends with %d, want %d and %d", asc.Data[0].ClientUin, asc.Data[len(asc.Data)-1].ClientUin, want[200], want[len(want)-1])
	}
}

func TestReadActionsAreReads(t *testing.T) {
	for action := range readActions {
		info, ok := partnerapi.LookupAction(action)
		if !ok || info.Write {
			t.Errorf("%s runs under the shared lock but is not a documented read", action)
		}
	}
}

// TestReadsRunInParallelWithWrites runs read actions from several
// goroutines, which share the World's lock and fill its caches together,
// while writes change the same customers; under -race it checks the
// caches' own locking.
func TestReadsRunInParallelWithWrites(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)}
	w, err := NewWorld(WorldOptions{Seed: 48, Customers: 300, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var dist Caller
	for _, cr := range w.Credentials() {
		if c, _, _ := w.LookupSecret(cr.SecretId); c.Role == partnerapi.RoleDistributor {
			dist = c
		}
	}
	uins := slices.Clone(w.distributor.customers)
	month := monthString(monthIndex(clock.Now()))
	pending := slices.Clone(w.pendingClients)
	done := make(chan error)
	reader := func(k int) {
		var err error
		for i := range 60 {
			uin := uins[(k*60+i)%len(uins)]
			calls := []struct {
				action string
				req    any
			}{
				{"DescribeCustomerInfo", map[string]any{"CustomerUin": []uint64{uin, uins[(i+1)%len(uins)]}}},
				{"QueryCustomersCredit", map[string]any{"Page": 1 + i%3, "PageSize": 100, "Order": "asc"}},
				{"DescribeCustomerBillSummary", map[string]any{"CustomerUin": uin, "Month": month}},
				{"DescribeBillSummaryByProduct", map[string]any{"CustomerUin": uin, "BillMonth": month}},
				{"QueryPartnerCredit", map[string]any{}},
			}
			for _, c := range calls {
				body, _ := json.Marshal(c.req)
				if _, e := w.Call(dist, c.action, body); e != nil && err == nil {
					err = fmt.Errorf("%s: %w", c.action, e)
				}
			}
		}
		done <- err
	}
	for k := range 4 {
		go reader(k)
	}
	go func() {
		var err error
		for i, a := range pending {
			if a.partner != dist.Uin {
				continue
			}
			clock.Advance(time.Minute)
			for _, c := range []struct {
				action string
				req    string
			}{
				{"ApproveClientApply", fmt.Sprintf(`{"ClientUin":%d,"ApproveType":"pass"}`, a.uin)},
				{"ModifyClientRemark", fmt.Sprintf(`{"ClientUin":"%d","Remark":"r%d"}`, uins[i], i)},
				{"ForceQN", fmt.Sprintf(`{"ClientUin":%d,"Type":2}`, uins[i])},
			} {
				if _, e := w.Call(dist, c.action, json.RawMessage(c.req)); e != nil && err == nil {
					err = fmt.Errorf("%s: %w", c.action, e)
				}
			}
		}
		done <- err
	}()
	for range 5 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
