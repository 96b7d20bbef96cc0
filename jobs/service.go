package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// Service is the jobs use cases: starting the refresh jobs, seeing and
// cancelling jobs, and how fresh the data they fill is. It holds the rules
// (who may, which months, one refresh of a thing at a time), runs the
// transaction and writes the audit row, so the web handlers and the command
// line only parse, call and render. It never calls the partner API: the
// work, planning included, happens in the job.
type Service struct {
	db     *store.DB
	engine *Engine
	now    func() time.Time
	gate   Gate
}

// NewService returns the jobs service over the store and the engine that
// runs the jobs; now is the clock (time.Now when nil).
func NewService(db *store.DB, engine *Engine, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, engine: engine, now: now}
}

// AttentionLimit is how many of a job's items needing attention Job returns.
const AttentionLimit = 100

// WriteItemsLimit is how many items of a writes job Job returns: a person
// reads each write's outcome there.
const WriteItemsLimit = 500

// directoryScope is the scope of a directory refresh, which covers everything.
const directoryScope = "all"

// Message ids of the service's errors.
const (
	msgForbidden = "jobs.forbidden"
	msgNeedsUser = "jobs.needs_user"
	msgNotFound  = "jobs.not_found"
	msgFinished  = "jobs.finished"
	msgBadMonth  = "jobs.bad_month"
	msgBadLimit  = "jobs.bad_limit"
	// msgNothingLeft: a job whose rest is asked for skipped nothing.
	msgNothingLeft = "jobs.nothing_left"
)

// monthLayout is how a bill month is written; recentMonths is how many
// months back a bills refresh may go, the current one included.
const (
	monthLayout  = "2006-01"
	recentMonths = 12
)

// Progress is how far a job has come, in what people count: customers for
// the refreshes, writes for a writes job.
type Progress struct {
	Done     int           // units finished ok
	Total    int           // units in all; grows while the job plans
	Planning bool          // still working out its items: Total is not final
	Rate     float64       // units finished ok a second since the job started; 0 when not known yet
	Left     time.Duration // estimated time to the end; 0 when not known
}

// JobView is a job as a person sees it.
type JobView struct {
	store.Job
	Progress  Progress
	CanCancel bool // the job is queued or running and the viewer may cancel it
}

// JobDetail is one job with its items that need a person's attention.
type JobDetail struct {
	JobView
	// Attention holds the first AttentionLimit items that failed or whose
	// outcome is unknown, in order; Job.Failed + Job.Unknown is how many
	// there are in all.
	Attention []store.JobItem
	// Items holds, for a writes job, its first WriteItemsLimit items in
	// order, each with its outcome; nil for other jobs.
	Items []store.JobItem
}

// Freshness is how much of some cached data there is and how old it is.
type Freshness struct {
	Count  int       // entries cached
	Of     int       // entries there should be (bills: the direct customers in the directory); 0 when not known
	Oldest time.Time // the oldest entry's fetch time; zero when there is none
	Stale  bool      // the oldest entry is past the data's freshness, or nothing is cached
	// Refreshing is the queued or running job refreshing this data; 0 when none.
	Refreshing int64
}

// CacheStatus is the freshness of what the refresh jobs fill, for the Jobs page.
type CacheStatus struct {
	Month     string    // the month Bills describes
	Directory Freshness // the customers table: direct and indirect customers
	Bills     Freshness // the month's bill summaries, out of the direct customers
}

// RecentMonths lists the months a bills refresh may cover: the current
// month (UTC) and the eleven before it, newest first, as "2006-01".
func RecentMonths(now time.Time) []string {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, recentMonths)
	for i := range out {
		out[i] = first.AddDate(0, -i, 0).Format(monthLayout)
	}
	return out
}

// StartDirectoryRefresh starts refreshing the customer directory, or joins
// the refresh already queued or running (joined true, no second job).
func (s *Service) StartDirectoryRefresh(ctx context.Context, actor audit.Actor) (store.Job, bool, error) {
	return s.start(ctx, actor, KindDirectory, directoryScope, "Refresh the customer directory", nil)
}

