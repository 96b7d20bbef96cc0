package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Item statuses.
const (
	// ItemPending is an item not started yet.
	ItemPending = "pending"
	// ItemSent is an item whose intent is recorded: its call is in flight, or
	// was when the portal stopped, in which case its outcome is unknown and
	// must be reconciled by reading back before the item is sent again.
	ItemSent = "sent"
	// ItemOK is an item whose call succeeded.
	ItemOK = "ok"
	// ItemFailed is an item whose call was refused (Code says why).
	ItemFailed = "failed"
	// ItemUnknown is an item whose call's outcome could not be known; it needs
	// reconciliation.
	ItemUnknown = "unknown"
	// ItemSkipped is an item cancelled before it ran.
	ItemSkipped = "skipped"
)

// ErrCancelRequested reports that MarkItemSent was refused because someone
// asked the job to stop. It wraps ErrConflict.
var ErrCancelRequested = fmt.Errorf("cancel requested: %w", ErrConflict)

// ErrActiveJob reports that CreateJob found a job of the same kind and scope
// queued or running already, and created none. It wraps ErrConflict.
var ErrActiveJob = fmt.Errorf("a job of the same kind and scope is queued or running: %w", ErrConflict)

// Job is a long background job against the partner API.
//
// Scope is what the job covers (a month for a bills refresh): at most one
// job of a kind and non-empty scope is queued or running at a time. A job
// whose kind plans itself starts with Planning set and gains its items in
// batches, each committed with PlanCursor, where planning resumes after a
// restart. Units is what a person counts in the items (customers, writes),
// which may differ from the number of items (a directory page holds 100
// customers).
type Job struct {
	ID              int64
	Kind            string // e.g. "directory.refresh", "bills.refresh", "writes.apply"
	OwnerID         int64  // the user who started it
	Owner           string // the owner's username (read-only, joined from users)
	Title           string // human description
	Params          []byte // JSON, the engine's business; nil when none
	Status          string // JobQueued, JobRunning, JobDone, JobFailed or JobCancelled
	Total           int    // number of items
	Done            int    // items finished ok
	Failed          int    // items finished failed
	Unknown         int    // items whose outcome is unknown right now (status ItemUnknown)
	Scope           string // what the job covers; "" for jobs that may run side by side
	Planning        bool   // still working out its items: Total and Units grow meanwhile
	PlanCursor      string // where planning resumes, the kind's business; "" before the first batch
	Units           int    // the sum of the items' Units
	UnitsDone       int    // the sum of the Units of the items finished ok
	CancelRequested bool
	Error           string // why the job failed, if it did
	CreatedAt       time.Time
	StartedAt       time.Time // zero until started
	FinishedAt      time.Time // zero until finished
	UpdatedAt       time.Time
}

// JobItem is one unit of a job's work, such as one customer or one write.
type JobItem struct {
	JobID     int64
	Seq       int    // 0..Total-1, the order of work
	Key       string // what it is about, e.g. a customer UIN as text
	Units     int    // what a person counts in it, e.g. the customers on a directory page; 0 is stored as 1
	Payload   []byte // JSON: the intent (the parameters of the call); nil when none
	Status    string // one of the Item… constants
	Attempts  int    // how many times a call was sent for it
	Code      string // API error code when failed or unknown
	RequestId string
	Result    []byte // JSON answer summary when ok; nil when none
	UpdatedAt time.Time
}

// JobFilter selects jobs for ListJobs.
type JobFilter struct {
	OwnerID  int64    // 0 = everyone's
	Statuses []string // empty = all
	Limit    int      // 0 = DefaultJobLimit; at most MaxJobLimit
	Offset   int
}

// Page sizes for ListJobs.
const (
	DefaultJobLimit = 50
	MaxJobLimit     = 500
)

const jobColumns = `j.id, j.kind, j.owner_id, u.username, j.title, j.params, j.status, j.total,
	j.done, j.failed, j.unknown, j.scope, j.planning, j.plan_cursor, j.units, j.units_done,
	j.cancel_requested, j.error, j.created_at, j.started_at, j.finished_at, j.updated_at`

