package sandbox

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// testClock is a settable clock for worlds under test.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time          { return c.t }
func (c *testClock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestClock() *testClock               { return &testClock{t: time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)} }

// fixture is a world with a clock and the callers tests need.
type fixture struct {
	w       *World
	clock   *testClock
	dist    Caller
	sub     Caller   // the first second-level reseller
	custs   []Caller // customers with credentials
	direct  []Caller // direct customers of the distributor with credentials
	subCust Caller   // a customer of the first second-level reseller with a credential
}

func newFixture(t *testing.T, seed int64) *fixture {
	t.Helper()
	clock := newTestClock()
	w, err := NewWorld(WorldOptions{Seed: seed, Now: clock.Now})
	if err != nil {
		t.Fatalf("NewWorld: %v", err)
	}
	f := &fixture{w: w, clock: clock}
	for _, cr := range w.Credentials() {
		c, _, ok := w.LookupSecret(cr.SecretId)
		if !ok {
			t.Fatalf("LookupSecret(%s) failed", cr.SecretId)
		}
		c.BaseURL = "http://sandbox.test"
		switch c.Role {
		case partnerapi.RoleDistributor:
			f.dist = c
		case partnerapi.RoleSubAgent:
			if f.sub.Uin == 0 {
				f.sub = c
			}
		case partnerapi.RoleCustomer:
			f.custs = append(f.custs, c)
			switch w.customers[c.Uin].owner {
			case f.dist.Uin:
				f.direct = append(f.direct, c)
			case f.sub.Uin:
				f.subCust = c
			}
		}
	}
	if f.dist.Uin == 0 || f.sub.Uin == 0 || len(f.direct) < 3 || f.subCust.Uin == 0 {
		t.Fatalf("the world lacks the documented credentials: %+v", w.Credentials())
	}
	return f
}

// call runs an action and decodes the answer into Resp.
func call[Resp any](t *testing.T, f *fixture, c Caller, action string, req any) *Resp {
	t.Helper()
	out, err := f.w.Call(c, action, mustJSON(t, req))
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	resp, ok := out.(*Resp)
	if !ok {
		t.Fatalf("%s answered %T", action, out)
	}
	return resp
}

// callCode runs an action that must fail and returns its error code.
func callCode(t *testing.T, f *fixture, c Caller, action string, req any) string {
	t.Helper()
	out, err := f.w.Call(c, action, mustJSON(t, req))
	if err == nil {
		t.Fatalf("%s succeeded with %+v, want an error", action, out)
	}
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		t.Fatalf("%s: error %T is not an *apiError", action, err)
	}
	return apiErr.Code
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) month(offset int) string { return monthString(monthIndex(f.clock.t) + offset) }

func TestNewWorldDefaults(t *testing.T) {
	f := newFixture(t, 1)
	if got := len(f.w.distributor.customers); got != 200 {
		t.Errorf("direct customers = %d, want 200", got)
	}
	if len(f.w.subAgents) != subAgentCount {
		t.Errorf("second-level resellers = %d, want %d", len(f.w.subAgents), subAgentCount)
	}
	for _, sa := range f.w.subAgents {
		if n := len(sa.customers); n < 10 || n > 30 {
			t.Errorf("subagent %d has %d customers, want 10-30", sa.uin, n)
		}
	}
	creds := f.w.Credentials()
	roles := []string{}
	for _, c := range creds {
		roles = append(roles, c.Role)
		if len(c.SecretId) != 36 || c.SecretId[:4] != "AKID" || len(c.SecretKey) != 32 {
			t.Errorf("credential %+v does not look like a Tencent Cloud key", c)
		}
	}
	if !slices.IsSortedFunc(roles, func(a, b string) int { return rank(a) - rank(b) }) {
		t.Errorf("credential roles out of order: %v", roles)
	}
	seen := map[uint64]bool{}
	for uin := range f.w.customers {
		if seen[uin] || f.w.partners[uin] != nil {
			t.Fatalf("UIN %d is not unique", uin)
		}
		seen[uin] = true
		if uin < 100000000000 || uin > 999999999999 {
			t.Errorf("UIN %d is not 12 digits", uin)
		}
	}
	for _, c := range f.custs {
		cu := f.w.customers[c.Uin]
		if len(cu.vouchers) == 0 {
			t.Errorf("customer %d with a credential has no voucher", c.Uin)
		}
		cur := monthIndex(f.clock.t)
		for m := max(earliestBillMonth, monthIndex(cu.bindTime)+1); m <= cur; m++ {
			if len(f.w.visibleRows(cu, m, f.clock.t)) == 0 {
				t.Errorf("customer %d with a credential has no bill in %s", c.Uin, monthString(m))
			}
		}
		for _, m := range []int{earliestBillMonth - 1, monthIndex(cu.bindTime) - 1, cur + 1} {
			if rows := f.w.visibleRows(cu, m, f.clock.t); len(rows) != 0 {
				t.Errorf("customer %d bound %s has %d bill rows in %s", c.Uin, apiTime(cu.bindTime), len(rows), monthString(m))
			}
		}
	}
	if _, err := NewWorld(WorldOptions{Customers: maxCustomers + 1}); err == nil {
		t.Error("NewWorld accepted too many customers")
	}
}

