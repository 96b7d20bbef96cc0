package jobs_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"testing"
	"time"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// bulkIntents allocates to each customer once, with its own key, as a bulk
// allocation's lines do.
func bulkIntents(cs []partnerapi.QueryCustomersCreditData, n int, batch string) []jobs.WriteIntent {
	out := make([]jobs.WriteIntent, n)
	for i := range n {
		out[i] = jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: cs[i].ClientUin,
			AddedCredit: "2.50", Remark: "bulk", Key: batch + "-" + strconv.Itoa(i+1)}
	}
	return out
}

// runPhase runs an engine until stop says so, and returns the job then
// and how fast its writes went: outcomes recorded per second.
func (r *rig) runPhase(e *jobs.Engine, id int64, stop func(store.Job) bool) (store.Job, float64) {
	r.t.Helper()
	before, err := r.db.JobByID(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(r.t.Context())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		e.Run(ctx)
		close(done)
	}()
	j := r.waitFor(e, id, "its stop", stop)
	elapsed := time.Since(start)
	cancel()
	<-done
	moved := (j.Done + j.Failed + j.Unknown) - (before.Done + before.Failed + before.Unknown)
	return j, float64(moved) / elapsed.Seconds()
}

// TestBulkAllocationAcrossRestart sends 500 allocations as one writes job
// at the sandbox's limit, stops the portal half-way and starts it again,
// with answers the sandbox applied and dropped in both halves; every line
// is applied exactly once and the writes never go faster than the limit.
func TestBulkAllocationAcrossRestart(t *testing.T) {
	const lines, scale = 500, 10
	limit := 5.0 * scale // AllocateCustomerCredit: 5 a second, scaled
	r := newRigWith(t, rigOptions{customers: lines, scale: scale})
	ctx := t.Context()
	cs := r.customers()
	if len(cs) < lines {
		t.Fatalf("%d customers, want %d", len(cs), lines)
	}
	svc := jobs.NewService(r.db, r.engine(), nil)
	job, err := svc.SubmitWrites(ctx, r.people().actor("olga"), "bulk", jobs.WriteParams{}, bulkIntents(cs, lines, "batch-x"))
	if err != nil {
		t.Fatal(err)
	}
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	half, rate1 := r.runPhase(r.engine(), job.ID, func(j store.Job) bool { return j.Done >= lines/2 })

	r.open() // the restarted portal
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	final, rate2 := r.runPhase(r.engine(), job.ID, func(j store.Job) bool { return j.Status == store.JobDone || j.Status == store.JobFailed })
	t.Logf("%d lines at a limit of %.0f/s: %.1f/s before the restart (%d done), %.1f/s after", lines, limit, rate1, half.Done, rate2)

	if final.Status != store.JobDone || final.Done != lines || final.Failed != 0 || final.Unknown != 0 {
		t.Fatalf("after restart: %s, %d done, %d failed, %d unknown", final.Status, final.Done, final.Failed, final.Unknown)
	}
	// No line applied twice, none missing: one marker of the job in each
	// customer's history, and one request each (the dropped ones were read
	// back, not sent again).
	for _, c := range cs[:lines] {
		marks := r.allocations(c.ClientUin, job.ID)
		if len(marks) != 1 {
			t.Errorf("customer %d: %v", c.ClientUin, marks)
		}
		for m, n := range marks {
			if n != 1 {
				t.Errorf("customer %d: %s applied %d times", c.ClientUin, m, n)
			}
		}
	}
	if n := r.sb.Requests(partnerapi.ActionAllocateCustomerCredit); n != lines {
		t.Errorf("%d allocation requests reached the sandbox, want %d", n, lines)
	}
	// Never faster than the limit: the sandbox would have refused a line
	// (no line failed), and the rate measured over each half stays under
	// it with a little room for timing.
	for i, rate := range []float64{rate1, rate2} {
		if rate > limit*1.05 {
			t.Errorf("half %d went at %.1f/s, over the limit of %.0f/s", i+1, rate, limit)
		}
	}
	rows, n, err := r.db.CreditLedger(ctx, store.LedgerQuery{JobID: job.ID, Limit: -1})
	if err != nil || n != lines {
		t.Fatalf("ledger: %d rows, %v", n, err)
	}
	readBack := 0
	for _, a := range rows {
		if a.Status != store.ItemOK {
			t.Errorf("line %s: %s", a.Key, a.Status)
		}
		if a.RequestId == "" {
			readBack++ // its answer was dropped: found in the history, no RequestId
		}
	}
	if readBack != 2 {
		t.Errorf("%d lines read back, want the 2 whose answers were dropped", readBack)
	}
}

// bulkScale scales the limits of BenchmarkBulkAllocationRate, as
// --rate-scale does (go test -bench BulkAllocationRate -args -bulk-scale 10).
var bulkScale = flag.Float64("bulk-scale", 1, "rate limits ×this in BenchmarkBulkAllocationRate")

// BenchmarkBulkAllocationRate sends a bulk allocation at the documented
// limit (RATE_SCALE 1: 5 a second, so 500 lines take 100 s) and reports
// the rate reached and its ratio to the limit.
func BenchmarkBulkAllocationRate(b *testing.B) {
	const lines = 500
	scale := *bulkScale
	limit := 5 * scale
	for b.Loop() {
		r := newRigWith(b, rigOptions{customers: lines, scale: scale})
		r.wait = time.Duration(3*lines/limit)*time.Second + time.Minute
		cs := r.customers()
		svc := jobs.NewService(r.db, r.engine(), nil)
		job, err := svc.SubmitWrites(b.Context(), r.people().actor("olga"), "bulk", jobs.WriteParams{}, bulkIntents(cs, lines, fmt.Sprintf("bench-%d", b.N)))
		if err != nil {
			b.Fatal(err)
		}
		final, rate := r.runPhase(r.engine(), job.ID, func(j store.Job) bool { return j.Status == store.JobDone || j.Status == store.JobFailed })
		if final.Done != lines {
			b.Fatalf("%d of %d done", final.Done, lines)
		}
		b.ReportMetric(rate, "lines/s")
		b.ReportMetric(rate/limit, "of-limit")
	}
}