// jobFrom joins the owner for Job.Owner.
const jobFrom = ` FROM jobs j JOIN users u ON u.id = j.owner_id`

func scanJob(row rowScanner) (Job, error) {
	var (
		j                 Job
		params            string
		created, updated  string
		started, finished sql.NullString
	)
	if err := row.Scan(&j.ID, &j.Kind, &j.OwnerID, &j.Owner, &j.Title, &params, &j.Status, &j.Total,
		&j.Done, &j.Failed, &j.Unknown, &j.Scope, &j.Planning, &j.PlanCursor, &j.Units, &j.UnitsDone,
		&j.CancelRequested, &j.Error, &created, &started, &finished, &updated); err != nil {
		return Job{}, err
	}
	j.Params = jsonBytes(params)
	var err error
	if j.CreatedAt, err = parseTime(created); err != nil {
		return Job{}, err
	}
	if j.StartedAt, err = parseNullTime(started); err != nil {
		return Job{}, err
	}
	if j.FinishedAt, err = parseNullTime(finished); err != nil {
		return Job{}, err
	}
	if j.UpdatedAt, err = parseTime(updated); err != nil {
		return Job{}, err
	}
	return j, nil
}

const jobItemColumns = `job_id, seq, key, units, payload, status, attempts, code, request_id, result, updated_at`

func scanJobItem(row rowScanner) (JobItem, error) {
	var (
		it                      JobItem
		payload, result, update string
	)
	if err := row.Scan(&it.JobID, &it.Seq, &it.Key, &it.Units, &payload, &it.Status, &it.Attempts, &it.Code,
		&it.RequestId, &result, &update); err != nil {
		return JobItem{}, err
	}
	it.Payload, it.Result = jsonBytes(payload), jsonBytes(result)
	var err error
	if it.UpdatedAt, err = parseTime(update); err != nil {
		return JobItem{}, err
	}
	return it, nil
}

// jsonBytes turns a stored JSON column back into bytes; "" (none) is nil.
func jsonBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// checkJSON refuses a non-empty value that is not JSON, so that a caller's
// encoding bug fails at the write rather than when a page reads it back.
func checkJSON(what string, b []byte) error {
	if len(b) > 0 && !json.Valid(b) {
		return fmt.Errorf("%s is not valid JSON", what)
	}
	return nil
}

// isForeignKeyViolation reports whether err is SQLite refusing a reference to
// a row that does not exist.
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// placeholders returns "?, ?, …" with n question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// CreateJob inserts a queued job with its items and returns the job as
// stored. The job's ID, status, counters and times are set by the store, and
// Total is len(items); the items get Seq 0..n-1 in the order given and status
// pending, whatever their Seq and Status say. Kind, OwnerID, Title, Params,
// Scope and Planning come from j. ErrNotFound when the owner does not exist;
// ErrActiveJob when j.Scope is set and a job of the same kind and scope is
// queued or running (see CreateOrJoinJob).
func (tx *Tx) CreateJob(ctx context.Context, j Job, items []JobItem) (Job, error) {
	created, joined, err := tx.CreateOrJoinJob(ctx, j, items)
	if err != nil {
		return Job{}, err
	}
	if joined {
		return Job{}, fmt.Errorf("create %s job for %q: job %d: %w", j.Kind, j.Scope, created.ID, ErrActiveJob)
	}
	return created, nil
}

