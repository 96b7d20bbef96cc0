package dashboard

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"resellerportal/apicache"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// clients gives the sandbox's distributor, and a reseller's own key when
// ownKey is set.
type clients struct {
	dist, sub *partnerapi.Client
	ownKey    bool
}

func (c clients) Distributor(context.Context) (*partnerapi.Client, error) { return c.dist, nil }

func (c clients) ForSubagent(context.Context, uint64) (*partnerapi.Client, bool, error) {
	if c.ownKey {
		return c.sub, true, nil
	}
	return c.dist, false, nil
}

type env struct {
	svc    *Service
	sb     *sandbox.Server
	clock  *fakeClock
	subUin uint64
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(t *testing.T, ownKey bool) *env {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: 4, Customers: 10, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	lim := partnerapi.NewLimiters(100)
	client := func(cred partnerapi.Credential) *partnerapi.Client {
		c, err := partnerapi.New(partnerapi.Config{Credential: cred, Endpoint: ts.Listener.Addr().String(), Scheme: "http",
			Limiters: lim, AttemptTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	clock := &fakeClock{t: time.Now()}
	cache := apicache.New(apicache.Options{Now: clock.now})
	cs := clients{dist: client(sb.DemoDistributor().Credential), sub: client(sb.DemoSubAgent().Credential), ownKey: ownKey}
	return &env{svc: New(cs, cache), sb: sb, clock: clock, subUin: sb.DemoSubAgent().Uin}
}

var (
	staff   = audit.Actor{Principal: auth.Principal{UserID: 1, Username: "s", Role: auth.RoleStaff}}
	finance = audit.Actor{Principal: auth.Principal{UserID: 2, Username: "f", Role: auth.RoleFinance}}
)

func (e *env) calls(action string) int { return e.sb.Requests(action) }

func TestFiguresComeFromTheCache(t *testing.T) {
	e := newEnv(t, false)
	ctx := t.Context()
	f, err := e.svc.Figures(ctx, staff, apicache.Cached)
	if err != nil {
		t.Fatal(err)
	}
	if f.Credit.Value == nil || f.Vouchers.Value == nil || f.Vouchers.Value.Issued == nil || f.PendingCustomers.Value == nil || f.PendingResellers.Value == nil {
		t.Fatalf("the first view lacks figures: %+v", f)
	}
	if f.Stale() {
		t.Fatal("figures just read are stale")
	}
	// Fifty views by several people within the freshness cost no more calls.
	var wg sync.WaitGroup
	for i := range 50 {
		who := staff
		if i%2 == 1 {
			who = finance
		}
		wg.Go(func() {
			if _, err := e.svc.Figures(ctx, who, apicache.Fresh); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.calls(partnerapi.ActionQueryPartnerCredit); n != 1 {
		t.Fatalf("%d QueryPartnerCredit calls for 51 views within a minute, want 1", n)
	}
	if f, _ := e.svc.Figures(ctx, finance, apicache.Cached); f.ShowResellers {
		t.Fatal("finance is shown reseller applications")
	}
	// Past the freshness, a cached view shows the old figures as stale and
	// the background refresh reads them again.
	e.clock.advance(2 * time.Minute)
	f, _ = e.svc.Figures(ctx, staff, apicache.Cached)
	if !f.Stale() || f.Credit.Value == nil || e.calls(partnerapi.ActionQueryPartnerCredit) != 1 {
		t.Fatalf("a stale cached view: stale %v, calls %d", f.Stale(), e.calls(partnerapi.ActionQueryPartnerCredit))
	}
	if f, _ = e.svc.Figures(ctx, staff, apicache.Fresh); f.Stale() || e.calls(partnerapi.ActionQueryPartnerCredit) != 2 {
		t.Fatalf("a fresh read: stale %v, calls %d", f.Stale(), e.calls(partnerapi.ActionQueryPartnerCredit))
	}
	// Refresh calls again, but two refreshes at once share one call.
	e.clock.advance(5 * time.Second)
	wg.Go(func() { e.svc.Figures(ctx, staff, apicache.Refresh) })
	wg.Go(func() { e.svc.Figures(ctx, finance, apicache.Refresh) })
	wg.Wait()
	if n := e.calls(partnerapi.ActionQueryPartnerCredit); n != 3 {
		t.Fatalf("two refreshes at once made %d calls in all, want 3", n)
	}
}

func TestResellerFigures(t *testing.T) {
	for _, own := range []bool{false, true} {
		e := newEnv(t, own)
		sub := audit.Actor{Principal: auth.Principal{UserID: 3, Username: "r", Role: auth.RoleSubagent, SubagentUin: e.subUin}}
		f, err := e.svc.Figures(t.Context(), sub, apicache.Cached)
		if err != nil {
			t.Fatal(err)
		}
		if f.Credit.Value == nil || f.ShowResellers {
			t.Fatalf("own key %v: credit %v, resellers shown %v", own, f.Credit.Value, f.ShowResellers)
		}
		if f.ThroughDistributor == own {
			t.Fatalf("own key %v: seen through the distributor %v", own, f.ThroughDistributor)
		}
		if !own && f.Vouchers.Value.Issued != nil {
			t.Fatal("a reseller seen through the distributor shows an issued count the API does not give")
		}
	}
	if _, err := newEnv(t, false).svc.Figures(t.Context(), audit.Actor{}, apicache.Cached); !errors.Is(err, ErrForbidden) {
		t.Fatalf("nobody got the figures: %v", err)
	}
}

func TestFailuresAreShownPerFigure(t *testing.T) {
	e := newEnv(t, false)
	e.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryVoucherPool, Code: "InternalError", Count: 100})
	f, err := e.svc.Figures(t.Context(), staff, apicache.Cached)
	if err != nil {
		t.Fatal(err)
	}
	if f.Vouchers.Err == nil || f.Vouchers.Value != nil || f.Credit.Value == nil {
		t.Fatalf("one failing figure: vouchers %v / %v, credit %v", f.Vouchers.Value, f.Vouchers.Err, f.Credit.Value)
	}
	if err := e.sb.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionQueryPendingClientsV2, false); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(2 * time.Minute)
	f, _ = e.svc.Figures(t.Context(), staff, apicache.Fresh)
	if !partnerapi.NotAllowlisted(partnerapi.ActionQueryPendingClientsV2, f.PendingCustomers.Err) {
		t.Fatalf("pending customers without the allowlist: %v", f.PendingCustomers.Err)
	}
}
