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

// Clients gives the engine a partner API client acting as the distributor.
type Clients interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
}

// Item is one unit of a job's work as a kind sees it.
type Item struct {
	Key     string
	Payload json.RawMessage
}

// Result is what a kind reports for one item.
type Result struct {
	RequestID string
	Summary   json.RawMessage // stored with the item; nil for none
}

// Reconciled is what reading back says about a write whose outcome was unknown.
type Reconciled int

// What reading back can tell.
const (
	StillUnknown Reconciled = iota // the read failed or is inconclusive: leave the item for a person
	Applied                        // the write took effect: record it as done, never send it again
	NotApplied                     // the write did not take effect: it may be sent again
)

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

// Engine runs jobs.
type Engine struct {
	db      *store.DB
	clients Clients
	logger  *slog.Logger
	now     func() time.Time
	kinds   map[string]Kind

	wake chan struct{}

	mu      sync.Mutex
	running map[int64]context.CancelFunc
	changed chan struct{} // closed and replaced whenever a job or item changes
	wg      sync.WaitGroup
}

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
	e := &Engine{db: db, clients: clients, logger: logger, now: time.Now, kinds: map[string]Kind{},
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

// Submit stores a new job and wakes the engine.
func (e *Engine) Submit(ctx context.Context, kind string, owner store.User, title string, params any, items []Item) (store.Job, error) {
	k, ok := e.kinds[kind]
	if !ok {
		return store.Job{}, fmt.Errorf("submit job: unknown kind %q", kind)
	}
	p, err := json.Marshal(params)
	if err != nil {
		return store.Job{}, fmt.Errorf("submit %s job: %w", kind, err)
	}
	rows := make([]store.JobItem, len(items))
	for i, it := range items {
		rows[i] = store.JobItem{Key: it.Key, Payload: it.Payload}
	}
	var job store.Job
	err = e.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		job, err = tx.CreateJob(ctx, store.Job{Kind: k.Name(), OwnerID: owner.ID, Title: title, Params: p}, rows)
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: owner.Username, ActorRole: owner.Role, OnBehalfOf: subagentOf(owner),
			Action: "job.submit", Params: map[string]string{"job": strconv.FormatInt(job.ID, 10), "kind": kind, "items": strconv.Itoa(len(items))}, Outcome: store.OutcomeOK})
		return err
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("submit %s job: %w", kind, err)
	}
	e.poke()
	return job, nil
}

func subagentOf(u store.User) uint64 {
	if u.Role == "subagent" {
		return u.SubagentUin
	}
	return 0
}

