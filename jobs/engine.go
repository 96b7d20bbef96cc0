// Package jobs runs long work against the partner API in the background:
// jobs are persisted with their items, survive a restart and resume where
// they stopped. Write items record their intent before the call and their
// outcome after, both in the audit log; an item whose outcome is unknown is
// reconciled by reading back before anything is sent again.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the engine partner API clients: the distributor's, and a
// second-level reseller's own (own false when none is stored for it and the
// distributor's came back instead).
type Clients interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	ForSubagent(ctx context.Context, subagentUin uint64) (c *partnerapi.Client, own bool, err error)
}

// Item is one unit of a job's work as a kind sees it.
type Item struct {
	Key     string
	Payload json.RawMessage
	// Units is what a person counts in the item (the customers on a
	// directory page); 0 counts as 1.
	Units int
}

// Result is what a kind reports for one item.
type Result struct {
	RequestID string
	Summary   json.RawMessage // stored with the item; nil for none
	// Save, when set, writes what the item fetched (cache entries) in the
	// transaction that records the item as ok, so the two commit together
	// and the single writer commits once per item.
	Save func(ctx context.Context, tx *store.Tx) error
}

// Reconciled is what reading back says about a write whose outcome was unknown.
type Reconciled int

// What reading back can tell.
const (
	StillUnknown Reconciled = iota // the read failed or is inconclusive: leave the item for a person
	Applied                        // the write took effect: record it as done, never send it again
	NotApplied                     // the write did not take effect: it may be sent again
)

// CodeNotApplied is the code of a write item that reading back found not
// applied after its job had ended: it is not sent again, and people see
// that it did not happen.
const CodeNotApplied = "NotApplied"

// CodeTransport is the code of an item whose call got no answer from the
// partner API at all.
const CodeTransport = "transport"

// Kind is one kind of job.
type Kind interface {
	// Name is the kind's stored name, e.g. "bills.refresh".
	Name() string
	// Writes says whether items change state at Tencent Cloud.
	Writes() bool
	// Concurrency is how many items may be in flight at once; the partner
	// API limiter, not this, sets the pace.
	Concurrency() int
	// Do performs one item.
	Do(ctx context.Context, c *partnerapi.Client, job store.Job, item store.JobItem) (Result, error)
	// Reconcile reads back a write item whose outcome is unknown.
	Reconcile(ctx context.Context, c *partnerapi.Client, job store.Job, item store.JobItem) (Reconciled, error)
}

// The stored names of the job kinds.
const (
	KindDirectory = "directory.refresh"
	KindBills     = "bills.refresh"
	KindWrites    = "writes.apply"
)

// Acting is a Kind whose jobs may act as a second-level reseller (with its
// own stored key) or carry a person's priority instead of a job's.
type Acting interface {
	Kind
	// Acting says, from the job's parameters, the reseller whose key the job
	// acts with (0: the distributor's) and whether a person is waiting for
	// it (its calls then go ahead of background work).
	Acting(job store.Job) (reseller uint64, interactive bool)
}

// NotSentError is a write item's failure before anything was sent: the
// item is failed with Code, and there is nothing to reconcile.
type NotSentError struct {
	Code   string
	Reason string
}

func (e *NotSentError) Error() string { return e.Code + ": " + e.Reason }

// ErrNoResellerKey is why a job acting as a second-level reseller cannot
// run: no API key of that reseller is stored.
var ErrNoResellerKey = errors.New("no API key of the second-level reseller is stored")

// Planner is a Kind that works out its own items as the job's first step,
// inside the job, so that starting a job answers at once whatever the size
// of the work.
type Planner interface {
	Kind
	// Plan adds the job's items by calling add with each batch and the
	// cursor to resume from after it. A batch and its cursor commit
	// together, so planning interrupted by a restart is called again with
	// the last cursor committed ("" at first) and neither loses nor repeats
	// a batch.
	Plan(ctx context.Context, c *partnerapi.Client, job store.Job, cursor string, add func(items []Item, next string) error) error
}

// Engine runs jobs.
type Engine struct {
	db      *store.DB
	clients Clients
	logger  *slog.Logger
	kinds   map[string]Kind

	wake chan struct{}

	mu      sync.Mutex
	running map[int64]context.CancelFunc // each job in hand: stops handing out its items
	changed chan struct{}                // closed and replaced whenever a job or item changes
	active  bool                         // Run is running
	runDone chan struct{}                // closed when the last Run has returned; nil before any
}