// CreateOrJoinJob is CreateJob, except that when j.Scope is set and a job of
// the same kind and scope is queued or running it creates nothing and
// returns that job with joined true. The database's unique index over
// active (kind, scope) decides, so two concurrent starts cannot both create
// one.
func (tx *Tx) CreateOrJoinJob(ctx context.Context, j Job, items []JobItem) (job Job, joined bool, err error) {
	if j.Kind == "" {
		return Job{}, false, fmt.Errorf("create job: empty kind")
	}
	if err := checkJSON("params", j.Params); err != nil {
		return Job{}, false, fmt.Errorf("create %s job: %w", j.Kind, err)
	}
	for i, it := range items {
		if err := checkJSON(fmt.Sprintf("payload of item %d", i), it.Payload); err != nil {
			return Job{}, false, fmt.Errorf("create %s job: %w", j.Kind, err)
		}
	}
	now := formatTime(tx.stamp())
	var id int64
	// DO NOTHING names the partial index's columns and condition, so only an
	// active job of the same kind and scope counts as a conflict.
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO jobs (kind, owner_id, title, params, status, total, scope, planning, units, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, 0, ?, ?)
		ON CONFLICT (kind, scope) WHERE scope <> '' AND status IN ('queued', 'running') DO NOTHING
		RETURNING id`,
		j.Kind, j.OwnerID, j.Title, string(j.Params), JobQueued, j.Scope, j.Planning, now, now).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		active, err := activeJob(ctx, tx.tx, j.Kind, j.Scope)
		if err != nil {
			return Job{}, false, fmt.Errorf("create %s job for %q: %w", j.Kind, j.Scope, err)
		}
		return active, true, nil
	case isForeignKeyViolation(err):
		return Job{}, false, fmt.Errorf("create %s job: owner user %d: %w", j.Kind, j.OwnerID, ErrNotFound)
	case err != nil:
		return Job{}, false, fmt.Errorf("create %s job: %w", j.Kind, err)
	}
	if err := tx.appendItems(ctx, id, 0, items, now); err != nil {
		return Job{}, false, fmt.Errorf("create %s job: %w", j.Kind, err)
	}
	created, err := jobByID(ctx, tx.tx, id)
	if err != nil {
		return Job{}, false, fmt.Errorf("create %s job: %w", j.Kind, err)
	}
	return created, false, nil
}

// appendItems inserts items as pending with Seq from first on, and adds
// them to the job's Total and Units.
func (tx *Tx) appendItems(ctx context.Context, jobID int64, first int, items []JobItem, now string) error {
	if len(items) == 0 {
		return nil
	}
	stmt, err := tx.tx.PrepareContext(ctx, `
		INSERT INTO job_items (job_id, seq, key, units, payload, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	units := 0
	for i, it := range items {
		n := it.Units
		if n <= 0 {
			n = 1
		}
		units += n
		if _, err := stmt.ExecContext(ctx, jobID, first+i, it.Key, n, string(it.Payload), ItemPending, now); err != nil {
			return fmt.Errorf("item %d: %w", first+i, err)
		}
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE jobs SET total = total + ?, units = units + ?, updated_at = ? WHERE id = ?`,
		len(items), units, now, jobID)
	return err
}

// activeJob returns the queued or running job of a kind and scope, or
// ErrNotFound.
func activeJob(ctx context.Context, q queryer, kind, scope string) (Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobColumns+jobFrom+`
		WHERE j.kind = ? AND j.scope = ? AND j.scope <> '' AND j.status IN (?, ?)`, kind, scope, JobQueued, JobRunning))
	if err != nil {
		return Job{}, fmt.Errorf("active %s job for %q: %w", kind, scope, notFound(err))
	}
	return j, nil
}

// ActiveJob returns the queued or running job of a kind and a non-empty
// scope, or ErrNotFound when there is none.
func (db *DB) ActiveJob(ctx context.Context, kind, scope string) (Job, error) {
	return activeJob(ctx, db.read, kind, scope)
}

// LatestJob returns the newest job of a kind and a non-empty scope,
// whatever its status, or ErrNotFound when there is none.
func (tx *Tx) LatestJob(ctx context.Context, kind, scope string) (Job, error) {
	j, err := scanJob(tx.tx.QueryRowContext(ctx, `SELECT `+jobColumns+jobFrom+`
		WHERE j.kind = ? AND j.scope = ? AND j.scope <> '' ORDER BY j.id DESC LIMIT 1`, kind, scope))
	if err != nil {
		return Job{}, fmt.Errorf("latest %s job for %q: %w", kind, scope, notFound(err))
	}
	return j, nil
}

// AddJobItems appends a batch of items to a job that is still planning
// (Seq continuing from its Total) and records cursor, where planning resumes
// after a restart, in the same transaction. ErrConflict when the job is not
// planning or has ended; ErrNotFound when there is no such job.
func (tx *Tx) AddJobItems(ctx context.Context, jobID int64, items []JobItem, cursor string) error {
	for i, it := range items {
		if err := checkJSON(fmt.Sprintf("payload of item %d", i), it.Payload); err != nil {
			return fmt.Errorf("add items to job %d: %w", jobID, err)
		}
	}
	var (
		status   string
		planning bool
		total    int
	)
	err := tx.tx.QueryRowContext(ctx, `SELECT status, planning, total FROM jobs WHERE id = ?`, jobID).Scan(&status, &planning, &total)
	if err != nil {
		return fmt.Errorf("add items to job %d: %w", jobID, notFound(err))
	}
	if !planning || (status != JobQueued && status != JobRunning) {
		return fmt.Errorf("add items to job %d: it is %s and not planning: %w", jobID, status, ErrConflict)
	}
	now := formatTime(tx.stamp())
	if err := tx.appendItems(ctx, jobID, total, items, now); err != nil {
		return fmt.Errorf("add items to job %d: %w", jobID, err)
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE jobs SET plan_cursor = ?, updated_at = ? WHERE id = ?`, cursor, now, jobID); err != nil {
		return fmt.Errorf("add items to job %d: %w", jobID, err)
	}
	return nil
}

// AddJobItems appends planned items in its own transaction; see
// Tx.AddJobItems.
func (db *DB) AddJobItems(ctx context.Context, jobID int64, items []JobItem, cursor string) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.AddJobItems(ctx, jobID, items, cursor) })
}