// StartBillsRefresh starts refreshing one month's bill summaries for every
// customer, or joins that month's refresh already queued or running. The
// month ("2006-01") must be the current month or one of the eleven before.
func (s *Service) StartBillsRefresh(ctx context.Context, actor audit.Actor, month string) (store.Job, bool, error) {
	if err := s.mayStart(actor); err != nil {
		return store.Job{}, false, err
	}
	if !slices.Contains(RecentMonths(s.now()), month) {
		return store.Job{}, false, apperr.InvalidField("month", msgBadMonth)
	}
	return s.start(ctx, actor, KindBills, month, "Refresh bill summaries for "+month, billsParams{Month: month})
}

// mayStart checks that the actor may start refresh jobs and can own one.
func (s *Service) mayStart(actor audit.Actor) error {
	if !actor.Can(auth.RunJobs) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	if actor.UserID == 0 {
		// A job runs in the name of the person who started it.
		return apperr.New(apperr.Forbidden, "", msgNeedsUser)
	}
	return nil
}

// start creates a job that plans itself, or joins the active one of the
// same kind and scope, with its audit row in the same transaction.
func (s *Service) start(ctx context.Context, actor audit.Actor, kind, scope, title string, params any) (store.Job, bool, error) {
	if err := s.mayStart(actor); err != nil {
		return store.Job{}, false, err
	}
	if _, ok := s.engine.Kind(kind); !ok {
		return store.Job{}, false, fmt.Errorf("start %s job: the engine does not run this kind", kind)
	}
	var p []byte
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return store.Job{}, false, fmt.Errorf("start %s job: %w", kind, err)
		}
	}
	var (
		job    store.Job
		joined bool
	)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		job, joined, err = tx.CreateOrJoinJob(ctx, store.Job{Kind: kind, OwnerID: actor.UserID, Title: title, Params: p,
			Scope: scope, Planning: true}, nil)
		if err != nil || joined {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("job.submit", 0, map[string]string{
			"job": strconv.FormatInt(job.ID, 10), "kind": kind, "scope": scope}))
		return err
	})
	if err != nil {
		return store.Job{}, false, fmt.Errorf("start %s job for %s: %w", kind, scope, err)
	}
	if !joined {
		s.engine.poke()
	}
	return job, joined, nil
}

// sees reports whether the actor may see (and cancel) the job: their own,
// or anyone's for holders of ManageAllJobs.
func sees(actor audit.Actor, j store.Job) bool {
	return actor.Can(auth.ManageAllJobs) || (actor.UserID != 0 && j.OwnerID == actor.UserID && actor.Can(auth.ViewJobs))
}

// mayView checks that the actor may see jobs at all.
func mayView(actor audit.Actor) error {
	if !actor.Can(auth.ViewJobs) && !actor.Can(auth.ManageAllJobs) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// notFound is the answer for a job that does not exist or is someone
// else's: the two look the same, so nobody learns of others' jobs.
func notFound(id int64, cause error) error {
	return apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("job %d: %w", id, cause))
}

// Cancel asks a job to stop: no new item starts, a write already sent
// finishes to its outcome, the rest is skipped. People cancel their own
// jobs, holders of ManageAllJobs anyone's; cancelling a job that has ended
// is a Conflict. The request and its "job.cancel" audit row commit together,
// even if the caller goes away meanwhile.
func (s *Service) Cancel(ctx context.Context, actor audit.Actor, id int64) error {
	if err := mayView(actor); err != nil {
		return err
	}
	err := s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		j, err := tx.JobByID(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return notFound(id, err)
		case err != nil:
			return err
		case !sees(actor, j):
			return notFound(id, errors.New("someone else's"))
		case j.Status != store.JobQueued && j.Status != store.JobRunning:
			return apperr.New(apperr.Conflict, "", msgFinished).Because(fmt.Errorf("job %d is %s", id, j.Status))
		case j.CancelRequested:
			return nil // asked already: stopping
		}
		if err := tx.RequestCancel(ctx, id); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("job.cancel", 0, map[string]string{
			"job": strconv.FormatInt(id, 10), "kind": j.Kind, "scope": j.Scope}))
		return err
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return err
		}
		return fmt.Errorf("cancel job %d: %w", id, err)
	}
	s.engine.stopJob(id)
	return nil
}

