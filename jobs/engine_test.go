package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// rig is a store, a sandbox over loopback and a client for its distributor.
type rig struct {
	t      *testing.T
	path   string
	db     *store.DB
	sb     *sandbox.Server
	client *partnerapi.Client
	owner  store.User
}

// clients hands the engine the rig's distributor client.
type clients struct{ c *partnerapi.Client }

func (c clients) Distributor(context.Context) (*partnerapi.Client, error) { return c.c, nil }

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, path: t.TempDir() + "/portal.db"}
	r.open()
	sb, err := sandbox.New(sandbox.Options{Seed: 21, Customers: 12, RateScale: 200})
	if err != nil {
		t.Fatal(err)
	}
	r.sb = sb
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	for _, c := range sb.Credentials() {
		if c.Role == "distributor" {
			r.client, err = partnerapi.New(partnerapi.Config{
				Credential: partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey},
				Endpoint:   ts.Listener.Addr().String(), Scheme: "http", Limiters: partnerapi.NewLimiters(200),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	r.owner, err = r.db.CreateUser(t.Context(), store.User{Username: "olga", Role: "staff", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// open (re)opens the database, as a restarted portal would.
func (r *rig) open() {
	db, err := store.Open(r.t.Context(), r.path, store.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.db = db
	r.t.Cleanup(func() { db.Close() })
}

func (r *rig) engine() *jobs.Engine {
	return jobs.New(r.db, clients{r.client}, nil, jobs.DirectoryRefresh{DB: r.db}, jobs.BillsRefresh{DB: r.db}, jobs.ApplyWrites{DB: r.db})
}

// runUntil runs an engine until the job reaches one of the statuses.
func (r *rig) runUntil(e *jobs.Engine, id int64, statuses ...string) store.Job {
	r.t.Helper()
	ctx, cancel := context.WithCancel(r.t.Context())
	done := make(chan struct{})
	go func() {
		e.Run(ctx)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.After(60 * time.Second)
	for {
		changed := e.Changed()
		j, err := r.db.JobByID(r.t.Context(), id)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, s := range statuses {
			if j.Status == s {
				return j
			}
		}
		select {
		case <-deadline:
			r.t.Fatalf("job %d stuck in %s (%d/%d done)", id, j.Status, j.Done, j.Total)
		case <-changed:
		}
	}
}

func (r *rig) customers() []partnerapi.QueryCustomersCreditData {
	r.t.Helper()
	var out []partnerapi.QueryCustomersCreditData
	for c, err := range r.client.AllQueryCustomersCredit(r.t.Context(), partnerapi.QueryCustomersCreditRequest{}) {
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// allocations counts, per customer, history entries carrying a job marker.
func (r *rig) allocations(uin uint64, job int64) map[string]int {
	r.t.Helper()
	out := map[string]int{}
	for h, err := range r.client.AllQueryCreditAllocationHistory(r.t.Context(), partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: uin}) {
		if err != nil {
			r.t.Fatal(err)
		}
		prefix := "[portal job " + strconv.FormatInt(job, 10) + "/"
		if i := strings.Index(h.Remark, prefix); i >= 0 {
			out[h.Remark[i:]]++
		}
	}
	return out
}

func creditIntents(cs []partnerapi.QueryCustomersCreditData, n int) []jobs.WriteIntent {
	var out []jobs.WriteIntent
	for i := range n {
		out = append(out, jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: cs[i%len(cs)].ClientUin, AddedCredit: "1.25", Remark: "bulk top-up"})
	}
	return out
}

func TestReadJobsFillTheCache(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	e := r.engine()
	items, err := jobs.PlanDirectory(ctx, r.client)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := e.Submit(ctx, "directory.refresh", r.owner, "directory", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	if j := r.runUntil(e, dir.ID, store.JobDone, store.JobFailed); j.Status != store.JobDone {
		t.Fatalf("directory job %s: %s", j.Status, j.Error)
	}
	cs := r.customers()
	if _, n, _ := r.db.CacheOldest(ctx, jobs.CacheCustomer); n != len(cs) {
		t.Fatalf("directory cached %d customers, the API has %d", n, len(cs))
	}
	month := time.Now().UTC().Format("2006-01")
	var uins []uint64
	for _, c := range cs {
		uins = append(uins, c.ClientUin)
	}
	bills, err := e.Submit(ctx, "bills.refresh", r.owner, "bills", map[string]string{"Month": month}, jobs.PlanBills(month, uins))
	if err != nil {
		t.Fatal(err)
	}
	if j := r.runUntil(e, bills.ID, store.JobDone, store.JobFailed); j.Status != store.JobDone || j.Done != len(uins) {
		t.Fatalf("bills job %s, %d/%d: %s", j.Status, j.Done, j.Total, j.Error)
	}
	entry, err := r.db.CacheGet(ctx, jobs.CacheBillSummary, jobs.BillCacheKey(month, uins[0]))
	if err != nil {
		t.Fatal(err)
	}
	var s jobs.BillSummary
	if err := json.Unmarshal(entry.Value, &s); err != nil {
		t.Fatal(err)
	}
	want, err := r.client.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: uins[0], Month: month})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Total.Decimal().Equal(want.TotalCost.Decimal()) {
		t.Fatalf("cached total %s, API total %s", s.Total, want.TotalCost)
	}
}

// TestRestartMidJobAppliesNoWriteTwice stops the engine while a write's
// outcome is unknown (the sandbox applied it and dropped the connection),
// starts a new engine on the same database, and checks that every write
// was applied exactly once.
func TestRestartMidJobAppliesNoWriteTwice(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	cs := r.customers()
	items, err := jobs.PlanWrites(creditIntents(cs, 8))
	if err != nil {
		t.Fatal(err)
	}
	first := r.engine()
	job, err := first.Submit(ctx, "writes.apply", r.owner, "top-up", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	// The fourth write is applied, then its connection dropped; the one
	// after it fails with an internal error the client must not retry.
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		first.Run(runCtx)
		close(done)
	}()
	// Stop the first portal as soon as an outcome is unknown.
	deadline := time.After(60 * time.Second)
	for {
		changed := first.Changed()
		counts, err := r.db.CountItems(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.ItemUnknown] > 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("no unknown outcome arrived: %v", counts)
		case <-changed:
		}
	}
	stop()
	<-done

	// A crash between recording an intent and sending it leaves an item
	// "sent" that never reached Tencent Cloud: fake one.
	pending, err := r.db.JobItems(ctx, job.ID, []string{store.ItemPending}, 1)
	if err != nil || len(pending) == 0 {
		t.Fatalf("no pending item left to fake a crash on: %v", err)
	}
	if err := r.db.MarkItemSent(ctx, job.ID, pending[0].Seq); err != nil {
		t.Fatal(err)
	}

	r.open() // the restarted portal
	second := r.engine()
	final := r.runUntil(second, job.ID, store.JobDone, store.JobFailed)
	if final.Status != store.JobDone || final.Done != 8 || final.Unknown != 0 || final.Failed != 0 {
		t.Fatalf("after restart: %s, %d done, %d failed, %d unknown", final.Status, final.Done, final.Failed, final.Unknown)
	}
	seen := map[string]int{}
	for _, c := range cs[:min(8, len(cs))] {
		for k, v := range r.allocations(c.ClientUin, job.ID) {
			seen[k] += v
		}
	}
	if len(seen) != 8 {
		t.Fatalf("%d distinct writes applied, want 8: %v", len(seen), seen)
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("write %s applied %d times", k, v)
		}
	}
	// 8 writes sent once each, plus none resent: the dropped one was
	// reconciled, the faked one was found missing and sent once.
	if n := r.sb.Requests(partnerapi.ActionAllocateCustomerCredit); n != 8 {
		t.Errorf("%d allocation requests reached the sandbox, want 8", n)
	}
	entries, _, err := r.db.QueryAudit(ctx, store.AuditFilter{Action: partnerapi.ActionAllocateCustomerCredit, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string]int{}
	for _, e := range entries {
		phases[e.Params["phase"]]++
	}
	if phases["intent"] < 8 || phases["outcome"] < 7 || phases["reconciled"] < 1 {
		t.Errorf("audit phases %v: want an intent per send, an outcome per answer and a reconciliation", phases)
	}
}

func TestUnknownOutcomeThatCannotBeReadBackStaysUnknown(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	cs := r.customers()
	items, err := jobs.PlanWrites(creditIntents(cs, 1))
	if err != nil {
		t.Fatal(err)
	}
	e := r.engine()
	job, err := e.Submit(ctx, "writes.apply", r.owner, "one", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	// A portal that recorded the intent and then died.
	if err := r.db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.db.MarkItemSent(ctx, job.ID, 0); err != nil {
		t.Fatal(err)
	}
	// Reading back fails every time: nothing may be sent blindly.
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryCreditAllocationHistory, Code: "UnauthorizedOperation.UinNoAuth", Count: 100})
	final := r.runUntil(e, job.ID, store.JobDone, store.JobFailed)
	if final.Unknown != 1 || final.Done != 0 {
		t.Fatalf("job %s: %d done, %d unknown; want the item left unknown", final.Status, final.Done, final.Unknown)
	}
	if n := r.sb.Requests(partnerapi.ActionAllocateCustomerCredit); n != 0 {
		t.Fatalf("the write was sent %d times without a read-back", n)
	}
}

func TestCancelStopsAJob(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	cs := r.customers()
	var uins []uint64
	for _, c := range cs {
		uins = append(uins, c.ClientUin)
	}
	e := r.engine()
	// Slow every bill answer down so the job is still running when cancelled.
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionDescribeCustomerBillSummary, Latency: 200 * time.Millisecond, Count: 1000})
	job, err := e.Submit(ctx, "bills.refresh", r.owner, "bills", nil, jobs.PlanBills("2026-01", uins))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		e.Run(runCtx)
		close(done)
	}()
	defer func() { stop(); <-done }()
	if err := e.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	final := r.runUntil(e, job.ID, store.JobCancelled, store.JobDone, store.JobFailed)
	if final.Status != store.JobCancelled {
		t.Fatalf("status %s after cancel", final.Status)
	}
	counts, _ := r.db.CountItems(ctx, job.ID)
	if counts[store.ItemSkipped] == 0 {
		t.Fatalf("no item was skipped: %v", counts)
	}
}

func TestPlanWritesRefusesBadIntents(t *testing.T) {
	two, one := int64(2), int64(1)
	cases := []struct {
		name string
		w    jobs.WriteIntent
		ok   bool
	}{
		{"credit", jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: 1, AddedCredit: "-3.5"}, true},
		{"bad amount", jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: 1, AddedCredit: "lots"}, false},
		{"suspend", jobs.WriteIntent{Action: partnerapi.ActionForceQN, ClientUin: 1, Type: &two}, true},
		{"bad type", jobs.WriteIntent{Action: partnerapi.ActionForceQN, ClientUin: 1, Type: &one}, false},
		{"no type", jobs.WriteIntent{Action: partnerapi.ActionForceQN, ClientUin: 1}, false},
		{"remark", jobs.WriteIntent{Action: partnerapi.ActionModifyClientRemark, ClientUin: 1, Remark: "vip"}, true},
		{"no customer", jobs.WriteIntent{Action: partnerapi.ActionModifyClientRemark, Remark: "vip"}, false},
		{"not a job write", jobs.WriteIntent{Action: partnerapi.ActionCreateAccount, ClientUin: 1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jobs.PlanWrites([]jobs.WriteIntent{tc.w})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := jobs.PlanWrites(nil); err != nil || errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
