package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/cmd/portal/app"
	"resellerportal/store"
)

// BenchmarkBillsOverview builds a 2,000-customer sandbox world with every
// rate limit ×50 on both sides, fills the customers table, runs one bills
// refresh of last month at the scaled documented rate (reported as
// refresh-s, with the customers it read), and then serves the month's
// overview — the first page of the biggest spenders, the partner's total,
// twelve months for the chart — straight through the portal's handler,
// so ns/op is server time: no network, no client. It measures; it asserts
// no time.
//
//	go test -run '^$' -bench BillsOverview -benchtime 50x ./web/handlers/
func BenchmarkBillsOverview(b *testing.B) {
	p := newPortal(b, func(c *app.Config) { c.SandboxCustomers, c.RateScale = 2000, 50 })
	p.fillCustomers()
	month := p.app.Billing.Months()[1]
	start := time.Now()
	job, _, err := p.app.Billing.Refresh(b.Context(), audit.UserActor(p.users["staff"], "bench"), month)
	if err != nil {
		b.Fatal(err)
	}
	j := p.waitJob(job.ID)
	took := time.Since(start)
	if j.Status != store.JobDone {
		b.Fatalf("bills refresh %s: %s", j.Status, j.Error)
	}

	c := p.login("finance")
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+"/bills?month="+month, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	for b.Loop() {
		w := httptest.NewRecorder()
		p.routes.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("overview: %d", w.Code)
		}
	}
	// Reported after the loop: b.Loop's first call clears what was reported before it.
	b.ReportMetric(took.Seconds(), "refresh-s")
	b.ReportMetric(float64(j.UnitsDone), "customers")
	b.ReportMetric(float64(j.UnitsDone)/took.Seconds(), "customers/s")
}
