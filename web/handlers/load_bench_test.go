package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/cmd/portal/app"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// load is what one load run measured.
type load struct {
	requests, errors int
	took             time.Duration
	latencies        []time.Duration
}

func (l load) perSecond() float64 { return float64(l.requests) / l.took.Seconds() }

func (l load) p99() time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	slices.Sort(l.latencies)
	return l.latencies[len(l.latencies)*99/100]
}

// hammer sends GET path from one client per worker, as fast as each gets
// answers, for d; a non-200 answer or a transport failure is an error.
func hammer(clients []*http.Client, base, path string, d time.Duration) load {
	var mu sync.Mutex
	var total load
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			var mine load
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := c.Get(base + path)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mine.latencies = append(mine.latencies, time.Since(t0))
				mine.requests++
				if err != nil || resp.StatusCode != http.StatusOK {
					mine.errors++
				}
			}
			mu.Lock()
			total.requests += mine.requests
			total.errors += mine.errors
			total.latencies = append(total.latencies, mine.latencies...)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.took = time.Since(start)
	return total
}

// loadClient is a client for load runs: it keeps its connections.
func loadClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	c := (&portal{}).browser()
	c.Transport = tr
	c.Timeout = 10 * time.Second
	return c
}

// BenchmarkDashboardUnderLoad serves the dashboard to 50 signed-in
// sessions at once for a few seconds, and a bare handler the same way in
// the same process, and reports both rates, the dashboard's p99 and
// errors, and how many partner API calls the run cost. Run it with
//
//	go test -run '^$' -bench DashboardUnderLoad -benchtime 1x ./web/handlers/
func BenchmarkDashboardUnderLoad(b *testing.B) {
	const sessions = 50
	const d = 5 * time.Second
	p := newPortal(b)
	clients := make([]*http.Client, sessions)
	for i := range clients {
		clients[i] = loadClient()
		resp := p.post(clients[i], "/login", url.Values{"username": {"staff-user"}, "password": {testPassword}})
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("sign in %d: %d", i, resp.StatusCode)
		}
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><p>ok</p>")
	}))
	defer bare.Close()
	bareClients := make([]*http.Client, sessions)
	for i := range bareClients {
		bareClients[i] = loadClient()
	}
	// Warm the cache once, as the first visitor of the morning does.
	p.get(clients[0], "/")
	actions := []string{partnerapi.ActionQueryPartnerCredit, partnerapi.ActionQueryVoucherPool,
		partnerapi.ActionQueryPendingClientsV2, partnerapi.ActionQueryPendingSubAgentsV2}
	before := map[string]int{}
	for _, a := range actions {
		before[a] = p.sandbox.Requests(a)
	}
	b.ResetTimer()
	for range b.N {
		dash := hammer(clients, p.ts.URL, "/", d)
		base := hammer(bareClients, bare.URL, "/", d)
		calls := 0
		for _, a := range actions {
			calls += max(0, p.sandbox.Requests(a)-before[a])
		}
		b.ReportMetric(dash.perSecond(), "dashboard-req/s")
		b.ReportMetric(base.perSecond(), "bare-req/s")
		b.ReportMetric(100*dash.perSecond()/base.perSecond(), "%-of-bare")
		b.ReportMetric(float64(dash.p99().Microseconds())/1000, "dashboard-p99-ms")
		b.ReportMetric(float64(dash.errors), "errors")
		b.ReportMetric(float64(calls), "api-calls")
	}
}

// BenchmarkAuditPage serves the audit page to 8 finance sessions with a
// log of 100 rows and of 100,000 rows and reports both rates: keyset
// pages and a capped count keep the large log close to the small one.
//
//	go test -run '^$' -bench AuditPage -benchtime 1x ./web/handlers/
func BenchmarkAuditPage(b *testing.B) {
	for _, rows := range []int{100, 100000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			p := newPortal(b)
			fillAudit(b, p.db, rows)
			clients := make([]*http.Client, 8)
			for i := range clients {
				clients[i] = loadClient()
				if r := p.post(clients[i], "/login", url.Values{"username": {"finance-user"}, "password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
					b.Fatalf("sign in: %d", r.StatusCode)
				}
			}
			b.ResetTimer()
			for range b.N {
				l := hammer(clients, p.ts.URL, "/audit", 3*time.Second)
				b.ReportMetric(l.perSecond(), "req/s")
				b.ReportMetric(float64(l.p99().Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(l.errors), "errors")
			}
		})
	}
}

