package partnerapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// testScale speeds up every documented limit on both sides, so tests that
// make many calls stay fast without ever tripping the sandbox's limits.
const testScale = 200

// fixture is a sandbox served over loopback and clients for its credentials.
type fixture struct {
	srv      *sandbox.Server
	ts       *httptest.Server
	limiters *partnerapi.Limiters
	creds    map[string][]sandbox.Credential // by role
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Seed: 7, Customers: 60, RateScale: testScale})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f := &fixture{srv: srv, ts: ts, limiters: partnerapi.NewLimiters(testScale), creds: map[string][]sandbox.Credential{}}
	for _, c := range srv.Credentials() {
		f.creds[c.Role] = append(f.creds[c.Role], c)
	}
	for _, role := range []string{"distributor", "subagent", "customer"} {
		if len(f.creds[role]) == 0 {
			t.Fatalf("the sandbox has no %s credential", role)
		}
	}
	return f
}

func (f *fixture) client(t *testing.T, c sandbox.Credential, mod ...func(*partnerapi.Config)) *partnerapi.Client {
	t.Helper()
	cfg := partnerapi.Config{
		Credential: partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey},
		Endpoint:   f.ts.Listener.Addr().String(),
		Scheme:     "http",
		Limiters:   f.limiters,
	}
	for _, m := range mod {
		m(&cfg)
	}
	cl, err := partnerapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func (f *fixture) distributor(t *testing.T) *partnerapi.Client {
	return f.client(t, f.creds["distributor"][0])
}

// firstCustomer returns a direct customer of the client's partner.
func firstCustomer(t *testing.T, ctx context.Context, c *partnerapi.Client) partnerapi.QueryCustomersCreditData {
	t.Helper()
	resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) == 0 {
		t.Fatal("the partner has no customers")
	}
	return resp.Data[0]
}

func TestWriteDroppedConnectionIsUnknownAndSentOnce(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dist := f.distributor(t)
	cust := firstCustomer(t, ctx, dist)

	f.srv.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	_, err := dist.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{
		ClientUin:   cust.ClientUin,
		AddedCredit: partnerapi.MustAmount("12.34"),
	})
	if !errors.Is(err, partnerapi.ErrOutcomeUnknown) {
		t.Fatalf("a write whose connection dropped answered %v, want an unknown outcome", err)
	}
	if n := f.srv.Requests(partnerapi.ActionAllocateCustomerCredit); n != 1 {
		t.Fatalf("%d requests arrived for one write, want exactly 1", n)
	}
	// The sandbox applied it: reading back shows the credit moved.
	after := firstCustomer(t, ctx, dist)
	want := cust.Credit.Decimal().Add(partnerapi.MustAmount("12.34").Decimal())
	if !after.Credit.Decimal().Equal(want) {
		t.Fatalf("credit after the dropped write is %s, want %s", after.Credit, want)
	}
}

func TestWriteNeverRetried(t *testing.T) {
	cases := []struct {
		name string
		code string
	}{
		{"internal error", "InternalError"},
		{"rate limited", "RequestLimitExceeded"},
		{"busy", "OperationDenied.ServiceBusy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			dist := f.distributor(t)
			f.srv.InjectFault(sandbox.Fault{Action: partnerapi.ActionModifyClientRemark, Code: tc.code, Count: 3})
			_, err := dist.ModifyClientRemark(ctx, &partnerapi.ModifyClientRemarkRequest{ClientUin: "1", Remark: "x"})
			var apiErr *partnerapi.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Action != partnerapi.ActionModifyClientRemark || apiErr.RequestId == "" {
				t.Fatalf("got %v, want an API error %s with a RequestId", err, tc.code)
			}
			if errors.Is(err, partnerapi.ErrOutcomeUnknown) {
				t.Fatal("an answered error was reported as an unknown outcome")
			}
			if n := f.srv.Requests(partnerapi.ActionModifyClientRemark); n != 1 {
				t.Fatalf("write sent %d times, want once", n)
			}
		})
	}
}