// RunRest starts a job of the same kind, scope and parameters for the items
// a cancelled job skipped — the rest of its work — or joins the one already
// active for that scope. It needs the permission to start jobs, and a job
// the actor may see.
func (s *Service) RunRest(ctx context.Context, actor audit.Actor, id int64) (store.Job, bool, error) {
	if err := s.mayStart(actor); err != nil {
		return store.Job{}, false, err
	}
	j, err := s.db.JobByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Job{}, false, notFound(id, err)
	case err != nil:
		return store.Job{}, false, fmt.Errorf("job %d: %w", id, err)
	case !sees(actor, j):
		return store.Job{}, false, notFound(id, errors.New("someone else's"))
	}
	skipped, err := s.db.JobItems(ctx, id, []string{store.ItemSkipped}, 0)
	if err != nil {
		return store.Job{}, false, fmt.Errorf("job %d: %w", id, err)
	}
	if len(skipped) == 0 {
		return store.Job{}, false, apperr.New(apperr.Conflict, "", msgNothingLeft).Because(fmt.Errorf("job %d skipped nothing", id))
	}
	items := make([]store.JobItem, len(skipped))
	for i, it := range skipped {
		items[i] = store.JobItem{Key: it.Key, Payload: it.Payload, Units: it.Units}
	}
	// A refresh's rest shares its scope (the month): running it twice only
	// reads twice. The rest of a writes job is taken once, ever: a second
	// click must not send the same writes again.
	scope := j.Scope
	if scope == "" {
		scope = "rest:" + strconv.FormatInt(id, 10)
	}
	var (
		job    store.Job
		joined bool
	)
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if strings.HasPrefix(scope, "rest:") {
			prev, err := tx.LatestJob(ctx, j.Kind, scope)
			if err == nil {
				job, joined = prev, true
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		var err error
		job, joined, err = tx.CreateOrJoinJob(ctx, store.Job{Kind: j.Kind, OwnerID: actor.UserID, Title: j.Title, Params: j.Params, Scope: scope}, items)
		if err != nil || joined {
			return err
		}
		// The credit allocations among the rest now ride on the new job:
		// the ledger follows them there.
		for seq, it := range items {
			if j.Kind != KindWrites {
				break
			}
			if w, err := IntentOf(it); err == nil && w.Key != "" {
				if _, ok := w.Allocates(); ok {
					if err := tx.LinkCreditAllocation(ctx, w.Key, job.ID, seq); err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
			}
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("job.submit", 0, map[string]string{
			"job": strconv.FormatInt(job.ID, 10), "kind": j.Kind, "scope": j.Scope, "rest_of": strconv.FormatInt(id, 10),
			"items": strconv.Itoa(len(items))}))
		return err
	})
	if err != nil {
		return store.Job{}, false, fmt.Errorf("run the rest of job %d: %w", id, err)
	}
	if !joined {
		s.engine.poke()
	}
	return job, joined, nil
}

// Job returns a job the actor may see, with the items needing attention.
func (s *Service) Job(ctx context.Context, actor audit.Actor, id int64) (JobDetail, error) {
	if err := mayView(actor); err != nil {
		return JobDetail{}, err
	}
	j, err := s.db.JobByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return JobDetail{}, notFound(id, err)
	case err != nil:
		return JobDetail{}, fmt.Errorf("job %d: %w", id, err)
	case !sees(actor, j):
		return JobDetail{}, notFound(id, errors.New("someone else's"))
	}
	d := JobDetail{JobView: s.view(actor, j)}
	if j.Failed+j.Unknown > 0 {
		d.Attention, err = s.db.JobItems(ctx, id, []string{store.ItemFailed, store.ItemUnknown}, AttentionLimit)
		if err != nil {
			return JobDetail{}, fmt.Errorf("job %d: %w", id, err)
		}
	}
	if j.Kind == KindWrites {
		if d.Items, err = s.db.JobItems(ctx, id, nil, WriteItemsLimit); err != nil {
			return JobDetail{}, fmt.Errorf("job %d: %w", id, err)
		}
	}
	return d, nil
}