// rescanEvery is how often the engine looks for jobs it was not told about
// (created by another process, or left to resume).
const rescanEvery = 30 * time.Second

// feedBatch is how many pending items the engine reads at a time.
const feedBatch = 500

// Changed returns a channel closed at the next change of any job's state
// or progress: a way to wait for progress without polling.
func (e *Engine) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.changed == nil {
		e.changed = make(chan struct{})
	}
	return e.changed
}

func (e *Engine) notify() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
}

// New returns an engine for the given kinds.
func New(db *store.DB, clients Clients, logger *slog.Logger, kinds ...Kind) *Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{db: db, clients: clients, logger: logger, kinds: map[string]Kind{},
		wake: make(chan struct{}, 1), running: map[int64]context.CancelFunc{}}
	for _, k := range kinds {
		e.kinds[k.Name()] = k
	}
	return e
}

// Kind returns a registered kind by name.
func (e *Engine) Kind(name string) (Kind, bool) {
	k, ok := e.kinds[name]
	return k, ok
}

// Submit stores a new job with the items given and wakes the engine.
func (e *Engine) Submit(ctx context.Context, kind string, owner store.User, title string, params any, items []Item) (store.Job, error) {
	return e.SubmitWith(ctx, kind, owner, title, params, items, nil, nil)
}

// SubmitWith is Submit with steps in the same transaction: first runs
// before the job is stored and may refuse (its error rolls everything
// back) or keep the job from being stored while what it wrote is kept
// (hold true: SubmitWith then returns a zero job and no error); then runs
// after, with the job. With them, a rule checked against the database, the
// job it allows and the records tied to it cannot be separated by another
// writer. Either may be nil.
func (e *Engine) SubmitWith(ctx context.Context, kind string, owner store.User, title string, params any, items []Item,
	first func(tx *store.Tx) (hold bool, err error), then func(tx *store.Tx, job store.Job) error) (store.Job, error) {
	k, ok := e.kinds[kind]
	if !ok {
		return store.Job{}, fmt.Errorf("submit job: unknown kind %q", kind)
	}
	p, err := json.Marshal(params)
	if err != nil {
		return store.Job{}, fmt.Errorf("submit %s job: %w", kind, err)
	}
	var job store.Job
	held := false
	err = e.db.Write(ctx, func(tx *store.Tx) error {
		if first != nil {
			var err error
			if held, err = first(tx); err != nil || held {
				return err
			}
		}
		var err error
		job, err = tx.CreateJob(ctx, store.Job{Kind: k.Name(), OwnerID: owner.ID, Title: title, Params: p}, itemRows(items))
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: owner.Username, ActorRole: owner.Role, OnBehalfOf: subagentOf(owner),
			Action: "job.submit", Params: map[string]string{"job": strconv.FormatInt(job.ID, 10), "kind": kind, "items": strconv.Itoa(len(items))}, Outcome: store.OutcomeOK})
		if err != nil || then == nil {
			return err
		}
		return then(tx, job)
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("submit %s job: %w", kind, err)
	}
	if held {
		return store.Job{}, nil
	}
	e.poke()
	return job, nil
}

// itemRows turns a kind's items into the store's.
func itemRows(items []Item) []store.JobItem {
	rows := make([]store.JobItem, len(items))
	for i, it := range items {
		rows[i] = store.JobItem{Key: it.Key, Payload: it.Payload, Units: it.Units}
	}
	return rows
}

func subagentOf(u store.User) uint64 {
	if u.Role == "subagent" {
		return u.SubagentUin
	}
	return 0
}

// Cancel asks a job to stop: no new item starts, a write already sent
// finishes to its outcome, reads in flight may be cut, the rest is skipped.
func (e *Engine) Cancel(ctx context.Context, id int64) error {
	if err := e.db.RequestCancel(ctx, id); err != nil {
		return err
	}
	e.stopJob(id)
	return nil
}