func TestReadRetries(t *testing.T) {
	cases := []struct {
		name      string
		fault     sandbox.Fault
		wantCode  string // "" for success
		wantSends int
	}{
		{"retried until it works", sandbox.Fault{Code: "InternalError", Count: 2}, "", 3},
		{"rate limited then works", sandbox.Fault{Code: "RequestLimitExceeded", Count: 1}, "", 2},
		{"busy then works", sandbox.Fault{Code: "OperationDenied.ServiceBusy", Count: 3}, "", 4},
		{"gives up after four attempts", sandbox.Fault{Code: "InternalError", Count: 10}, "InternalError", 4},
		{"not retried on a definite refusal", sandbox.Fault{Code: "UnauthorizedOperation.NotCustomerUin", Count: 1}, "UnauthorizedOperation.NotCustomerUin", 1},
		{"dropped connection retried", sandbox.Fault{Drop: true, Count: 1}, "", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.fault.Action = partnerapi.ActionQueryPartnerCredit
			f.srv.InjectFault(tc.fault)
			_, err := f.distributor(t).QueryPartnerCredit(t.Context(), nil)
			if got := partnerapi.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if n := f.srv.Requests(partnerapi.ActionQueryPartnerCredit); n != tc.wantSends {
				t.Fatalf("%d requests, want %d", n, tc.wantSends)
			}
		})
	}
}

func TestWriteThatNeverLeftIsAFailureNotUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := partnerapi.New(partnerapi.Config{
		Credential: partnerapi.Credential{SecretId: "AKIDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SecretKey: "k"},
		Endpoint:   addr, Scheme: "http", Limiters: partnerapi.NewLimiters(testScale),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ForceQN(t.Context(), &partnerapi.ForceQNRequest{ClientUin: 1, Type: 2})
	if err == nil || errors.Is(err, partnerapi.ErrOutcomeUnknown) {
		t.Fatalf("a write refused at connect answered %v, want a plain failure", err)
	}
}

func TestWriteTimeoutIsUnknown(t *testing.T) {
	f := newFixture(t)
	dist := f.client(t, f.creds["distributor"][0], func(c *partnerapi.Config) { c.AttemptTimeout = 50 * time.Millisecond })
	cust := firstCustomer(t, t.Context(), dist)
	f.srv.InjectFault(sandbox.Fault{Action: partnerapi.ActionForceQN, Latency: 10 * time.Second})
	_, err := dist.ForceQN(t.Context(), &partnerapi.ForceQNRequest{ClientUin: cust.ClientUin, Type: 2})
	if !errors.Is(err, partnerapi.ErrOutcomeUnknown) {
		t.Fatalf("a write that timed out answered %v, want an unknown outcome", err)
	}
	f.srv.ClearFaults()
}

func TestCreditRoundTripsExactly(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dist := f.distributor(t)
	cust := firstCustomer(t, ctx, dist)
	var last *partnerapi.AllocateCustomerCreditResponse
	for range 3 {
		r, err := dist.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: cust.ClientUin, AddedCredit: partnerapi.MustAmount("0.01")})
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	want := cust.Credit.Decimal().Add(partnerapi.MustAmount("0.03").Decimal())
	if !last.TotalCredit.Decimal().Equal(want) {
		t.Fatalf("credit after three 0.01 allocations is %s, want %s", last.TotalCredit, want)
	}
	hist, err := dist.QueryCreditAllocationHistory(ctx, &partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: cust.ClientUin, Page: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, h := range hist.History {
		if h.Credit.String() == "0.01" {
			found++
		}
	}
	if found != 3 {
		t.Fatalf("history shows %d allocations of 0.01, want 3: %+v", found, hist.History)
	}
}

func TestPagingWalksEveryPage(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dist := f.distributor(t)
	first, err := dist.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for c, err := range dist.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{PageSize: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.ClientUin] {
			t.Fatalf("customer %d yielded twice", c.ClientUin)
		}
		seen[c.ClientUin] = true
	}
	if uint64(len(seen)) != first.Total {
		t.Fatalf("walked %d customers, the API counts %d", len(seen), first.Total)
	}
	// Stopping early stops asking.
	before := f.srv.Requests(partnerapi.ActionQueryCustomersCredit)
	for range dist.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{PageSize: 5}) {
		break
	}
	if n := f.srv.Requests(partnerapi.ActionQueryCustomersCredit) - before; n != 1 {
		t.Fatalf("breaking after the first item made %d requests, want 1", n)
	}
}

func TestPagingReportsErrors(t *testing.T) {
	f := newFixture(t)
	sub := f.client(t, f.creds["subagent"][0])
	var got error
	for _, err := range sub.AllQuerySubAgentsDetailV2(t.Context(), partnerapi.QuerySubAgentsDetailV2Request{}) {
		got = err
	}
	if partnerapi.ErrorCode(got) != "UnauthorizedOperation.UinNoAuth" {
		t.Fatalf("walking a distributor-only list as a subagent gave %v", got)
	}
}