// fillAudit appends n audit rows, a thousand to a transaction.
func fillAudit(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	actor := audit.CommandLine()
	for done := 0; done < n; {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := 0; i < 1000 && done < n; i++ {
				e := actor.Entry("customer.remark", uint64(100000+done%5000), map[string]string{"remark": strings.Repeat("x", 20)})
				if _, err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJobsAtScale measures the Jobs page's list (polled every two
// seconds while a job runs) and starting a bills refresh, with 50,000
// customers and a month of bill summaries cached.
//
//	go test -run '^$' -bench JobsAtScale -benchtime 20x ./web/handlers/
func BenchmarkJobsAtScale(b *testing.B) {
	p := newPortal(b, func(c *app.Config) { c.SandboxCustomers = 50000 })
	fillCache(b, p.db, 50000, time.Now().UTC().Format("2006-01"))
	staff := p.login("staff")
	b.Run("list", func(b *testing.B) {
		for range b.N {
			if r := p.get(staff, "/jobs/list"); r.StatusCode != http.StatusOK {
				b.Fatalf("/jobs/list: %d", r.StatusCode)
			}
		}
	})
	b.Run("start-bills", func(b *testing.B) {
		months := []string{}
		for i := range 12 {
			months = append(months, time.Now().UTC().AddDate(0, -i, 0).Format("2006-01"))
		}
		for i := range b.N {
			r := p.post(staff, "/jobs/bills", url.Values{"month": {months[i%len(months)]}})
			if r.StatusCode != http.StatusSeeOther {
				b.Fatalf("POST /jobs/bills: %d", r.StatusCode)
			}
		}
	})
}

// fillCache stores n customers and caches their bill summaries for month,
// as the refresh jobs would.
func fillCache(b *testing.B, db *store.DB, n int, month string) {
	ctx := context.Background()
	now := time.Now()
	for start := 0; start < n; start += 5000 {
		err := db.Write(ctx, func(tx *store.Tx) error {
			var batch []store.Customer
			for i := start; i < min(start+5000, n); i++ {
				uin := uint64(200000000000 + i)
				batch = append(batch, store.Customer{Uin: uin, Name: fmt.Sprint("customer ", i), AuthType: -1, FetchedAt: now})
				if err := tx.PutBillMonth(ctx, store.BillMonth{CustomerUin: uin, Month: month, Total: "1", FetchedAt: now}); err != nil {
					return err
				}
			}
			return tx.UpsertCustomers(ctx, batch)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCustomersPage measures the customer list as a person gets it —
// the whole request: session, query, a page of 50 rows rendered — over
// 50,000 customers, for a search, a filter, sorts and a deep page.
//
//	go test -run '^$' -bench CustomersPage -benchtime 20x ./web/handlers/
func BenchmarkCustomersPage(b *testing.B) {
	p := newPortal(b, func(c *app.Config) { c.SandboxCustomers = 50000 })
	fillCache(b, p.db, 50000, time.Now().UTC().Format("2006-01"))
	staff := p.login("staff")
	for _, q := range []struct{ name, query string }{
		{"search-name", "q=customer+4242"},
		{"search-uin-prefix", "q=2000000123"},
		{"filter-suspended", "suspended=no"},
		{"sort-name", "sort=name"},
		{"sort-credit-desc", "sort=credit&desc=1"},
		{"sort-bind-time-page-999", "page=999"},
		{"csv-all", ""},
	} {
		b.Run(q.name, func(b *testing.B) {
			path := "/customers/?" + q.query
			if q.name == "csv-all" {
				path = "/customers.csv"
			}
			for range b.N {
				if r := p.get(staff, path); r.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, r.StatusCode)
				}
			}
		})
	}
}
