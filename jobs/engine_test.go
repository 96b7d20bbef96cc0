package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// rig is a store, a sandbox over loopback and a client for its distributor.
type rig struct {
	t      testing.TB
	path   string
	db     *store.DB
	sb     *sandbox.Server
	addr   string // the sandbox's address
	scale  float64
	client *partnerapi.Client
	owner  store.User
	// wait bounds waitFor; a minute when 0.
	wait time.Duration
}

// rigOptions shapes a rig's sandbox world.
type rigOptions struct {
	customers int     // 12 when 0
	scale     float64 // rate limits ×200 when 0, on both sides
}

// clients hands the engine the rig's distributor client.
type clients struct{ c *partnerapi.Client }

func (c clients) Distributor(context.Context) (*partnerapi.Client, error) { return c.c, nil }

func newRig(t *testing.T) *rig { return newRigWith(t, rigOptions{}) }

func newRigWith(t testing.TB, opts rigOptions) *rig {
	t.Helper()
	if opts.customers == 0 {
		opts.customers = 12
	}
	if opts.scale == 0 {
		opts.scale = 200
	}
	r := &rig{t: t, path: t.TempDir() + "/portal.db"}
	r.open()
	sb, err := sandbox.New(sandbox.Options{Seed: 21, Customers: opts.customers, RateScale: opts.scale})
	if err != nil {
		t.Fatal(err)
	}
	r.sb = sb
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	r.addr, r.scale = ts.Listener.Addr().String(), opts.scale
	for _, c := range sb.Credentials() {
		if c.Role == "distributor" {
			r.client, err = partnerapi.New(partnerapi.Config{
				Credential: partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey},
				Endpoint:   ts.Listener.Addr().String(), Scheme: "http", Limiters: partnerapi.NewLimiters(opts.scale),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	r.owner, err = store.WriteReturning(t.Context(), r.db, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(t.Context(), store.User{Username: "olga", Role: "staff", PasswordHash: "x"})
	})
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
	return jobs.New(r.db, clients{r.client}, nil, jobs.DirectoryRefresh{}, jobs.BillsRefresh{DB: r.db}, jobs.ApplyWrites{DB: r.db})
}

// actor is the rig's owner acting from a browser.
func (r *rig) actor() audit.Actor { return audit.UserActor(r.owner, "192.0.2.1") }

// start runs an engine until the test ends, and stops it then.
func (r *rig) start(e *jobs.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Run: %v", err)
		}
	})
}