// headerRecorder remembers the headers of every request it carries.
type headerRecorder struct {
	mu   sync.Mutex
	seen []http.Header
	next http.RoundTripper
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Clone())
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func TestLanguagePerCall(t *testing.T) {
	f := newFixture(t)
	rec := &headerRecorder{next: http.DefaultTransport}
	c := f.client(t, f.creds["distributor"][0], func(cfg *partnerapi.Config) { cfg.Transport = rec })
	if _, err := c.GetCountryCodes(partnerapi.WithLanguage(t.Context(), "zh-CN"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCountryCodes(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if got := []string{rec.seen[0].Get("X-TC-Language"), rec.seen[1].Get("X-TC-Language")}; got[0] != "zh-CN" || got[1] != "en-US" {
		t.Fatalf("languages sent %v, want [zh-CN en-US]", got)
	}
	for _, h := range rec.seen {
		if h.Get("X-TC-Version") != partnerapi.APIVersion || h.Get("Authorization") == "" {
			t.Fatalf("request headers %v", h)
		}
	}
}

func TestCredentialFromEnv(t *testing.T) {
	env := map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "key", "TENCENTCLOUD_SESSION_TOKEN": "tok"}
	cred, ok := partnerapi.CredentialFromEnv(func(k string) string { return env[k] })
	if !ok || cred != (partnerapi.Credential{SecretId: "AKIDx", SecretKey: "key", Token: "tok"}) {
		t.Fatalf("got %+v %v", cred, ok)
	}
	delete(env, "TENCENTCLOUD_SECRET_KEY")
	if _, ok := partnerapi.CredentialFromEnv(func(k string) string { return env[k] }); ok {
		t.Fatal("a credential without a key was accepted")
	}
	if _, err := partnerapi.New(partnerapi.Config{}); err == nil {
		t.Fatal("a client without a credential was built")
	}
}

// memoryTransport serves requests straight from a handler, so the whole
// client and sandbox run inside a synctest bubble on its fake clock.
type memoryTransport struct{ h http.Handler }

func (m memoryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestClientHoldsTheLimitAgainstTheSandbox runs many goroutines through the
// client for a simulated minute: the sandbox never refuses a call for rate,
// and the client reaches at least 90% of the documented rate.
func TestClientHoldsTheLimitAgainstTheSandbox(t *testing.T) {
	for _, action := range []string{partnerapi.ActionQueryPartnerCredit, partnerapi.ActionDescribeBillSummaryByProduct} {
		t.Run(action, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, err := sandbox.New(sandbox.Options{Seed: 3, Customers: 20})
				if err != nil {
					t.Fatal(err)
				}
				c, err := partnerapi.New(partnerapi.Config{
					Credential: srv.DemoDistributor().Credential,
					Endpoint:   partnerapi.DefaultEndpoint,
					Transport:  memoryTransport{srv},
					// One attempt: a retry would hide a refusal for rate.
					MaxReadAttempts: 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				cust, err := c.QueryCustomersCredit(t.Context(), &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
				if err != nil || len(cust.Data) == 0 {
					t.Fatalf("no customer to ask about: %v", err)
				}
				uin := int64(cust.Data[0].ClientUin)
				month := time.Now().UTC().Format("2006-01")
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				var ok, refused atomic.Int64
				var wg sync.WaitGroup
				for range 16 {
					wg.Go(func() {
						for ctx.Err() == nil {
							var err error
							if action == partnerapi.ActionQueryPartnerCredit {
								_, err = c.QueryPartnerCredit(ctx, nil)
							} else {
								_, err = c.DescribeBillSummaryByProduct(ctx, &partnerapi.DescribeBillSummaryByProductRequest{BillMonth: month, CustomerUin: uin})
							}
							switch {
							case err == nil:
								ok.Add(1)
							case partnerapi.ErrorCode(err) == "RequestLimitExceeded":
								refused.Add(1)
							case errors.Is(err, context.DeadlineExceeded):
								return
							default:
								t.Errorf("call failed: %v", err)
								return
							}
						}
					})
				}
				wg.Wait()
				info, _ := partnerapi.LookupAction(action)
				limit := float64(info.PerSecond) * 60
				if refused.Load() != 0 {
					t.Errorf("the sandbox refused %d calls for rate", refused.Load())
				}
				if got := float64(ok.Load()); got > limit+1 || got < 0.9*limit {
					t.Errorf("%v calls in a simulated minute at %d/s; want between %v and %v", got, info.PerSecond, 0.9*limit, limit+1)
				}
			})
		})
	}
}