// FinishPlanning records that a job has all its items. Finishing the
// planning of a job that is not planning is ErrConflict.
func (db *DB) FinishPlanning(ctx context.Context, jobID int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `UPDATE jobs SET planning = 0, updated_at = ? WHERE id = ? AND planning = 1`,
			formatTime(tx.stamp()), jobID)
		if err != nil {
			return fmt.Errorf("finish planning job %d: %w", jobID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		if err := jobExists(ctx, tx.tx, jobID); err != nil {
			return fmt.Errorf("finish planning job %d: %w", jobID, err)
		}
		return fmt.Errorf("finish planning job %d: it is not planning: %w", jobID, ErrConflict)
	})
}

func jobByID(ctx context.Context, q queryer, id int64) (Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobColumns+jobFrom+` WHERE j.id = ?`, id))
	if err != nil {
		return Job{}, fmt.Errorf("job %d: %w", id, notFound(err))
	}
	return j, nil
}

// JobByID returns the job with the given id, or ErrNotFound.
func (db *DB) JobByID(ctx context.Context, id int64) (Job, error) {
	return jobByID(ctx, db.read, id)
}

// JobByID reads a job inside the write transaction, seeing its own writes.
func (tx *Tx) JobByID(ctx context.Context, id int64) (Job, error) {
	return jobByID(ctx, tx.tx, id)
}