// waitFor waits, without polling on a timer, until ok says the job is as
// wanted, and returns the job.
func (r *rig) waitFor(e *jobs.Engine, id int64, what string, ok func(store.Job) bool) store.Job {
	r.t.Helper()
	wait := r.wait
	if wait == 0 {
		wait = time.Minute
	}
	deadline := time.After(wait)
	for {
		changed := e.Changed()
		j, err := r.db.JobByID(r.t.Context(), id)
		if err != nil {
			r.t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		select {
		case <-deadline:
			r.t.Fatalf("job %d never got %s: %s, %d/%d done, %d unknown", id, what, j.Status, j.Done, j.Total, j.Unknown)
		case <-changed:
		}
	}
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
	return r.waitFor(e, id, fmt.Sprint(statuses), func(j store.Job) bool { return slices.Contains(statuses, j.Status) })
}

// statuses lists a job's item statuses in order.
func (r *rig) statuses(id int64) []string {
	r.t.Helper()
	items, err := r.db.JobItems(r.t.Context(), id, nil, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Status
	}
	return out
}

// checkCounters fails the test unless the job's counters equal its items'.
func (r *rig) checkCounters(id int64) {
	r.t.Helper()
	j, err := r.db.JobByID(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	counts, err := r.db.CountItems(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	items, err := r.db.JobItems(r.t.Context(), id, nil, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	units, unitsDone := 0, 0
	for _, it := range items {
		units += it.Units
		if it.Status == store.ItemOK {
			unitsDone += it.Units
		}
	}
	got := [6]int{j.Total, j.Done, j.Failed, j.Unknown, j.Units, j.UnitsDone}
	want := [6]int{len(items), counts[store.ItemOK], counts[store.ItemFailed], counts[store.ItemUnknown], units, unitsDone}
	if got != want {
		r.t.Errorf("job %d counters total/done/failed/unknown/units/units done = %v, items say %v", id, got, want)
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

// indirect lists the second-level resellers' customers, by UIN, with the
// reseller each belongs to.
func (r *rig) indirect() map[uint64]uint64 {
	r.t.Helper()
	out := map[uint64]uint64{}
	for sa, err := range r.client.AllQuerySubAgentsDetailV2(r.t.Context(), partnerapi.QuerySubAgentsDetailV2Request{}) {
		if err != nil {
			r.t.Fatal(err)
		}
		for cu, err := range r.client.AllQueryT1IndirectCustomersDetail(r.t.Context(), partnerapi.QueryT1IndirectCustomersDetailRequest{SubAgentUin: sa.SubAgentUin}) {
			if err != nil {
				r.t.Fatal(err)
			}
			out[uint64(cu.ClientUin)] = uint64(sa.SubAgentUin)
		}
	}
	if len(out) == 0 {
		r.t.Fatal("the sandbox world has no indirect customers")
	}
	return out
}

func TestReadJobsFillTheTables(t *testing.T) {
	r := newRigWith(t, rigOptions{customers: 130, scale: 1000}) // two pages of direct customers, the last one short
	ctx := t.Context()
	e := r.engine()
	svc := jobs.NewService(r.db, e, nil)
	r.start(e)

	dir, joined, err := svc.StartDirectoryRefresh(ctx, r.actor())
	if err != nil || joined {
		t.Fatalf("StartDirectoryRefresh = %v, joined %v", err, joined)
	}
	j := r.waitFor(e, dir.ID, "an end", ended)
	cs, indirect := r.customers(), r.indirect()
	all := len(cs) + len(indirect)
	// One item of the two pages of direct customers, one per reseller of
	// its (fewer than 100) customers.
	resellers := map[uint64]bool{}
	for _, sa := range indirect {
		resellers[sa] = true
	}
	if j.Status != store.JobDone || j.Total != 1+len(resellers) || j.Units != all || j.UnitsDone != all || j.Planning {
		t.Fatalf("directory job %s: %d items, %d/%d customers, planning %v: %s", j.Status, j.Total, j.UnitsDone, j.Units, j.Planning, j.Error)
	}
	r.checkCounters(dir.ID)
	if n, _, err := r.db.CustomerStats(ctx); err != nil || n != all {
		t.Fatalf("the customers table holds %d customers (%v), the API %d", n, err, all)
	}
	first, err := r.db.CustomerByUin(ctx, cs[0].ClientUin)
	if err != nil {
		t.Fatal(err)
	}
	// QueryCustomersCredit masks the email, as production does; the
	// table keeps the whole one from DescribeCustomerInfo, with the
	// account details.
	if !strings.Contains(cs[0].Email, "*") || first.Email == "" || strings.Contains(first.Email, "*") ||
		first.AccountStatus == "" || first.AuthStatus == "" || first.ResellerUin != 0 || first.BindTime.IsZero() {
		t.Fatalf("listed %+v, stored %+v; want the whole email and DescribeCustomerInfo's details", cs[0], first)
	}
	if first.Credit != cs[0].Credit.String() || first.RemainingCredit != cs[0].RemainingCredit.String() || first.Force != cs[0].Force {
		t.Fatalf("stored credit %s/%s force %d, listed %s/%s force %d", first.Credit, first.RemainingCredit, first.Force,
			cs[0].Credit, cs[0].RemainingCredit, cs[0].Force)
	}
	for uin, sa := range indirect {
		cu, err := r.db.CustomerByUin(ctx, uin)
		if err != nil || cu.ResellerUin != sa || cu.Name == "" || cu.BindTime.IsZero() || cu.Credit != "" {
			t.Fatalf("indirect customer %d of %d stored as %+v, %v", uin, sa, cu, err)
		}
		if owner, err := r.db.CustomerOwner(ctx, uin); err != nil || owner != sa {
			t.Fatalf("CustomerOwner(%d) = %d, %v; want %d", uin, owner, err, sa)
		}
	}

	month := time.Now().UTC().Format("2006-01")
	bills, _, err := svc.StartBillsRefresh(ctx, r.actor(), month)
	if err != nil {
		t.Fatal(err)
	}
	j = r.waitFor(e, bills.ID, "an end", ended)
	// The direct customers' bills only: the API refuses the others'.
	if j.Status != store.JobDone || j.Done != len(cs) || j.UnitsDone != len(cs) {
		t.Fatalf("bills job %s, %d/%d: %s", j.Status, j.Done, j.Total, j.Error)
	}
	r.checkCounters(bills.ID)
	s, err := r.db.BillMonthOf(ctx, cs[0].ClientUin, month)
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.client.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: cs[0].ClientUin, Month: month})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != want.TotalCost.String() {
		t.Fatalf("stored total %s, API total %s", s.Total, want.TotalCost)
	}
	// The current month's total is on the customer's row too.
	if first, err = r.db.CustomerByUin(ctx, cs[0].ClientUin); err != nil || first.SpendMonth != month || first.Spend != want.TotalCost.String() {
		t.Fatalf("customer's spend %s for %q (%v), API total %s", first.Spend, first.SpendMonth, err, want.TotalCost)
	}
	st, err := svc.CacheStatus(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	if st.Directory.Count != all || st.Directory.Stale || st.Bills.Count != len(cs) || st.Bills.Of != len(cs) || st.Bills.Stale ||
		st.Directory.Refreshing != 0 || st.Bills.Refreshing != 0 {
		t.Errorf("CacheStatus after both refreshes = %+v", st)
	}
}

// ended reports whether a job has ended.
func ended(j store.Job) bool {
	return j.Status == store.JobDone || j.Status == store.JobFailed || j.Status == store.JobCancelled
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
	if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.MarkItemSent(ctx, job.ID, pending[0].Seq) }); err != nil {
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
	if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.MarkItemSent(ctx, job.ID, 0) }); err != nil {
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

// sentItem waits until some item of the job is on the wire and returns its seq.
func (r *rig) sentItem(e *jobs.Engine, id int64) int {
	r.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		changed := e.Changed()
		sent, err := r.db.JobItems(r.t.Context(), id, []string{store.ItemSent}, 1)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(sent) > 0 {
			return sent[0].Seq
		}
		select {
		case <-deadline:
			r.t.Fatalf("no item of job %d was ever sent", id)
		case <-changed:
		}
	}
}

// TestCancelLetsTheWriteOnTheWireFinish cancels a writes job while a slow
// write is on the wire: the write must finish to its outcome (ok, not
// unknown), and the writes not started yet must be skipped.
func TestCancelLetsTheWriteOnTheWireFinish(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	cs := r.customers()
	items, err := jobs.PlanWrites(creditIntents(cs, 5))
	if err != nil {
		t.Fatal(err)
	}
	// Every allocation takes half a second to answer.
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Latency: 500 * time.Millisecond, Count: 100})
	e := r.engine()
	svc := jobs.NewService(r.db, e, nil)
	job, err := e.Submit(ctx, jobs.KindWrites, r.owner, "top-up", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	r.start(e)
	onWire := r.sentItem(e, job.ID)
	if err := svc.Cancel(ctx, r.actor(), job.ID); err != nil {
		t.Fatal(err)
	}
	final := r.waitFor(e, job.ID, "cancelled", func(j store.Job) bool { return j.Status == store.JobCancelled })

	got := r.statuses(job.ID)
	if got[onWire] != store.ItemOK {
		t.Errorf("the write on the wire when cancelled ended %s, want ok (all items: %v)", got[onWire], got)
	}
	// The items form a prefix of ok writes and the rest skipped: nothing is
	// left unknown, nothing after the cancel was sent.
	okWrites := 0
	for okWrites < len(got) && got[okWrites] == store.ItemOK {
		okWrites++
	}
	for i, st := range got[okWrites:] {
		if st != store.ItemSkipped {
			t.Errorf("item %d is %s after the cancel, want skipped (all: %v)", okWrites+i, st, got)
		}
	}
	if okWrites == len(got) || final.Unknown != 0 {
		t.Errorf("items %v, %d unknown: want the later writes skipped and none unknown", got, final.Unknown)
	}
	if n := r.sb.Requests(partnerapi.ActionAllocateCustomerCredit); n != okWrites {
		t.Errorf("%d allocations reached the sandbox, want %d", n, okWrites)
	}
	r.checkCounters(job.ID)

	entries, _, err := r.db.QueryAudit(ctx, store.AuditFilter{Action: "job.cancel", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != r.owner.Username || entries[0].Params["job"] != strconv.FormatInt(job.ID, 10) {
		t.Errorf("job.cancel audit rows = %+v, want one by %s", entries, r.owner.Username)
	}
}

// TestCancelCutsReads cancels a bills refresh whose reads are slow: the
// reads in flight are cut, and the job ends cancelled with the rest skipped.
func TestCancelCutsReads(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	var uins []uint64
	for _, c := range r.customers() {
		uins = append(uins, c.ClientUin)
	}
	e := r.engine()
	// Slow enough that the job is surely mid-call when cancelled.
	r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionDescribeCustomerBillSummary, Latency: time.Minute, Count: 1000})
	job, err := e.Submit(ctx, jobs.KindBills, r.owner, "bills", map[string]string{"Month": "2026-01"}, jobs.PlanBills("2026-01", uins))
	if err != nil {
		t.Fatal(err)
	}
	r.start(e)
	r.waitFor(e, job.ID, "a start", func(j store.Job) bool { return j.Status == store.JobRunning })
	if err := e.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	final := r.waitFor(e, job.ID, "cancelled", func(j store.Job) bool { return j.Status == store.JobCancelled })
	if final.Done != 0 || final.Failed != 0 {
		t.Errorf("cancelled job %+v: want no item finished", final)
	}
	for i, st := range r.statuses(job.ID) {
		if st != store.ItemSkipped {
			t.Errorf("item %d is %s, want skipped", i, st)
		}
	}
	r.checkCounters(job.ID)
}

// TestUnknownOutcomesOfEndedJobsAreReconciledAfterRestart leaves a write
// job ended with two outcomes unknown — one write reached Tencent Cloud,
// one never did — and restarts the portal: the first must become ok, the
// second recorded as not applied and never sent.
func TestUnknownOutcomesOfEndedJobsAreReconciledAfterRestart(t *testing.T) {
	tests := []struct {
		name           string
		end            string // how the job ended
		wantNotApplied string // the status of the write that never reached Tencent Cloud
	}{
		{"cancelled", store.JobCancelled, store.ItemSkipped},
		{"failed", store.JobFailed, store.ItemFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			ctx := t.Context()
			cs := r.customers()
			items, err := jobs.PlanWrites(creditIntents(cs, 3))
			if err != nil {
				t.Fatal(err)
			}
			e := r.engine()
			job, err := e.Submit(ctx, jobs.KindWrites, r.owner, "top-up", nil, items)
			if err != nil {
				t.Fatal(err)
			}
			// A portal that recorded two intents, got the first write to
			// Tencent Cloud, and then stopped with the job ending.
			if err := r.db.StartJob(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
			for seq := range 2 {
				if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.MarkItemSent(ctx, job.ID, seq) }); err != nil {
					t.Fatal(err)
				}
			}
			remark := fmt.Sprintf("bulk top-up [portal job %d/0]", job.ID)
			if _, err := r.client.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{
				ClientUin: cs[0].ClientUin, AddedCredit: partnerapi.MustAmount("1.25"), Remark: remark}); err != nil {
				t.Fatal(err)
			}
			if tt.end == store.JobCancelled {
				if err := r.db.RequestCancel(ctx, job.ID); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.db.FinishJob(ctx, job.ID, tt.end, ""); err != nil {
				t.Fatal(err)
			}
			if j, _ := r.db.JobByID(ctx, job.ID); j.Unknown != 2 {
				t.Fatalf("before the restart: %d unknown, want 2", j.Unknown)
			}

			r.open() // the restarted portal
			second := r.engine()
			r.start(second)
			final := r.waitFor(second, job.ID, "no unknown outcome", func(j store.Job) bool { return j.Unknown == 0 })
			if final.Status != tt.end {
				t.Errorf("status %s after reconciling, want %s", final.Status, tt.end)
			}
			all, err := r.db.JobItems(ctx, job.ID, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if all[0].Status != store.ItemOK {
				t.Errorf("the applied write is %s, want ok", all[0].Status)
			}
			if all[1].Status != tt.wantNotApplied || all[1].Code != jobs.CodeNotApplied {
				t.Errorf("the write that never left is %s %q, want %s %q", all[1].Status, all[1].Code, tt.wantNotApplied, jobs.CodeNotApplied)
			}
			if n := r.sb.Requests(partnerapi.ActionAllocateCustomerCredit); n != 1 {
				t.Errorf("%d allocations reached the sandbox, want only the first one: an ended job sends nothing", n)
			}
			r.checkCounters(job.ID)
		})
	}
}

// TestPlanningResumesAfterRestart stops a bills refresh in the middle of
// planning, after a first batch of customers is in, and checks that the
// restarted engine adds the rest, each customer once.
func TestPlanningResumesAfterRestart(t *testing.T) {
	tests := []struct {
		name       string
		fillTable  bool // the customers table holds the customers
		firstBatch int  // customers planned before the stop
		cursor     func(last uint64) string
		wantPages  int // QueryCustomersCredit calls the resumed planning makes
	}{
		{"from the customers table", true, 100, func(last uint64) string {
			return fmt.Sprintf(`{"Source":"directory","After":"%d"}`, last)
		}, 0},
		{"from the partner API", false, 100, func(uint64) string { return `{"Source":"api","Page":1}` }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRigWith(t, rigOptions{customers: 130, scale: 1000}) // two pages
			ctx := t.Context()
			var uins []uint64
			for c, err := range r.client.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{Order: "asc"}) {
				if err != nil {
					t.Fatal(err)
				}
				uins = append(uins, c.ClientUin)
			}
			if tt.fillTable {
				if err := r.db.Write(ctx, func(tx *store.Tx) error {
					for _, uin := range uins {
						if err := tx.UpsertCustomer(ctx, store.Customer{Uin: uin}); err != nil {
							return err
						}
					}
					// A reseller's customer, whose bills are not the partner's.
					return tx.UpsertCustomer(ctx, store.Customer{Uin: 1, ResellerUin: 77})
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(uins)
			}
			e := r.engine()
			svc := jobs.NewService(r.db, e, nil)
			month := time.Now().UTC().Format("2006-01")
			job, _, err := svc.StartBillsRefresh(ctx, r.actor(), month)
			if err != nil {
				t.Fatal(err)
			}
			// The first portal planned one batch, then stopped.
			if err := r.db.StartJob(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
			first := jobs.PlanBills(month, uins[:tt.firstBatch])
			batch := make([]store.JobItem, len(first))
			for i, it := range first {
				batch[i] = store.JobItem{Key: it.Key, Payload: it.Payload}
			}
			if err := r.db.AddJobItems(ctx, job.ID, batch, tt.cursor(uins[tt.firstBatch-1])); err != nil {
				t.Fatal(err)
			}
			pagesBefore := r.sb.Requests(partnerapi.ActionQueryCustomersCredit)

			r.open()
			final := r.runUntil(r.engine(), job.ID, store.JobDone, store.JobFailed)
			if final.Status != store.JobDone || final.Total != len(uins) || final.Done != len(uins) || final.Planning {
				t.Fatalf("resumed job %s: %d/%d done, planning %v: %s", final.Status, final.Done, final.Total, final.Planning, final.Error)
			}
			items, err := r.db.JobItems(ctx, job.ID, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, it := range items {
				seen[it.Key]++
			}
			for _, uin := range uins {
				if n := seen[strconv.FormatUint(uin, 10)]; n != 1 {
					t.Errorf("customer %d planned %d times, want once", uin, n)
				}
			}
			if n := r.sb.Requests(partnerapi.ActionQueryCustomersCredit) - pagesBefore; n != tt.wantPages {
				t.Errorf("resumed planning read %d pages of customers, want %d", n, tt.wantPages)
			}
			r.checkCounters(job.ID)
		})
	}
}

// blockingKind is a job kind whose items wait until their context ends,
// and count how many are still inside Do: it shows whether the engine
// waits for its goroutines.
type blockingKind struct {
	started chan struct{}
	inside  *atomic.Int64
}

func (blockingKind) Name() string     { return "test.block" }
func (blockingKind) Writes() bool     { return false }
func (blockingKind) Concurrency() int { return 3 }
func (k blockingKind) Do(ctx context.Context, _ *partnerapi.Client, _ store.Job, _ store.JobItem) (jobs.Result, error) {
	k.inside.Add(1)
	defer k.inside.Add(-1)
	k.started <- struct{}{}
	<-ctx.Done()
	return jobs.Result{}, ctx.Err()
}
func (blockingKind) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (jobs.Reconciled, error) {
	return jobs.NotApplied, nil
}

func TestRunStopsCleanlyAndWaits(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	k := blockingKind{started: make(chan struct{}, 3), inside: new(atomic.Int64)}
	e := jobs.New(r.db, clients{r.client}, nil, k)
	e.Wait() // never ran: returns at once
	items := []jobs.Item{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d"}}
	job, err := e.Submit(ctx, k.Name(), r.owner, "block", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	for range 3 {
		<-k.started
	}
	if err := e.Run(ctx); err == nil {
		t.Error("a second Run while the first runs succeeded")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := k.inside.Load(); n != 0 {
		t.Errorf("Run returned with %d items still inside Do", n)
	}
	e.Wait()
	// Stopping the engine is not the end of the job: it resumes at the next start.
	j, err := r.db.JobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobRunning || j.Done+j.Failed != 0 {
		t.Errorf("after the engine stopped: %s with %d done, %d failed; want running, nothing finished", j.Status, j.Done, j.Failed)
	}
	if got := r.statuses(job.ID); !slices.Equal(got, []string{store.ItemPending, store.ItemPending, store.ItemPending, store.ItemPending}) {
		t.Errorf("items %v, want all pending", got)
	}
}