// stopJob stops handing out the items of a job this engine is running,
// after its cancellation has been recorded.
func (e *Engine) stopJob(id int64) {
	e.mu.Lock()
	stop := e.running[id]
	e.mu.Unlock()
	if stop != nil {
		stop()
	}
	e.notify()
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run reconciles what ended jobs left unknown, resumes the stored jobs and
// runs new ones until ctx ends. It then waits for every goroutine it
// started: a job stops at an item boundary (a call cut short leaves its item
// to resume or reconcile at the next start). Run may not be called again
// before it has returned.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.active {
		e.mu.Unlock()
		return errors.New("jobs engine: Run is running already")
	}
	e.active = true
	done := make(chan struct{})
	e.runDone = done
	e.mu.Unlock()

	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		e.mu.Lock()
		e.active = false
		e.mu.Unlock()
		close(done)
	}()

	wg.Go(func() { e.reconcileEnded(ctx) })
	timer := time.NewTimer(rescanEvery)
	defer timer.Stop()
	for {
		jobs, err := e.db.ResumableJobs(ctx)
		if err != nil && ctx.Err() == nil {
			e.logger.Error("list resumable jobs", "err", err)
		}
		for _, j := range jobs {
			e.start(ctx, &wg, j)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-timer.C:
		}
		timer.Reset(rescanEvery)
	}
}

// Wait blocks until Run has returned, which it does only after every
// goroutine it started has ended; it returns at once when Run never ran.
func (e *Engine) Wait() {
	e.mu.Lock()
	done := e.runDone
	e.mu.Unlock()
	if done != nil {
		<-done
	}
}

// start runs a job in its own goroutine unless it is running already.
func (e *Engine) start(ctx context.Context, wg *sync.WaitGroup, j store.Job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.running[j.ID]; ok {
		return
	}
	stopCtx, stop := context.WithCancel(ctx)
	e.running[j.ID] = stop
	wg.Go(func() {
		defer func() {
			e.mu.Lock()
			delete(e.running, j.ID)
			e.mu.Unlock()
			stop()
		}()
		if err := e.runJob(ctx, stopCtx, j); err != nil && ctx.Err() == nil {
			e.logger.Error("job failed", "job", j.ID, "kind", j.Kind, "err", err)
		}
	})
}

// runJob runs a job to its end. ctx ends when the engine stops; stopCtx
// also when someone cancels the job. Planning, handing out items and reads
// stop with stopCtx; a write, once sent, runs on ctx, so cancelling never
// cuts a write on the wire and turns its outcome unknown.
func (e *Engine) runJob(ctx, stopCtx context.Context, listed store.Job) error {
	k, ok := e.kinds[listed.Kind]
	if !ok {
		return e.db.FinishJob(context.WithoutCancel(ctx), listed.ID, store.JobFailed, "this portal does not know the job kind "+listed.Kind)
	}
	if err := e.db.StartJob(ctx, listed.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // it ended (was cancelled, say) since it was listed
		}
		return err
	}
	e.notify()
	j, err := e.db.JobByID(ctx, listed.ID)
	if err != nil {
		return err
	}
	owner, err := e.db.UserByID(ctx, j.OwnerID)
	if err != nil {
		return err
	}
	run := &jobRun{Job: j, owner: owner}
	client, interactive, err := e.clientFor(ctx, k, j, owner)
	if err != nil {
		return e.finish(ctx, nil, run, err)
	}
	if !interactive {
		// Background work yields every token an interactive caller wants.
		ctx = partnerapi.WithPriority(ctx, partnerapi.Background)
		stopCtx = partnerapi.WithPriority(stopCtx, partnerapi.Background)
	}

	if k.Writes() {
		// Items sent when the portal stopped, or whose outcome came back
		// unknown, are read back before anything is sent.
		settle := ""
		if j.CancelRequested {
			settle = store.ItemSkipped
		}
		if err := e.reconcile(ctx, k, client, run, settle); err != nil {
			return e.finish(ctx, client, run, err)
		}
	}
	if j.Planning && !j.CancelRequested {
		if err := e.plan(stopCtx, k, client, run); err != nil && stopCtx.Err() == nil {
			return e.finish(ctx, client, run, fmt.Errorf("plan: %w", err))
		}
	}
	itemCtx := stopCtx
	if k.Writes() {
		itemCtx = ctx
	}
	err = e.work(stopCtx, itemCtx, k, client, run)
	if err == nil && k.Writes() && ctx.Err() == nil {
		// What came back unknown is read back once before the job ends, so
		// the person waiting learns the outcome; what was not applied is
		// not sent again, and what stays inconclusive stays unknown.
		err = e.reconcile(ctx, k, client, run, store.ItemFailed)
	}
	return e.finish(ctx, client, run, err)
}