// where renders the filter as a SQL condition and its arguments.
func (f JobFilter) where() (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	if f.OwnerID != 0 {
		conds = append(conds, "j.owner_id = ?")
		args = append(args, f.OwnerID)
	}
	if len(f.Statuses) > 0 {
		conds = append(conds, "j.status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	return strings.Join(conds, " AND "), args
}

// ListJobs returns one page of the jobs matching f, newest first, and the
// total number of matching jobs.
func (db *DB) ListJobs(ctx context.Context, f JobFilter) ([]Job, int, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultJobLimit
	}
	limit = min(limit, MaxJobLimit)
	offset := max(f.Offset, 0)
	where, args := f.where()

	var (
		jobs  []Job
		total int
	)
	// One read transaction so the page and the total come from the same snapshot.
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM jobs j WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		var err error
		jobs, err = queryJobs(ctx, tx, `SELECT `+jobColumns+jobFrom+` WHERE `+where+`
			ORDER BY j.created_at DESC, j.id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, total, nil
}

// ResumableJobs returns the jobs that are queued or running, oldest first.
// After a restart the running ones are those the portal stopped in the
// middle; they resume, starting with reconciling their sent and unknown items.
func (db *DB) ResumableJobs(ctx context.Context) ([]Job, error) {
	jobs, err := queryJobs(ctx, db.read, `SELECT `+jobColumns+jobFrom+`
		WHERE j.status IN (?, ?) ORDER BY j.created_at, j.id`, JobQueued, JobRunning)
	if err != nil {
		return nil, fmt.Errorf("resumable jobs: %w", err)
	}
	return jobs, nil
}

// EndedJobsWithUnknown returns the jobs that have ended (done, failed or
// cancelled) with items whose outcome is still unknown, oldest first: after
// a restart the engine reads those back once more.
func (db *DB) EndedJobsWithUnknown(ctx context.Context) ([]Job, error) {
	jobs, err := queryJobs(ctx, db.read, `SELECT `+jobColumns+jobFrom+`
		WHERE j.status IN (?, ?, ?) AND j.unknown > 0 ORDER BY j.created_at, j.id`, JobDone, JobFailed, JobCancelled)
	if err != nil {
		return nil, fmt.Errorf("ended jobs with unknown outcomes: %w", err)
	}
	return jobs, nil
}

func queryJobs(ctx context.Context, q queryer, query string, args ...any) ([]Job, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// jobState reads what the transition checks need: the job's status and
// whether cancellation was requested; ErrNotFound when there is no such job.
func (tx *Tx) jobState(ctx context.Context, id int64) (status string, cancelRequested bool, err error) {
	err = tx.tx.QueryRowContext(ctx, `SELECT status, cancel_requested FROM jobs WHERE id = ?`, id).
		Scan(&status, &cancelRequested)
	return status, cancelRequested, notFound(err)
}

// counterOf names the job counter that counts items in an item status, or
// "" for the statuses no counter counts.
var counterOf = map[string]string{ItemOK: "done", ItemFailed: "failed", ItemUnknown: "unknown"}

// countTransition adjusts the job's counters for one item moving from one
// status to another, and touches UpdatedAt. Every method that changes an
// item's status calls it in the same transaction, so the counters always
// equal the item counts without counting them.
func (tx *Tx) countTransition(ctx context.Context, id int64, from, to string, units int, now string) error {
	delta := map[string]int{"done": 0, "failed": 0, "unknown": 0}
	if c := counterOf[from]; c != "" {
		delta[c]--
	}
	if c := counterOf[to]; c != "" {
		delta[c]++
	}
	unitsDone := 0
	if from == ItemOK {
		unitsDone -= units
	}
	if to == ItemOK {
		unitsDone += units
	}
	_, err := tx.tx.ExecContext(ctx, `
		UPDATE jobs SET done = done + ?, failed = failed + ?, unknown = unknown + ?, units_done = units_done + ?, updated_at = ?
		WHERE id = ?`,
		delta["done"], delta["failed"], delta["unknown"], unitsDone, now, id)
	return err
}

// StartJob moves a queued job to running and records when it first started.
// Starting a running job again is allowed, since that is how a job resumes
// after a restart; any other status is ErrConflict.
func (tx *Tx) StartJob(ctx context.Context, id int64) error {
	status, _, err := tx.jobState(ctx, id)
	if err != nil {
		return fmt.Errorf("start job %d: %w", id, err)
	}
	if status != JobQueued && status != JobRunning {
		return fmt.Errorf("start job %d: it is %s: %w", id, status, ErrConflict)
	}
	now := formatTime(tx.stamp())
	if _, err := tx.tx.ExecContext(ctx, `
		UPDATE jobs SET status = ?, started_at = coalesce(started_at, ?), updated_at = ? WHERE id = ?`,
		JobRunning, now, now, id); err != nil {
		return fmt.Errorf("start job %d: %w", id, err)
	}
	return nil
}

// StartJob starts a job in its own transaction; see Tx.StartJob.
func (db *DB) StartJob(ctx context.Context, id int64) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.StartJob(ctx, id) })
}

// FinishJob ends a job with status done, failed or cancelled, recording
// errText (why it failed) and the finishing time.
//
// A job finishes only from queued or running, and done only from running with
// no item pending or sent; anything else is ErrConflict. When cancelled, its
// pending items become skipped. Items still sent become unknown whatever the
// ending, because once the job has ended no call is in flight for them: their
// outcome must be reconciled, and the Unknown counter shows them.
func (tx *Tx) FinishJob(ctx context.Context, id int64, status, errText string) error {
	switch status {
	case JobDone, JobFailed, JobCancelled:
	default:
		return fmt.Errorf("finish job %d: invalid final status %q", id, status)
	}
	current, _, err := tx.jobState(ctx, id)
	if err != nil {
		return fmt.Errorf("finish job %d: %w", id, err)
	}
	if current != JobQueued && current != JobRunning {
		return fmt.Errorf("finish job %d as %s: it is %s already: %w", id, status, current, ErrConflict)
	}
	if status == JobDone {
		if current != JobRunning {
			return fmt.Errorf("finish job %d as done: it never started: %w", id, ErrConflict)
		}
		var planning bool
		if err := tx.tx.QueryRowContext(ctx, `SELECT planning FROM jobs WHERE id = ?`, id).Scan(&planning); err != nil {
			return fmt.Errorf("finish job %d: %w", id, err)
		}
		if planning {
			return fmt.Errorf("finish job %d as done: it is still planning: %w", id, ErrConflict)
		}
		var open int
		if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM job_items WHERE job_id = ? AND status IN (?, ?)`,
			id, ItemPending, ItemSent).Scan(&open); err != nil {
			return fmt.Errorf("finish job %d: %w", id, err)
		}
		if open > 0 {
			return fmt.Errorf("finish job %d as done: %d items are pending or in flight: %w", id, open, ErrConflict)
		}
	}
	if err := tx.finishJob(ctx, id, status, errText); err != nil {
		return fmt.Errorf("finish job %d: %w", id, err)
	}
	return nil
}