func rank(role string) int {
	return map[string]int{"distributor": 0, "subagent": 1, "customer": 2}[role]
}

func TestDeterminism(t *testing.T) {
	answers := func(f *fixture) []any {
		cu := f.direct[0].Uin
		return []any{
			f.w.Credentials(),
			call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"Page": 2, "PageSize": 20}),
			call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": cu, "Month": f.month(-2), "Page": 1, "PageSize": 50}),
			call[partnerapi.QueryPendingClientsV2Response](t, f, f.dist, "QueryPendingClientsV2", map[string]any{"Page": 1, "PageSize": 50}),
			call[partnerapi.DescribeCustomerVoucherListResponse](t, f, f.dist, "DescribeCustomerVoucherList", map[string]any{"Page": 1, "PageSize": 100}),
			call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 100}),
		}
	}
	a, b := newFixture(t, 42), newFixture(t, 42)
	ja, jb := answers(a), answers(b)
	for i := range ja {
		if !reflect.DeepEqual(string(mustJSON(t, ja[i])), string(mustJSON(t, jb[i]))) {
			t.Errorf("answer %d differs between two worlds of the same seed", i)
		}
	}
	c := newFixture(t, 43)
	if reflect.DeepEqual(a.w.Credentials(), c.w.Credentials()) {
		t.Error("worlds of different seeds have the same credentials")
	}
	if string(mustJSON(t, ja[1])) == string(mustJSON(t, answers(c)[1])) {
		t.Error("worlds of different seeds list the same customers")
	}
}

func TestCallUnknownAction(t *testing.T) {
	f := newFixture(t, 1)
	if code := callCode(t, f, f.dist, "DescribeNothing", map[string]any{}); code != "InvalidAction" {
		t.Errorf("code = %s, want InvalidAction", code)
	}
}

func TestLargeWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("large world skipped in -short mode")
	}
	start := time.Now()
	w, err := NewWorld(WorldOptions{Seed: 7, Customers: maxCustomers, Now: newTestClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NewWorld with %d customers took %v", maxCustomers, time.Since(start))
	dist := w.Credentials()[0]
	c, _, _ := w.LookupSecret(dist.SecretId)
	start = time.Now()
	out, err := w.Call(c, "QueryPartnerCredit", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("QueryPartnerCredit over %d customers took %v: %+v", maxCustomers, time.Since(start), out)
	start = time.Now()
	if _, err := w.Call(c, "QueryCustomersCredit", json.RawMessage(`{"FilterType":"Name","Filter":"ltd","Page":3,"PageSize":100}`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("QueryCustomersCredit with a filter took %v", time.Since(start))
	if got := strconv.Itoa(len(w.distributor.customers)); got != strconv.Itoa(maxCustomers) {
		t.Errorf("direct customers = %s", got)
	}
}
