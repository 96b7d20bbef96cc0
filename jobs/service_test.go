package jobs_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// people are the rig's users by name, one per role plus a second staff member.
type people map[string]store.User

func (r *rig) people() people {
	r.t.Helper()
	p := people{"olga": r.owner}
	for _, u := range []store.User{
		{Username: "bob", Role: "staff"},
		{Username: "ada", Role: "admin"},
		{Username: "fay", Role: "finance"},
		{Username: "sam", Role: "subagent", SubagentUin: 4242},
	} {
		u.PasswordHash = "x"
		created, err := store.WriteReturning(r.t.Context(), r.db, func(tx *store.Tx) (store.User, error) { return tx.CreateUser(r.t.Context(), u) })
		if err != nil {
			r.t.Fatal(err)
		}
		p[u.Username] = created
	}
	return p
}

func (p people) actor(name string) audit.Actor { return audit.UserActor(p[name], "192.0.2.7") }

// wantAppErr checks that err is an apperr of the kind, with the field and
// message id; kind 0 wants no error.
func wantAppErr(t *testing.T, err error, kind apperr.Kind, field, msg string) {
	t.Helper()
	if kind == 0 {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind || e.Field != field || (msg != "" && e.MessageID != msg) {
		t.Fatalf("err = %v, want %s %q %q", err, kind, field, msg)
	}
}

// month returns the month n months before now's, as a bills refresh names it.
func month(now time.Time, n int) string {
	return time.Date(now.Year(), now.Month()-time.Month(n), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func TestStartRefreshRules(t *testing.T) {
	r := newRig(t)
	p := r.people()
	now := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	svc := jobs.NewService(r.db, r.engine(), func() time.Time { return now })
	ctx := t.Context()

	who := []struct {
		name    string
		actor   audit.Actor
		want    apperr.Kind
		wantMsg string
	}{
		{"staff", p.actor("olga"), 0, ""},
		{"admin", p.actor("ada"), 0, ""},
		{"finance may not", p.actor("fay"), apperr.Forbidden, "jobs.forbidden"},
		{"subagent may not", p.actor("sam"), apperr.Forbidden, "jobs.forbidden"},
		{"nobody", audit.Actor{}, apperr.Forbidden, "jobs.forbidden"},
		{"someone who is not a user", audit.Actor{Principal: auth.Principal{Username: "console", Role: auth.RoleAdmin}}, apperr.Forbidden, "jobs.needs_user"},
	}
	for _, tt := range who {
		t.Run("directory by "+tt.name, func(t *testing.T) {
			_, _, err := svc.StartDirectoryRefresh(ctx, tt.actor)
			wantAppErr(t, err, tt.want, "", tt.wantMsg)
		})
		t.Run("bills by "+tt.name, func(t *testing.T) {
			_, _, err := svc.StartBillsRefresh(ctx, tt.actor, month(now, 1))
			wantAppErr(t, err, tt.want, "", tt.wantMsg)
		})
	}

	months := []struct {
		month string
		ok    bool
	}{
		{month(now, 0), true},
		{month(now, 11), true},
		{month(now, 12), false},
		{month(now, -1), false},
		{"2026-3", false},
		{"2026-03-01", false},
		{"", false},
	}
	for _, tt := range months {
		t.Run("month "+tt.month, func(t *testing.T) {
			job, _, err := svc.StartBillsRefresh(ctx, p.actor("olga"), tt.month)
			if !tt.ok {
				wantAppErr(t, err, apperr.Invalid, "month", "jobs.bad_month")
				return
			}
			if err != nil || job.Scope != tt.month || job.Kind != jobs.KindBills || !job.Planning || job.OwnerID != p["olga"].ID {
				t.Fatalf("StartBillsRefresh = %+v, %v", job, err)
			}
		})
	}
	t.Run("a forbidden actor hears about that before the month", func(t *testing.T) {
		_, _, err := svc.StartBillsRefresh(ctx, p.actor("fay"), "nonsense")
		wantAppErr(t, err, apperr.Forbidden, "", "jobs.forbidden")
	})
}

func TestStartJoinsTheActiveRefresh(t *testing.T) {
	r := newRig(t)
	p := r.people()
	ctx := t.Context()
	svc := jobs.NewService(r.db, r.engine(), nil)
	now := time.Now()

	first, joined, err := svc.StartDirectoryRefresh(ctx, p.actor("olga"))
	if err != nil || joined {
		t.Fatalf("first start: %v, joined %v", err, joined)
	}
	again, joined, err := svc.StartDirectoryRefresh(ctx, p.actor("bob"))
	if err != nil || !joined || again.ID != first.ID || again.OwnerID != p["olga"].ID {
		t.Fatalf("second start = job %d of %d, joined %v, %v; want olga's job %d joined", again.ID, again.OwnerID, joined, err, first.ID)
	}
	jan, _, err := svc.StartBillsRefresh(ctx, p.actor("olga"), month(now, 1))
	if err != nil {
		t.Fatal(err)
	}
	feb, joined, err := svc.StartBillsRefresh(ctx, p.actor("olga"), month(now, 2))
	if err != nil || joined || feb.ID == jan.ID {
		t.Fatalf("another month joined %d (%v, %v), want its own job", feb.ID, joined, err)
	}

	// Many people pressing the button at once start one job.
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int64]int{}
	)
	for i := range 12 {
		wg.Go(func() {
			name := []string{"olga", "bob", "ada"}[i%3]
			j, _, err := svc.StartBillsRefresh(ctx, p.actor(name), month(now, 3))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[j.ID]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("concurrent starts made jobs %v, want one", ids)
	}

	// Once the refresh has ended, a start makes a new one.
	if err := svc.Cancel(ctx, p.actor("olga"), first.ID); err != nil {
		t.Fatal(err)
	}
	next, joined, err := svc.StartDirectoryRefresh(ctx, p.actor("bob"))
	if err != nil || joined || next.ID == first.ID {
		t.Fatalf("start after the first ended = %d, joined %v, %v; want a new job", next.ID, joined, err)
	}

	// One job.submit row per job created, none for a join.
	entries, _, err := r.db.QueryAudit(ctx, store.AuditFilter{Action: "job.submit", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := 5; len(entries) != want { // directory twice, three months of bills
		t.Errorf("%d job.submit rows, want %d", len(entries), want)
	}
}

// TestStartAnswersWithoutTheAPI starts both refreshes with an empty cache
// and no engine running: the start must not call the partner API, since
// planning happens in the job.
func TestStartAnswersWithoutTheAPI(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	e := r.engine()
	svc := jobs.NewService(r.db, e, nil)
	reads := func() int {
		return r.sb.Requests(partnerapi.ActionQueryCustomersCredit) + r.sb.Requests(partnerapi.ActionDescribeCustomerInfo) +
			r.sb.Requests(partnerapi.ActionDescribeCustomerBillSummary)
	}
	cs, indirect := r.customers(), r.indirect()
	before := reads()

	bills, _, err := svc.StartBillsRefresh(ctx, r.actor(), time.Now().UTC().Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}
	dir, _, err := svc.StartDirectoryRefresh(ctx, r.actor())
	if err != nil {
		t.Fatal(err)
	}
	if n := reads() - before; n != 0 {
		t.Fatalf("starting the refreshes made %d partner API calls, want none", n)
	}
	for _, j := range []store.Job{bills, dir} {
		if !j.Planning || j.Total != 0 || j.Status != store.JobQueued {
			t.Errorf("started job %+v, want queued and planning", j)
		}
	}

	r.start(e)
	// The directory counts every customer; the bills, the direct ones'.
	for id, want := range map[int64]int{bills.ID: len(cs), dir.ID: len(cs) + len(indirect)} {
		j := r.waitFor(e, id, "an end", ended)
		if j.Status != store.JobDone || j.Units != want || j.UnitsDone != want || j.Planning {
			t.Errorf("job %d (%s) ended %s with %d/%d customers, want %d: %s", id, j.Kind, j.Status, j.UnitsDone, j.Units, want, j.Error)
		}
	}
	if r.sb.Requests(partnerapi.ActionQueryCustomersCredit) == 0 {
		t.Error("the bills job never listed the customers")
	}
}

func TestJobVisibility(t *testing.T) {
	r := newRig(t)
	p := r.people()
	ctx := t.Context()
	svc := jobs.NewService(r.db, r.engine(), nil)
	olgas, _, err := svc.StartDirectoryRefresh(ctx, p.actor("olga"))
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := svc.StartBillsRefresh(ctx, p.actor("bob"), time.Now().UTC().Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		viewer    string
		wantList  []int64     // newest first
		wantSee   apperr.Kind // Job(olga's job)
		canCancel bool
	}{
		{"olga", []int64{olgas.ID}, 0, true},
		{"bob", []int64{bobs.ID}, apperr.NotFound, false},
		{"ada", []int64{bobs.ID, olgas.ID}, 0, true},
		{"fay", nil, apperr.NotFound, false},
		{"sam", nil, apperr.NotFound, false}, // a reseller's login sees its own jobs only
	}
	for _, tt := range tests {
		t.Run(tt.viewer, func(t *testing.T) {
			actor := p.actor(tt.viewer)
			list, err := svc.List(ctx, actor, 0)
			if tt.wantSee == apperr.Forbidden {
				wantAppErr(t, err, apperr.Forbidden, "", "jobs.forbidden")
			} else {
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, v := range list {
					ids = append(ids, v.ID)
				}
				if !slices.Equal(ids, tt.wantList) {
					t.Errorf("List = %v, want %v", ids, tt.wantList)
				}
			}
			d, err := svc.Job(ctx, actor, olgas.ID)
			wantAppErr(t, err, tt.wantSee, "", "")
			if err == nil && (d.ID != olgas.ID || d.CanCancel != tt.canCancel) {
				t.Errorf("Job = %d, can cancel %v; want %d, %v", d.ID, d.CanCancel, olgas.ID, tt.canCancel)
			}
			// Nobody learns of others' jobs by cancelling them either.
			if tt.wantSee != 0 {
				wantAppErr(t, svc.Cancel(ctx, actor, olgas.ID), tt.wantSee, "", "")
			}
		})
	}
	t.Run("missing job", func(t *testing.T) {
		_, err := svc.Job(ctx, p.actor("ada"), 9999)
		wantAppErr(t, err, apperr.NotFound, "", "jobs.not_found")
		wantAppErr(t, svc.Cancel(ctx, p.actor("ada"), 9999), apperr.NotFound, "", "jobs.not_found")
	})
	t.Run("bad limit", func(t *testing.T) {
		_, err := svc.List(ctx, p.actor("ada"), -1)
		wantAppErr(t, err, apperr.Invalid, "limit", "jobs.bad_limit")
	})
	if j, _ := r.db.JobByID(ctx, olgas.ID); j.Status != store.JobQueued || j.CancelRequested {
		t.Errorf("refused cancels touched the job: %+v", j)
	}
}

func TestCancelRules(t *testing.T) {
	r := newRig(t)
	p := r.people()
	ctx := t.Context()
	svc := jobs.NewService(r.db, r.engine(), nil)
	// jobIn makes one of olga's write jobs in a state.
	jobIn := func(t *testing.T, status string) int64 {
		t.Helper()
		j, err := store.WriteReturning(ctx, r.db, func(tx *store.Tx) (store.Job, error) {
			return tx.CreateJob(ctx, store.Job{Kind: jobs.KindWrites, OwnerID: p["olga"].ID}, []store.JobItem{{Key: "1"}, {Key: "2"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if status == store.JobQueued {
			return j.ID
		}
		if err := r.db.StartJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		switch status {
		case store.JobDone:
			for seq := range 2 {
				if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.FinishItem(ctx, j.ID, seq, store.ItemOK, "", "", nil) }); err != nil {
					t.Fatal(err)
				}
			}
			fallthrough
		case store.JobFailed:
			if err := r.db.FinishJob(ctx, j.ID, status, ""); err != nil {
				t.Fatal(err)
			}
		case store.JobCancelled:
			if err := r.db.RequestCancel(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := r.db.FinishJob(ctx, j.ID, status, ""); err != nil {
				t.Fatal(err)
			}
		}
		return j.ID
	}
	cancelRows := func() int {
		entries, _, err := r.db.QueryAudit(ctx, store.AuditFilter{Action: "job.cancel", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}

	tests := []struct {
		name       string
		status     string
		by         string
		want       apperr.Kind
		wantStatus string
		wantRows   int // job.cancel rows written
	}{
		{"own queued job ends at once", store.JobQueued, "olga", 0, store.JobCancelled, 1},
		{"own running job is asked to stop", store.JobRunning, "olga", 0, store.JobRunning, 1},
		{"an admin cancels anyone's", store.JobRunning, "ada", 0, store.JobRunning, 1},
		{"another staff member may not", store.JobRunning, "bob", apperr.NotFound, store.JobRunning, 0},
		{"done", store.JobDone, "olga", apperr.Conflict, store.JobDone, 0},
		{"failed", store.JobFailed, "olga", apperr.Conflict, store.JobFailed, 0},
		{"cancelled already", store.JobCancelled, "olga", apperr.Conflict, store.JobCancelled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := jobIn(t, tt.status)
			before := cancelRows()
			err := svc.Cancel(ctx, p.actor(tt.by), id)
			msg := ""
			if tt.want == apperr.Conflict {
				msg = "jobs.finished"
			}
			wantAppErr(t, err, tt.want, "", msg)
			j, _ := r.db.JobByID(ctx, id)
			if j.Status != tt.wantStatus || (tt.want == 0 && !j.CancelRequested) {
				t.Errorf("job after cancel = %s, cancel requested %v; want %s", j.Status, j.CancelRequested, tt.wantStatus)
			}
			if n := cancelRows() - before; n != tt.wantRows {
				t.Errorf("%d job.cancel rows, want %d", n, tt.wantRows)
			}
		})
	}
	t.Run("asking twice writes one row", func(t *testing.T) {
		id := jobIn(t, store.JobRunning)
		before := cancelRows()
		for range 2 {
			if err := svc.Cancel(ctx, p.actor("olga"), id); err != nil {
				t.Fatal(err)
			}
		}
		if n := cancelRows() - before; n != 1 {
			t.Errorf("%d job.cancel rows, want 1", n)
		}
		if d, err := svc.Job(ctx, p.actor("olga"), id); err != nil || d.CanCancel {
			t.Errorf("Job after the cancel: can cancel %v, %v; want false", d.CanCancel, err)
		}
	})
}

func TestJobShowsWhatNeedsAttention(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	svc := jobs.NewService(r.db, r.engine(), nil)
	items := make([]store.JobItem, 5)
	for i := range items {
		items[i] = store.JobItem{Key: strconv.Itoa(1000 + i)}
	}
	j, err := store.WriteReturning(ctx, r.db, func(tx *store.Tx) (store.Job, error) {
		return tx.CreateJob(ctx, store.Job{Kind: jobs.KindWrites, OwnerID: r.owner.ID}, items)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.StartJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	for seq, outcome := range []string{store.ItemOK, store.ItemFailed, store.ItemOK, store.ItemUnknown} {
		if outcome == store.ItemUnknown {
			if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.MarkItemSent(ctx, j.ID, seq) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.db.Write(ctx, func(tx *store.Tx) error {
			return tx.FinishItem(ctx, j.ID, seq, outcome, "InsufficientBalance", "", nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := svc.Job(ctx, r.actor(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range d.Attention {
		got = append(got, fmt.Sprint(it.Seq, " ", it.Status))
	}
	if want := []string{"1 failed", "3 unknown"}; !slices.Equal(got, want) {
		t.Errorf("Attention = %v, want %v", got, want)
	}
	if d.Progress.Done != 2 || d.Progress.Total != 5 {
		t.Errorf("Progress = %+v, want 2 of 5", d.Progress)
	}
}

func TestCacheStatus(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	svc := jobs.NewService(r.db, r.engine(), func() time.Time { return now })
	bill := func(month string, uin uint64, age time.Duration) {
		t.Helper()
		if err := r.db.Write(ctx, func(tx *store.Tx) error {
			return tx.PutBillMonth(ctx, store.BillMonth{CustomerUin: uin, Month: month, Total: "1.5", FetchedAt: now.Add(-age)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	customer := func(uin, reseller uint64, age time.Duration) {
		t.Helper()
		if err := r.db.Write(ctx, func(tx *store.Tx) error {
			return tx.UpsertCustomer(ctx, store.Customer{Uin: uin, ResellerUin: reseller, FetchedAt: now.Add(-age)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, age := range []time.Duration{time.Minute, 10 * time.Minute, 14 * time.Minute} {
		customer(uint64(1000+i), 0, age)
	}
	customer(2000, 77, 2*time.Minute) // a second-level reseller's, whose bills are not read
	bill("2026-03", 1000, 30*time.Minute)
	bill("2026-03", 1001, 2*time.Hour)
	bill("2026-02", 1000, 2*time.Hour)
	bill("2026-01", 1000, 25*time.Hour)
	running, _, err := svc.StartBillsRefresh(ctx, r.actor(), "2026-02")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		month      string
		wantMonth  string
		wantBills  jobs.Freshness
		wantErrKnd apperr.Kind
	}{
		// The current month's bills go stale after an hour, a past month's after a day.
		{"", "2026-03", jobs.Freshness{Count: 2, Of: 3, Oldest: now.Add(-2 * time.Hour), Stale: true}, 0},
		{"2026-03", "2026-03", jobs.Freshness{Count: 2, Of: 3, Oldest: now.Add(-2 * time.Hour), Stale: true}, 0},
		{"2026-02", "2026-02", jobs.Freshness{Count: 1, Of: 3, Oldest: now.Add(-2 * time.Hour), Refreshing: running.ID}, 0},
		{"2026-01", "2026-01", jobs.Freshness{Count: 1, Of: 3, Oldest: now.Add(-25 * time.Hour), Stale: true}, 0},
		{"2025-12", "2025-12", jobs.Freshness{Of: 3, Stale: true}, 0},
		{"2025-03", "", jobs.Freshness{}, apperr.Invalid},
		{"March", "", jobs.Freshness{}, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.month, func(t *testing.T) {
			st, err := svc.CacheStatus(ctx, tt.month)
			if tt.wantErrKnd != 0 {
				wantAppErr(t, err, tt.wantErrKnd, "month", "jobs.bad_month")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantDir := jobs.Freshness{Count: 4, Oldest: now.Add(-14 * time.Minute)}
			if st.Month != tt.wantMonth || st.Directory != wantDir || st.Bills != tt.wantBills {
				t.Errorf("CacheStatus = %+v\nwant month %s, directory %+v, bills %+v", st, tt.wantMonth, wantDir, tt.wantBills)
			}
		})
	}

	t.Run("the directory goes stale after 15 minutes", func(t *testing.T) {
		customer(1009, 0, 16*time.Minute)
		st, err := svc.CacheStatus(ctx, "")
		if err != nil || !st.Directory.Stale || st.Directory.Count != 5 || st.Bills.Of != 4 {
			t.Errorf("CacheStatus = %+v, %v; want a stale directory of 5, bills of 4", st, err)
		}
	})
}

func TestRecentMonths(t *testing.T) {
	tests := []struct {
		now         time.Time
		first, last string
	}{
		{time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), "2026-03", "2025-04"},
		{time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC), "2026-01", "2025-02"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-12", "2026-01"},
		// Already March in UTC, though still February in New York.
		{time.Date(2026, 2, 28, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2026-03", "2025-04"},
	}
	for _, tt := range tests {
		t.Run(tt.now.String(), func(t *testing.T) {
			got := jobs.RecentMonths(tt.now)
			if len(got) != 12 || got[0] != tt.first || got[11] != tt.last {
				t.Errorf("RecentMonths = %v, want %s … %s", got, tt.first, tt.last)
			}
		})
	}
}

func TestProgressOf(t *testing.T) {
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	running := store.Job{Status: store.JobRunning, StartedAt: start, Total: 500, Units: 50000}
	tests := []struct {
		name string
		job  func(store.Job) store.Job
		at   time.Duration
		want jobs.Progress
	}{
		{"queued", func(j store.Job) store.Job { j.Status, j.StartedAt = store.JobQueued, time.Time{}; return j }, 0,
			jobs.Progress{Total: 50000}},
		{"nothing finished yet", func(j store.Job) store.Job { return j }, time.Minute, jobs.Progress{Total: 50000}},
		{"a fifth after 10 s", func(j store.Job) store.Job { j.Done, j.UnitsDone = 100, 10000; return j }, 10 * time.Second,
			jobs.Progress{Done: 10000, Total: 50000, Rate: 1000, Left: 40 * time.Second}},
		{"failures count towards the end", func(j store.Job) store.Job { j.Done, j.Failed, j.UnitsDone = 200, 50, 20000; return j }, 50 * time.Second,
			jobs.Progress{Done: 20000, Total: 50000, Rate: 400, Left: 50 * time.Second}},
		{"still planning: no time left", func(j store.Job) store.Job { j.Planning, j.Done, j.UnitsDone = true, 10, 10; return j }, 10 * time.Second,
			jobs.Progress{Done: 10, Total: 50000, Planning: true, Rate: 1}},
		{"done", func(j store.Job) store.Job { j.Status, j.Done, j.UnitsDone = store.JobDone, 500, 50000; return j }, time.Hour,
			jobs.Progress{Done: 50000, Total: 50000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobs.ProgressOf(tt.job(running), start.Add(tt.at)); got != tt.want {
				t.Errorf("ProgressOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunRest(t *testing.T) {
	r := newRig(t)
	p := r.people()
	ctx := t.Context()
	svc := jobs.NewService(r.db, r.engine(), nil)
	j, err := store.WriteReturning(ctx, r.db, func(tx *store.Tx) (store.Job, error) {
		return tx.CreateJob(ctx, store.Job{Kind: jobs.KindWrites, OwnerID: p["olga"].ID},
			[]store.JobItem{{Key: "1", Payload: []byte(`{"n":1}`)}, {Key: "2", Payload: []byte(`{"n":2}`)}, {Key: "3", Payload: []byte(`{"n":3}`)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.StartJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.db.Write(ctx, func(tx *store.Tx) error { return tx.FinishItem(ctx, j.ID, 0, store.ItemOK, "", "", nil) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.RunRest(ctx, p.actor("olga"), j.ID); err == nil {
		// Nothing is skipped while the job runs.
		t.Fatal("the rest of a running job was started")
	}
	if err := r.db.RequestCancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.db.FinishJob(ctx, j.ID, store.JobCancelled, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.RunRest(ctx, p.actor("fay"), j.ID)
	wantAppErr(t, err, apperr.Forbidden, "", "")
	_, _, err = svc.RunRest(ctx, p.actor("bob"), j.ID)
	wantAppErr(t, err, apperr.NotFound, "", "")

	rest, joined, err := svc.RunRest(ctx, p.actor("olga"), j.ID)
	if err != nil || joined || rest.Total != 2 || rest.Kind != jobs.KindWrites {
		t.Fatalf("the rest: %+v, joined %v, %v; want a new writes job of the 2 skipped items", rest, joined, err)
	}
	items, err := r.db.JobItems(ctx, rest.ID, nil, 0)
	if err != nil || len(items) != 2 || string(items[0].Payload) != `{"n":2}` || string(items[1].Payload) != `{"n":3}` {
		t.Fatalf("the rest's items: %+v, %v", items, err)
	}
	// The rest of a writes job is taken once: a second click, even after
	// the rest has ended, sends nothing again.
	if err := r.db.FinishJob(ctx, rest.ID, store.JobCancelled, ""); err != nil {
		t.Fatal(err)
	}
	again, joined, err := svc.RunRest(ctx, p.actor("olga"), j.ID)
	if err != nil || !joined || again.ID != rest.ID {
		t.Fatalf("a second rest: %+v, joined %v, %v; want the first", again.ID, joined, err)
	}
	// A job that skipped nothing has no rest.
	_, _, err = svc.RunRest(ctx, p.actor("olga"), rest.ID+1000)
	wantAppErr(t, err, apperr.NotFound, "", "")
}