// finishJob applies an already checked final status.
func (tx *Tx) finishJob(ctx context.Context, id int64, status, errText string) error {
	now := formatTime(tx.stamp())
	if status == JobCancelled || status == JobFailed {
		// Items never started were never sent: skipped, not left pending
		// for ever (a pending allocation would keep its customer busy).
		if _, err := tx.tx.ExecContext(ctx, `UPDATE job_items SET status = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
			ItemSkipped, now, id, ItemPending); err != nil {
			return err
		}
	}
	// Skipping a pending item moves no counter; an item still sent joins the
	// unknown ones.
	res, err := tx.tx.ExecContext(ctx, `UPDATE job_items SET status = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
		ItemUnknown, now, id, ItemSent)
	if err != nil {
		return err
	}
	nowUnknown, err := res.RowsAffected()
	if err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE jobs SET status = ?, error = ?, finished_at = ?, unknown = unknown + ?, updated_at = ? WHERE id = ?`,
		status, errText, now, nowUnknown, now, id)
	return err
}

// FinishJob finishes a job in its own transaction; see Tx.FinishJob.
func (db *DB) FinishJob(ctx context.Context, id int64, status, errText string) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.FinishJob(ctx, id, status, errText) })
}

// RequestCancel asks job id to stop. A queued job, which has sent nothing, is
// cancelled at once and its items skipped; a running job is flagged, and from
// then on MarkItemSent refuses its items (ErrCancelRequested) so that no new
// call starts, while calls in flight may still finish. Cancelling a cancelled
// job does nothing; a done or failed one is ErrConflict.
func (tx *Tx) RequestCancel(ctx context.Context, id int64) error {
	status, _, err := tx.jobState(ctx, id)
	if err != nil {
		return fmt.Errorf("cancel job %d: %w", id, err)
	}
	now := formatTime(tx.stamp())
	switch status {
	case JobCancelled:
		return nil
	case JobQueued, JobRunning:
		if _, err := tx.tx.ExecContext(ctx, `UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?`,
			now, id); err != nil {
			return fmt.Errorf("cancel job %d: %w", id, err)
		}
		if status == JobQueued {
			if err := tx.finishJob(ctx, id, JobCancelled, ""); err != nil {
				return fmt.Errorf("cancel job %d: %w", id, err)
			}
		}
		return nil
	default:
		return fmt.Errorf("cancel job %d: it is %s already: %w", id, status, ErrConflict)
	}
}

// RequestCancel asks a job to stop in its own transaction; see Tx.RequestCancel.
func (db *DB) RequestCancel(ctx context.Context, id int64) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.RequestCancel(ctx, id) })
}

// itemState reads one item's status and units; ErrNotFound when there is no
// such item.
func (tx *Tx) itemState(ctx context.Context, jobID int64, seq int) (status string, units int, err error) {
	err = tx.tx.QueryRowContext(ctx, `SELECT status, units FROM job_items WHERE job_id = ? AND seq = ?`, jobID, seq).
		Scan(&status, &units)
	return status, units, notFound(err)
}

// MarkItemSent records the intent to call the partner API for an item: it
// moves a pending, unknown or sent item to sent and counts the attempt. The
// caller must commit this before making the call, so that after a crash the
// item reads as sent, meaning its outcome is unknown.
//
// It refuses (ErrConflict) when the job is not running or the item is already
// finished, so a finished write is never sent again, and ErrCancelRequested
// when the job has been asked to stop.
func (tx *Tx) MarkItemSent(ctx context.Context, jobID int64, seq int) error {
	jobStatus, cancelRequested, err := tx.jobState(ctx, jobID)
	if err != nil {
		return fmt.Errorf("mark item %d of job %d sent: %w", seq, jobID, err)
	}
	if jobStatus != JobRunning {
		return fmt.Errorf("mark item %d of job %d sent: job is %s: %w", seq, jobID, jobStatus, ErrConflict)
	}
	if cancelRequested {
		return fmt.Errorf("mark item %d of job %d sent: %w", seq, jobID, ErrCancelRequested)
	}
	status, units, err := tx.itemState(ctx, jobID, seq)
	if err != nil {
		return fmt.Errorf("mark item %d of job %d sent: %w", seq, jobID, err)
	}
	switch status {
	case ItemPending, ItemUnknown, ItemSent:
	default:
		return fmt.Errorf("mark item %d of job %d sent: item is %s: %w", seq, jobID, status, ErrConflict)
	}
	now := formatTime(tx.stamp())
	if _, err := tx.tx.ExecContext(ctx, `
		UPDATE job_items SET status = ?, attempts = attempts + 1, updated_at = ? WHERE job_id = ? AND seq = ?`,
		ItemSent, now, jobID, seq); err != nil {
		return fmt.Errorf("mark item %d of job %d sent: %w", seq, jobID, err)
	}
	// An unknown item being re-sent leaves the Unknown count.
	if err := tx.countTransition(ctx, jobID, status, ItemSent, units, now); err != nil {
		return fmt.Errorf("mark item %d of job %d sent: %w", seq, jobID, err)
	}
	return nil
}

// FinishItem records an item's outcome: status ok, failed, unknown or
// skipped, with the API error code, request id and result summary (JSON),
// and updates the job's counters in the same transaction.
//
// Only a pending, sent or unknown item can be finished (a read job finishes
// pending items without marking them sent; reconciliation finishes sent and
// unknown ones, even after the job has ended); an item already ok, failed or
// skipped is final and refused with ErrConflict.
func (tx *Tx) FinishItem(ctx context.Context, jobID int64, seq int, status, code, requestID string, result []byte) error {
	switch status {
	case ItemOK, ItemFailed, ItemUnknown, ItemSkipped:
	default:
		return fmt.Errorf("finish item %d of job %d: invalid outcome %q", seq, jobID, status)
	}
	if err := checkJSON("result", result); err != nil {
		return fmt.Errorf("finish item %d of job %d: %w", seq, jobID, err)
	}
	current, units, err := tx.itemState(ctx, jobID, seq)
	if err != nil {
		return fmt.Errorf("finish item %d of job %d: %w", seq, jobID, err)
	}
	switch current {
	case ItemPending, ItemSent, ItemUnknown:
	default:
		return fmt.Errorf("finish item %d of job %d as %s: item is %s already: %w", seq, jobID, status, current, ErrConflict)
	}
	now := formatTime(tx.stamp())
	query := `UPDATE job_items SET status = ?, code = ?, request_id = ?, result = ?, updated_at = ? WHERE job_id = ? AND seq = ?`
	args := []any{status, code, requestID, string(result), now, jobID, seq}
	if status == ItemUnknown && len(result) == 0 {
		// An unknown outcome keeps the note taken before the call
		// (NoteSentItem): reading the outcome back needs it.
		query = `UPDATE job_items SET status = ?, code = ?, request_id = ?, updated_at = ? WHERE job_id = ? AND seq = ?`
		args = []any{status, code, requestID, now, jobID, seq}
	}
	if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("finish item %d of job %d: %w", seq, jobID, err)
	}
	if err := tx.countTransition(ctx, jobID, current, status, units, now); err != nil {
		return fmt.Errorf("finish item %d of job %d: %w", seq, jobID, err)
	}
	return nil
}

// jobExists returns ErrNotFound when there is no job id.
func jobExists(ctx context.Context, q queryer, id int64) error {
	var one int
	return notFound(q.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE id = ?`, id).Scan(&one))
}