// ReconcileNow reads back, at a person's priority, the unknown outcomes of
// an ended write job: applied ones become ok, ones not applied failed
// (never sent again), inconclusive ones stay unknown.
func (e *Engine) ReconcileNow(ctx context.Context, id int64) error {
	j, err := e.db.JobByID(ctx, id)
	if err != nil {
		return err
	}
	k, ok := e.kinds[j.Kind]
	if !ok || !k.Writes() {
		return fmt.Errorf("job %d makes no writes", id)
	}
	switch j.Status {
	case store.JobDone, store.JobFailed, store.JobCancelled:
	default:
		return fmt.Errorf("job %d is %s: its own run reads back what it leaves unknown", id, j.Status)
	}
	owner, err := e.db.UserByID(ctx, j.OwnerID)
	if err != nil {
		return err
	}
	client, _, err := e.clientFor(ctx, k, j, owner)
	if err != nil {
		return err
	}
	notApplied := store.ItemFailed
	if j.Status == store.JobCancelled {
		notApplied = store.ItemSkipped
	}
	return e.reconcile(ctx, k, client, &jobRun{Job: j, owner: owner}, notApplied)
}

// clientFor returns the client a job acts with, and whether a person waits
// for it. A job acting as a reseller needs that reseller's own key: the
// distributor's key cannot act on a reseller's customers. A subagent's job
// acts as its own reseller and no other, whatever its parameters say.
func (e *Engine) clientFor(ctx context.Context, k Kind, j store.Job, owner store.User) (*partnerapi.Client, bool, error) {
	var reseller uint64
	interactive := false
	if a, ok := k.(Acting); ok {
		reseller, interactive = a.Acting(j)
	}
	if owner.Role == "subagent" && reseller != owner.SubagentUin {
		return nil, false, fmt.Errorf("job %d of reseller %d's login acts as %d: refused", j.ID, owner.SubagentUin, reseller)
	}
	if reseller == 0 {
		c, err := e.clients.Distributor(ctx)
		return c, interactive, err
	}
	c, own, err := e.clients.ForSubagent(ctx, reseller)
	switch {
	case err != nil:
		return nil, false, err
	case !own:
		return nil, false, fmt.Errorf("act as reseller %d: %w", reseller, ErrNoResellerKey)
	}
	return c, interactive, nil
}

// plan runs a Planner kind's planning, committing each batch of items with
// its cursor.
func (e *Engine) plan(ctx context.Context, k Kind, c *partnerapi.Client, run *jobRun) error {
	p, ok := k.(Planner)
	if !ok {
		return fmt.Errorf("kind %s does not plan its own items", k.Name())
	}
	err := p.Plan(ctx, c, run.Job, run.PlanCursor, func(items []Item, next string) error {
		defer e.notify()
		return e.db.AddJobItems(ctx, run.ID, itemRows(items), next)
	})
	if err != nil {
		return err
	}
	if err := e.db.FinishPlanning(ctx, run.ID); err != nil {
		return err
	}
	e.notify()
	return nil
}

// work hands the job's pending items, in order, to Concurrency workers until
// none is left, the job is stopped or an item cannot be recorded.
func (e *Engine) work(stopCtx, itemCtx context.Context, k Kind, c *partnerapi.Client, run *jobRun) error {
	feedCtx, stopFeed := context.WithCancel(stopCtx)
	defer stopFeed()
	items := make(chan store.JobItem)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range max(1, k.Concurrency()) {
		wg.Go(func() {
			for it := range items {
				if err := e.runItem(itemCtx, k, c, run, it); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					stopFeed()
				}
			}
		})
	}
	feedErr := e.feed(feedCtx, run.ID, items)
	close(items)
	wg.Wait()
	return errors.Join(firstErr, feedErr)
}

// feed sends the job's pending items to the workers a batch at a time,
// until none is left, ctx ends or the job's cancellation is recorded (by
// another process, say).
func (e *Engine) feed(ctx context.Context, id int64, items chan<- store.JobItem) error {
	next := 0
	for {
		cur, err := e.db.JobByID(ctx, id)
		if err != nil || cur.CancelRequested {
			return ignoreStopped(ctx, err)
		}
		batch, err := e.db.JobItemsFrom(ctx, id, []string{store.ItemPending}, next, feedBatch)
		if err != nil || len(batch) == 0 {
			return ignoreStopped(ctx, err)
		}
		for _, it := range batch {
			select {
			case items <- it:
			case <-ctx.Done():
				return nil
			}
			next = it.Seq + 1
		}
	}
}

