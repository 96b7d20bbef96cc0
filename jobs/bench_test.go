package jobs_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// callClock records when the calls of one action answered ok.
type callClock struct {
	action string

	mu          sync.Mutex
	first, last time.Time
	calls       int
}

func (c *callClock) observe(action, outcome string, _ time.Duration) {
	if action != c.action || outcome != "ok" {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == 0 {
		c.first = now
	}
	c.last = now
	c.calls++
}

// take returns the calls since the last take and the time from the first
// answer to the last, and starts again.
func (c *callClock) take() (int, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, span := c.calls, c.last.Sub(c.first)
	c.calls, c.first, c.last = 0, time.Time{}, time.Time{}
	return n, span
}

// BenchmarkDirectoryRefresh refreshes the directory of a large world
// against the sandbox over loopback HTTP, with every rate limit scaled on
// both sides, and reports how close DescribeCustomerInfo, the action that
// sets the pace, comes to its scaled limit: the calls after the first over
// the time from the first answer to the last, as a fraction of 20/s × the
// scale. It measures; it asserts no time.
//
// Loopback answers at once, so at scale 50 a small machine measures the
// whole path's CPU (signing, the sandbox, decoding, the store's write per
// page) against the budget. The cases with a round trip (a fault delaying
// every answer, as a network would) measure what the job's concurrency is
// for: keeping the budget busy while answers are on their way.
//
//	go test -run '^$' -bench DirectoryRefresh ./jobs/
func BenchmarkDirectoryRefresh(b *testing.B) {
	for _, tt := range []struct {
		customers int
		scale     float64
		rtt       time.Duration
	}{
		{20000, 50, 0},
		{20000, 50, 40 * time.Millisecond},
		{4000, 5, 40 * time.Millisecond},
	} {
		b.Run(fmt.Sprintf("customers=%d/scale=%g/rtt=%s", tt.customers, tt.scale, tt.rtt), func(b *testing.B) {
			benchmarkDirectoryRefresh(b, tt.customers, tt.scale, tt.rtt)
		})
	}
}

func benchmarkDirectoryRefresh(b *testing.B, customers int, scale float64, rtt time.Duration) {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: customers, RateScale: scale})
	if err != nil {
		b.Fatal(err)
	}
	if rtt > 0 {
		sb.InjectFault(sandbox.Fault{Latency: rtt, Count: math.MaxInt32})
	}
	ts := httptest.NewServer(sb)
	defer ts.Close()
	info, _ := partnerapi.LookupAction(partnerapi.ActionDescribeCustomerInfo)
	clock := &callClock{action: partnerapi.ActionDescribeCustomerInfo}
	var client *partnerapi.Client
	for _, c := range sb.Credentials() {
		if c.Role == "distributor" {
			client, err = partnerapi.New(partnerapi.Config{
				Credential: partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey},
				Endpoint:   ts.Listener.Addr().String(), Scheme: "http",
				Limiters: partnerapi.NewLimiters(scale), Observe: clock.observe,
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	db, err := store.Open(b.Context(), b.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	owner, err := store.WriteReturning(b.Context(), db, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(b.Context(), store.User{Username: "olga", Role: "staff", PasswordHash: "x"})
	})
	if err != nil {
		b.Fatal(err)
	}
	// The second-level resellers' customers are refreshed too (without
	// DescribeCustomerInfo, which refuses them).
	all := customers
	for sa, err := range client.AllQuerySubAgentsDetailV2(b.Context(), partnerapi.QuerySubAgentsDetailV2Request{}) {
		if err != nil {
			b.Fatal(err)
		}
		all += int(sa.CountOfCustomers)
	}
	e := jobs.New(db, clients{client}, nil, jobs.DirectoryRefresh{})
	svc := jobs.NewService(db, e, nil)
	ctx, stop := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { stop(); <-done }()

	var (
		calls int
		span  time.Duration
	)
	for b.Loop() {
		job, _, err := svc.StartDirectoryRefresh(b.Context(), audit.UserActor(owner, "bench"))
		if err != nil {
			b.Fatal(err)
		}
		for {
			changed := e.Changed()
			j, err := db.JobByID(b.Context(), job.ID)
			if err != nil {
				b.Fatal(err)
			}
			if j.Status == store.JobDone {
				if j.UnitsDone != all {
					b.Fatalf("refreshed %d customers of %d", j.UnitsDone, all)
				}
				break
			}
			if j.Status != store.JobQueued && j.Status != store.JobRunning {
				b.Fatalf("directory job %s: %s", j.Status, j.Error)
			}
			<-changed
		}
		n, s := clock.take()
		calls, span = calls+n-1, span+s
	}
	rate := float64(calls) / span.Seconds()
	b.ReportMetric(rate, "calls/s")
	b.ReportMetric(rate/(float64(info.PerSecond)*scale), "of-limit")
}

// BenchmarkJobsPageData measures what the Jobs page's poll (/jobs/list)
// needs with 50,000 customers in the customers table (a fifth of them
// indirect) and 50,000 customers' bill summaries for the month: the freshness figures
// and the newest jobs.
//
//	go test -run '^$' -bench JobsPageData ./jobs/
func BenchmarkJobsPageData(b *testing.B) {
	const customers = 50000
	ctx := b.Context()
	db, err := store.Open(ctx, b.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	owner, err := store.WriteReturning(ctx, db, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(ctx, store.User{Username: "olga", Role: "admin", PasswordHash: "x"})
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	month := now.UTC().Format("2006-01")
	summary := func(uin uint64, at time.Time) store.BillMonth {
		return store.BillMonth{CustomerUin: uin, Month: month, Total: "123.45", FetchedAt: at,
			Products: []store.BillPart{{Code: "p_cvm", Name: "Cloud Virtual Machine", Total: "100.00000000"}, {Code: "p_cos", Name: "Cloud Object Storage", Total: "23.45000000"}},
			Regions:  []store.BillPart{{Code: "1", Name: "Guangzhou", Total: "123.45"}},
			PayModes: []store.BillPayMode{{BillPart: store.BillPart{Code: "postPay", Total: "123.45"}}}}
	}
	for from := 0; from < customers; from += 1000 {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := from; i < from+1000; i++ {
				uin := uint64(100000000 + i)
				at := now.Add(-time.Duration(i) * time.Millisecond)
				cu := store.Customer{Uin: uin, Name: fmt.Sprint("Customer ", i), Email: fmt.Sprintf("someone%d@example.com", i),
					Credit: "1000", RemainingCredit: "800", AccountStatus: "0", AuthStatus: "3", FetchedAt: at}
				if i%5 == 0 {
					cu.ResellerUin = uint64(900000000 + i%300)
				}
				if err := tx.UpsertCustomer(ctx, cu); err != nil {
					return err
				}
				if err := tx.PutBillMonth(ctx, summary(uin, at)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// A portal that has been running a while: many jobs, some large.
	for i := range 200 {
		items := make([]store.JobItem, 250)
		for k := range items {
			items[k] = store.JobItem{Key: fmt.Sprint(k)}
		}
		if _, err := store.WriteReturning(ctx, db, func(tx *store.Tx) (store.Job, error) {
			return tx.CreateJob(ctx, store.Job{Kind: jobs.KindWrites, OwnerID: owner.ID, Title: fmt.Sprint("job ", i)}, items)
		}); err != nil {
			b.Fatal(err)
		}
	}
	svc := jobs.NewService(db, jobs.New(db, nil, nil, jobs.DirectoryRefresh{}, jobs.BillsRefresh{DB: db}), nil)
	actor := audit.UserActor(owner, "bench")
	for b.Loop() {
		st, err := svc.CacheStatus(ctx, month)
		if err != nil {
			b.Fatal(err)
		}
		if st.Directory.Count != customers || st.Bills.Count != customers || st.Bills.Of != customers*4/5 {
			b.Fatalf("CacheStatus = %+v", st)
		}
		list, err := svc.List(ctx, actor, 50)
		if err != nil || len(list) != 50 {
			b.Fatalf("List = %d jobs, %v", len(list), err)
		}
	}
}