// JobItems returns the items of job jobID in Seq order: those in the given
// statuses (all when empty), at most limit of them (all when limit <= 0).
// ErrNotFound when the job does not exist.
func (db *DB) JobItems(ctx context.Context, jobID int64, statuses []string, limit int) ([]JobItem, error) {
	return db.JobItemsFrom(ctx, jobID, statuses, 0, limit)
}

// JobItemsFrom is JobItems from Seq fromSeq on: a way to walk a large job's
// items a batch at a time.
func (db *DB) JobItemsFrom(ctx context.Context, jobID int64, statuses []string, fromSeq, limit int) ([]JobItem, error) {
	query := `SELECT ` + jobItemColumns + ` FROM job_items WHERE job_id = ? AND seq >= ?`
	args := []any{jobID, fromSeq}
	if len(statuses) > 0 {
		query += ` AND status IN (` + placeholders(len(statuses)) + `)`
		for _, s := range statuses {
			args = append(args, s)
		}
	}
	query += ` ORDER BY seq`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	var items []JobItem
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := jobExists(ctx, tx, jobID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanJobItem(rows)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("items of job %d: %w", jobID, err)
	}
	return items, nil
}

// CountItems returns how many items of job jobID are in each status; every
// item status is present, with 0 when no item has it. ErrNotFound when the
// job does not exist.
func (db *DB) CountItems(ctx context.Context, jobID int64) (map[string]int, error) {
	counts := map[string]int{
		ItemPending: 0, ItemSent: 0, ItemOK: 0, ItemFailed: 0, ItemUnknown: 0, ItemSkipped: 0,
	}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := jobExists(ctx, tx, jobID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT status, count(*) FROM job_items WHERE job_id = ? GROUP BY status`, jobID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				status string
				n      int
			)
			if err := rows.Scan(&status, &n); err != nil {
				return err
			}
			counts[status] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count items of job %d: %w", jobID, err)
	}
	return counts, nil
}

// NoteSentItem keeps a note with a write item on the wire (what was read
// just before its call, for reading its outcome back); only a sent item
// takes one, and its outcome replaces it.
func (tx *Tx) NoteSentItem(ctx context.Context, jobID int64, seq int, note []byte) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE job_items SET result = ? WHERE job_id = ? AND seq = ? AND status = ?`,
		string(note), jobID, seq, ItemSent)
	if err != nil {
		return fmt.Errorf("note item %d of job %d: %w", seq, jobID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("note item %d of job %d: not on the wire: %w", seq, jobID, ErrConflict)
	}
	return nil
}