// List returns the newest jobs the actor may see, at most limit (0 for
// store.DefaultJobLimit): their own, or everyone's for holders of
// ManageAllJobs.
func (s *Service) List(ctx context.Context, actor audit.Actor, limit int) ([]JobView, error) {
	if err := mayView(actor); err != nil {
		return nil, err
	}
	if limit < 0 || limit > store.MaxJobLimit {
		return nil, apperr.InvalidField("limit", msgBadLimit)
	}
	filter := store.JobFilter{Limit: limit}
	if !actor.Can(auth.ManageAllJobs) {
		filter.OwnerID = actor.UserID
	}
	jobs, _, err := s.db.ListJobs(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	views := make([]JobView, len(jobs))
	for i, j := range jobs {
		views[i] = s.view(actor, j)
	}
	return views, nil
}

// view adds to a job what its viewer sees: progress and whether they may
// cancel it.
func (s *Service) view(actor audit.Actor, j store.Job) JobView {
	active := j.Status == store.JobQueued || j.Status == store.JobRunning
	return JobView{Job: j, Progress: ProgressOf(j, s.now()), CanCancel: active && !j.CancelRequested && sees(actor, j)}
}

// ProgressOf is a job's progress at now: units done, and while it runs its
// rate since it started and the time left at that pace.
func ProgressOf(j store.Job, now time.Time) Progress {
	p := Progress{Done: j.UnitsDone, Total: j.Units, Planning: j.Planning}
	if j.Status != store.JobRunning || j.StartedAt.IsZero() {
		return p
	}
	elapsed := now.Sub(j.StartedAt)
	finished := j.Done + j.Failed + j.Unknown
	if elapsed <= 0 || finished == 0 {
		return p
	}
	p.Rate = float64(j.UnitsDone) / elapsed.Seconds()
	if !j.Planning {
		left := max(j.Total-finished, 0)
		p.Left = (time.Duration(float64(elapsed) * float64(left) / float64(finished))).Round(time.Second)
	}
	return p
}

// CacheStatus reports how fresh the customers table and a month's bill
// summaries are ("" for the current month): counts and oldest fetch times
// by aggregate queries, staleness by the apicache policy, and the refresh
// job running for each, if any.
func (s *Service) CacheStatus(ctx context.Context, month string) (CacheStatus, error) {
	now := s.now()
	months := RecentMonths(now)
	if month == "" {
		month = months[0]
	}
	if !slices.Contains(months, month) {
		return CacheStatus{}, apperr.InvalidField("month", msgBadMonth)
	}
	st := CacheStatus{Month: month}
	n, oldest, err := s.db.CustomerStats(ctx)
	if err != nil {
		return CacheStatus{}, fmt.Errorf("cache status: %w", err)
	}
	if st.Directory, err = s.freshness(ctx, n, oldest, apicache.Directory, KindDirectory, directoryScope, now); err != nil {
		return CacheStatus{}, err
	}
	n, oldest, err = s.db.BillMonthStats(ctx, month)
	if err != nil {
		return CacheStatus{}, fmt.Errorf("cache status: %w", err)
	}
	if st.Bills, err = s.freshness(ctx, n, oldest, apicache.BillsKind(month, now), KindBills, month, now); err != nil {
		return CacheStatus{}, err
	}
	// Bills are read for the direct customers only: a second-level
	// reseller's customers' bills are not the partner's to read.
	direct := uint64(0)
	if _, st.Bills.Of, err = s.db.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, Limit: 1}); err != nil {
		return CacheStatus{}, fmt.Errorf("cache status: %w", err)
	}
	return st, nil
}

// freshness judges n entries whose oldest was fetched at oldest, and finds
// the job refreshing them.
func (s *Service) freshness(ctx context.Context, n int, oldest time.Time, policy apicache.Kind, jobKind, scope string, now time.Time) (Freshness, error) {
	f := Freshness{Count: n, Oldest: oldest, Stale: apicache.Stale(policy, oldest, now)}
	active, err := s.db.ActiveJob(ctx, jobKind, scope)
	switch {
	case err == nil:
		f.Refreshing = active.ID
	case !errors.Is(err, store.ErrNotFound):
		return Freshness{}, fmt.Errorf("cache status: %w", err)
	}
	return f, nil
}