// ignoreStopped drops an error caused by ctx ending.
func ignoreStopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// finish decides how a job ends: cancelled when asked, left to resume when
// the engine itself is stopping or items are left, else done or failed. A
// cancelled write job first has the outcomes left unknown read back, so
// that it ends settled; what the engine's stop cuts short is read back at
// the next start.
func (e *Engine) finish(ctx context.Context, c *partnerapi.Client, run *jobRun, err error) error {
	defer e.notify()
	bg := context.WithoutCancel(ctx)
	cur, lookErr := e.db.JobByID(bg, run.ID)
	if lookErr != nil {
		return errors.Join(err, lookErr)
	}
	switch {
	case cur.CancelRequested:
		var settleErr error
		if k := e.kinds[run.Kind]; c != nil && k.Writes() {
			settleErr = e.reconcile(ctx, k, c, run, store.ItemSkipped)
		}
		return errors.Join(settleErr, e.db.FinishJob(bg, run.ID, store.JobCancelled, ""))
	case ctx.Err() != nil:
		return nil // shutting down: the job resumes at the next start
	case err != nil:
		return e.db.FinishJob(bg, run.ID, store.JobFailed, err.Error())
	}
	counts, err := e.db.CountItems(bg, run.ID)
	if err != nil {
		return err
	}
	if cur.Planning || counts[store.ItemPending] > 0 || counts[store.ItemSent] > 0 {
		return nil // left behind by a stop; resumed later
	}
	return e.db.FinishJob(bg, run.ID, store.JobDone, "")
}

// runItem performs one item; a write records its intent first and its
// outcome after, each with its audit row in the same transaction.
func (e *Engine) runItem(ctx context.Context, k Kind, c *partnerapi.Client, j *jobRun, it store.JobItem) error {
	defer e.notify()
	if ctx.Err() != nil {
		return nil
	}
	if k.Writes() {
		err := e.db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.MarkItemSent(ctx, j.ID, it.Seq); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, e.itemAudit(j, it, "intent", store.OutcomeUnknown, "", ""))
			return err
		})
		switch {
		case errors.Is(err, store.ErrCancelRequested) || (err != nil && ctx.Err() != nil):
			return nil // nothing was sent: the item stays pending and is skipped or resumed
		case err != nil:
			return err
		}
		e.notify()
	}
	res, err := k.Do(ctx, c, j.Job, it)
	status, code, reqID := store.ItemOK, "", res.RequestID
	var notSent *NotSentError
	switch {
	case err == nil:
	case errors.As(err, &notSent):
		status, code = store.ItemFailed, notSent.Code
	case errors.Is(err, partnerapi.ErrOutcomeUnknown):
		status = store.ItemUnknown
	case partnerapi.ErrorCode(err) != "":
		status, code, reqID = store.ItemFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
	case ctx.Err() != nil:
		// Stopped mid-call: a read stays pending, a write stays "sent" and is
		// reconciled when the job resumes.
		return nil
	default:
		status, code = store.ItemFailed, CodeTransport
		if k.Writes() {
			status = store.ItemUnknown
		}
	}
	return e.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if status == store.ItemOK && res.Save != nil {
			if err := res.Save(ctx, tx); err != nil {
				return fmt.Errorf("save item %d: %w", it.Seq, err)
			}
		}
		if err := tx.FinishItem(ctx, j.ID, it.Seq, status, code, reqID, res.Summary); err != nil {
			return err
		}
		if !k.Writes() {
			return nil
		}
		_, err := tx.AppendAudit(ctx, e.itemAudit(j, it, "outcome", auditOutcome(status), code, reqID))
		return err
	})
}

// auditOutcome is the audit log's outcome of an item status.
func auditOutcome(status string) string {
	switch status {
	case store.ItemOK:
		return store.OutcomeOK
	case store.ItemFailed, store.ItemSkipped:
		return store.OutcomeFailed
	}
	return store.OutcomeUnknown
}