// Cancel asks a job to stop; items already sent finish, the rest are skipped.
func (e *Engine) Cancel(ctx context.Context, id int64) error {
	if err := e.db.RequestCancel(ctx, id); err != nil {
		return err
	}
	e.notify()
	e.mu.Lock()
	cancel := e.running[id]
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run resumes the stored jobs and runs new ones until ctx ends; it then
// waits for the jobs in flight to stop at an item boundary.
func (e *Engine) Run(ctx context.Context) error {
	defer e.wg.Wait()
	for {
		jobs, err := e.db.ResumableJobs(ctx)
		if err != nil && ctx.Err() == nil {
			e.logger.Error("list resumable jobs", "err", err)
		}
		for _, j := range jobs {
			e.start(ctx, j)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-time.After(30 * time.Second):
		}
	}
}

// start runs a job in its own goroutine unless it is running already.
func (e *Engine) start(ctx context.Context, j store.Job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.running[j.ID]; ok {
		return
	}
	jctx, cancel := context.WithCancel(ctx)
	e.running[j.ID] = cancel
	e.wg.Go(func() {
		defer func() {
			e.mu.Lock()
			delete(e.running, j.ID)
			e.mu.Unlock()
			cancel()
		}()
		if err := e.runJob(jctx, j); err != nil && ctx.Err() == nil {
			e.logger.Error("job failed", "job", j.ID, "kind", j.Kind, "err", err)
		}
	})
}

// Wait blocks until no job is running; for tests and shutdown.
func (e *Engine) Wait() { e.wg.Wait() }

func (e *Engine) runJob(ctx context.Context, j store.Job) error {
	k, ok := e.kinds[j.Kind]
	if !ok {
		return e.db.FinishJob(context.WithoutCancel(ctx), j.ID, store.JobFailed, "this portal does not know the job kind "+j.Kind)
	}
	if err := e.db.StartJob(ctx, j.ID); err != nil {
		return err
	}
	e.notify()
	owner, err := e.db.UserByID(ctx, j.OwnerID)
	if err != nil {
		return err
	}
	run := &jobRun{Job: j, owner: owner}
	client, err := e.clients.Distributor(ctx)
	if err != nil {
		return e.db.FinishJob(context.WithoutCancel(ctx), j.ID, store.JobFailed, err.Error())
	}
	// Background work yields every token an interactive caller wants.
	ctx = partnerapi.WithPriority(ctx, partnerapi.Background)

	if k.Writes() {
		if err := e.reconcile(ctx, k, client, run); err != nil {
			return e.stop(ctx, j, err)
		}
	}
	items, err := e.db.JobItems(ctx, j.ID, []string{store.ItemPending}, 0)
	if err != nil {
		return e.stop(ctx, j, err)
	}
	work := make(chan store.JobItem)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range max(1, k.Concurrency()) {
		wg.Go(func() {
			for it := range work {
				if err := e.runItem(ctx, k, client, run, it); err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
feed:
	for _, it := range items {
		if cur, err := e.db.JobByID(ctx, j.ID); err == nil && cur.CancelRequested {
			break
		}
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return e.stop(ctx, j, firstErr)
}

// stop decides how a job ends: cancelled when asked, left to resume when
// the engine itself is stopping, else done or failed.
func (e *Engine) stop(ctx context.Context, j store.Job, err error) error {
	defer e.notify()
	bg := context.WithoutCancel(ctx)
	cur, lookErr := e.db.JobByID(bg, j.ID)
	if lookErr != nil {
		return lookErr
	}
	switch {
	case cur.CancelRequested:
		return e.db.FinishJob(bg, j.ID, store.JobCancelled, "")
	case ctx.Err() != nil:
		return nil // shutting down: the job resumes at the next start
	case err != nil:
		return e.db.FinishJob(bg, j.ID, store.JobFailed, err.Error())
	}
	counts, cerr := e.db.CountItems(bg, j.ID)
	if cerr != nil {
		return cerr
	}
	if counts[store.ItemPending] > 0 || counts[store.ItemSent] > 0 {
		return nil // items left behind by a stop; resumed later
	}
	return e.db.FinishJob(bg, j.ID, store.JobDone, "")
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
		if err != nil {
			return err
		}
	}
	res, err := k.Do(ctx, c, j.Job, it)
	status, code, reqID := store.ItemOK, "", res.RequestID
	switch {
	case err == nil:
	case errors.Is(err, partnerapi.ErrOutcomeUnknown):
		status = store.ItemUnknown
	case partnerapi.ErrorCode(err) != "":
		status, code, reqID = store.ItemFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
	case ctx.Err() != nil:
		// Stopped mid-call: a read stays pending, a write stays "sent" and is
		// reconciled when the job resumes.
		return nil
	default:
		status, code = store.ItemFailed, "transport"
		if k.Writes() {
			status = store.ItemUnknown
		}
	}
	bg := context.WithoutCancel(ctx)
	return e.db.Write(bg, func(tx *store.Tx) error {
		if err := tx.FinishItem(bg, j.ID, it.Seq, status, code, reqID, res.Summary); err != nil {
			return err
		}
		if !k.Writes() {
			return nil
		}
		outcome := map[string]string{store.ItemOK: store.OutcomeOK, store.ItemFailed: store.OutcomeFailed}[status]
		if outcome == "" {
			outcome = store.OutcomeUnknown
		}
		_, err := tx.AppendAudit(bg, e.itemAudit(j, it, "outcome", outcome, code, reqID))
		return err
	})
}

// reconcile settles the items whose outcome is unknown, or which were sent
// when the portal stopped, by reading back before anything is sent again.
func (e *Engine) reconcile(ctx context.Context, k Kind, c *partnerapi.Client, j *jobRun) error {
	items, err := e.db.JobItems(ctx, j.ID, []string{store.ItemSent, store.ItemUnknown}, 0)
	if err != nil {
		return err
	}
	for _, it := range items {
		verdict, err := k.Reconcile(ctx, c, j.Job, it)
		if err != nil {
			e.logger.Warn("reconcile item", "job", j.ID, "item", it.Seq, "err", err)
			verdict = StillUnknown
		}
		var status, outcome string
		switch verdict {
		case Applied:
			status, outcome = store.ItemOK, store.OutcomeOK
		case NotApplied:
			// Nothing happened at Tencent Cloud: send it again, recording a
			// fresh intent first.
			if err := e.runItem(ctx, k, c, j, it); err != nil {
				return err
			}
			continue
		default:
			status, outcome = store.ItemUnknown, store.OutcomeUnknown
		}
		err = e.db.Write(ctx, func(tx *store.Tx) error {
			defer e.notify()
			if err := tx.FinishItem(ctx, j.ID, it.Seq, status, it.Code, it.RequestId, nil); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, e.itemAudit(j, it, "reconciled", outcome, it.Code, it.RequestId))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
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