// reconcile settles the job's items whose outcome is unknown, or which were
// sent when the portal stopped, by reading back before anything is sent
// again. What was applied becomes ok; what stays inconclusive stays unknown
// for people to see. What was not applied is sent again when notApplied is
// "" (a running job), else recorded in that status (skipped or failed) with
// CodeNotApplied, never sent again: the job has ended.
func (e *Engine) reconcile(ctx context.Context, k Kind, c *partnerapi.Client, j *jobRun, notApplied string) error {
	items, err := e.db.JobItems(ctx, j.ID, []string{store.ItemSent, store.ItemUnknown}, 0)
	if err != nil {
		return ignoreStopped(ctx, err)
	}
	for _, it := range items {
		verdict, err := k.Reconcile(ctx, c, j.Job, it)
		if ctx.Err() != nil {
			return nil // a read cut short tells nothing; the next start asks again
		}
		if err != nil {
			e.logger.Warn("reconcile item", "job", j.ID, "item", it.Seq, "err", err)
			verdict = StillUnknown
		}
		status, code := store.ItemUnknown, it.Code
		switch verdict {
		case Applied:
			status, code = store.ItemOK, ""
		case NotApplied:
			if notApplied == "" {
				// Nothing happened at Tencent Cloud: send it again, recording
				// a fresh intent first.
				if err := e.runItem(ctx, k, c, j, it); err != nil {
					return err
				}
				continue
			}
			status, code = notApplied, CodeNotApplied
		}
		err = e.db.WriteDetached(ctx, func(tx *store.Tx) error {
			if err := tx.FinishItem(ctx, j.ID, it.Seq, status, code, it.RequestId, nil); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, e.itemAudit(j, it, "reconciled", auditOutcome(status), code, it.RequestId))
			return err
		})
		e.notify()
		if err != nil && !errors.Is(err, store.ErrConflict) { // a conflict: settled meanwhile by another read-back
			return err
		}
	}
	return nil
}

// reconcileEnded reads back, once at start, the unknown outcomes of write
// jobs that have ended: done or failed jobs record what was not applied as
// failed, cancelled ones as skipped.
func (e *Engine) reconcileEnded(ctx context.Context) {
	jobs, err := e.db.EndedJobsWithUnknown(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.logger.Error("list ended jobs with unknown outcomes", "err", err)
		}
		return
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		if err := e.reconcileEndedJob(ctx, j); err != nil && ctx.Err() == nil {
			e.logger.Error("reconcile ended job", "job", j.ID, "kind", j.Kind, "err", err)
		}
	}
}

func (e *Engine) reconcileEndedJob(ctx context.Context, j store.Job) error {
	k, ok := e.kinds[j.Kind]
	if !ok || !k.Writes() {
		return nil
	}
	owner, err := e.db.UserByID(ctx, j.OwnerID)
	if err != nil {
		return err
	}
	notApplied := store.ItemFailed
	if j.Status == store.JobCancelled {
		notApplied = store.ItemSkipped
	}
	client, _, err := e.clientFor(ctx, k, j, owner)
	if err != nil {
		return err
	}
	ctx = partnerapi.WithPriority(ctx, partnerapi.Background)
	return e.reconcile(ctx, k, client, &jobRun{Job: j, owner: owner}, notApplied)
}

// jobRun is a job being run, with the user on whose behalf it runs.
type jobRun struct {
	store.Job
	owner store.User
}

// itemAudit is the audit row of one write item's phase, in the name of the
// user who started the job.
func (e *Engine) itemAudit(j *jobRun, it store.JobItem, phase, outcome, code, requestID string) store.AuditEntry {
	params := map[string]string{"job": strconv.FormatInt(j.ID, 10), "item": strconv.Itoa(it.Seq), "phase": phase}
	var payload map[string]any
	if json.Unmarshal(it.Payload, &payload) == nil {
		for k, v := range payload {
			if k == "SecretRef" { // a reference into memory, of no use to a reader
				continue
			}
			params[k] = fmt.Sprint(v)
		}
	}
	action, _ := payload["Action"].(string)
	if action == "" {
		action = j.Kind
	}
	target, _ := strconv.ParseUint(it.Key, 10, 64)
	return store.AuditEntry{Actor: j.owner.Username, ActorRole: j.owner.Role, OnBehalfOf: subagentOf(j.owner), Action: action, TargetUin: target, Params: params,
		Outcome: outcome, Code: code, RequestId: requestID, ClientAddr: "job " + strconv.FormatInt(j.ID, 10)}
}
