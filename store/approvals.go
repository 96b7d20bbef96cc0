package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The states of an approval request.
const (
	ApprovalPending  = "pending"  // waits for a second person
	ApprovalApproved = "approved" // approved; its writes job is being stored
	ApprovalRejected = "rejected" // refused by a second person, with a reason
	ApprovalExpired  = "expired"  // nobody decided in time
	ApprovalUsed     = "used"     // approved and its writes job stored (once)
)

// ApprovalRequest is a set of writes held for a second person's approval
// (four-eyes): what was asked, by whom, and what became of it.
type ApprovalRequest struct {
	ID              int64
	RequestedBy     int64
	RequestedByName string
	OnBehalfOf      uint64 // the second-level reseller the requester acts for, or 0
	Title           string
	Intents         string // the writes, as the jobs engine's JSON
	Params          string // the writes job's parameters, as JSON
	Holds           string // why it was held: the policy's reasons, comma-separated
	CustomerUin     uint64 // the first write's customer (or reseller), for lists
	Writes          int    // how many writes
	Amount          string // the credit the writes allocate in all, exact decimal; "" for none
	State           string
	DecidedBy       int64 // 0 when undecided or that user is gone
	DecidedByName   string
	DecidedAt       time.Time // zero when undecided
	Reason          string    // a rejection's reason
	ExpiresAt       time.Time
	CreatedAt       time.Time
	JobID           int64  // the writes job once submitted; 0 before
	Outcome         string // how the job ended, once recorded; "" before
}

const approvalColumns = `id, requested_by, requested_by_name, on_behalf_of, title, intents, params, holds, customer_uin, writes, amount,
	state, decided_by, decided_by_name, decided_at, reason, expires_at, created_at, job_id, outcome`

func scanApproval(row rowScanner) (ApprovalRequest, error) {
	var (
		a                ApprovalRequest
		behalf, customer int64
		decidedBy, job   sql.NullInt64
		decidedAt        sql.NullString
		expires, created string
	)
	if err := row.Scan(&a.ID, &a.RequestedBy, &a.RequestedByName, &behalf, &a.Title, &a.Intents, &a.Params, &a.Holds, &customer, &a.Writes,
		&a.Amount, &a.State, &decidedBy, &a.DecidedByName, &decidedAt, &a.Reason, &expires, &created, &job, &a.Outcome); err != nil {
		return ApprovalRequest{}, err
	}
	a.OnBehalfOf, a.CustomerUin, a.DecidedBy, a.JobID = uint64(behalf), uint64(customer), decidedBy.Int64, job.Int64
	var err error
	if decidedAt.Valid {
		if a.DecidedAt, err = parseTime(decidedAt.String); err != nil {
			return ApprovalRequest{}, err
		}
	}
	if a.ExpiresAt, err = parseTime(expires); err != nil {
		return ApprovalRequest{}, err
	}
	a.CreatedAt, err = parseTime(created)
	return a, err
}

// AddApprovalRequest stores a pending request; CreatedAt zero is now.
func (tx *Tx) AddApprovalRequest(ctx context.Context, a ApprovalRequest) (ApprovalRequest, error) {
	if a.RequestedBy == 0 || a.Intents == "" || a.Writes <= 0 || a.ExpiresAt.IsZero() {
		return ApprovalRequest{}, errors.New("add approval request: a requester, writes and an expiry are needed")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = tx.stamp()
	}
	a.State = ApprovalPending
	row := tx.tx.QueryRowContext(ctx, `INSERT INTO approval_requests (requested_by, requested_by_name, on_behalf_of, title, intents, params,
		holds, customer_uin, writes, amount, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.RequestedBy, a.RequestedByName, int64(a.OnBehalfOf), a.Title, a.Intents, a.Params, a.Holds, int64(a.CustomerUin), a.Writes,
		a.Amount, formatTime(a.ExpiresAt), formatTime(a.CreatedAt))
	if err := row.Scan(&a.ID); err != nil {
		return ApprovalRequest{}, fmt.Errorf("add approval request: %w", err)
	}
	return a, nil
}

// PendingApprovalFor returns the id of a request still waiting at now
// that the same person made for exactly these writes, or ErrNotFound: a
// form sent again while its request waits joins it rather than adding one.
func (tx *Tx) PendingApprovalFor(ctx context.Context, requestedBy int64, intents, params string, now time.Time) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, `SELECT id FROM approval_requests WHERE requested_by = ? AND state = ? AND expires_at > ?
		AND intents = ? AND params = ? ORDER BY id LIMIT 1`, requestedBy, ApprovalPending, formatTime(now), intents, params).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("pending approval request: %w", notFound(err))
	}
	return id, nil
}

// ApprovalRequestByID returns one request as this transaction sees it.
func (tx *Tx) ApprovalRequestByID(ctx context.Context, id int64) (ApprovalRequest, error) {
	a, err := scanApproval(tx.tx.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approval_requests WHERE id = ?", id))
	if err != nil {
		return ApprovalRequest{}, fmt.Errorf("approval request %d: %w", id, notFound(err))
	}
	return a, nil
}

// ApprovalRequestByID returns one request.
func (db *DB) ApprovalRequestByID(ctx context.Context, id int64) (ApprovalRequest, error) {
	a, err := scanApproval(db.read.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approval_requests WHERE id = ?", id))
	if err != nil {
		return ApprovalRequest{}, fmt.Errorf("approval request %d: %w", id, notFound(err))
	}
	return a, nil
}

// DecideApprovalRequest moves a request from one state to another in the
// name of the person deciding, or answers ErrConflict when it is no longer
// in that state (someone else decided first, or it was used).
func (tx *Tx) DecideApprovalRequest(ctx context.Context, id int64, from, to string, by int64, byName, reason string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE approval_requests SET state = ?, decided_by = ?, decided_by_name = ?, decided_at = ?, reason = ?
		WHERE id = ? AND state = ?`, to, nullID(by), byName, formatTime(tx.stamp()), reason, id, from)
	return oneChanged(res, err, fmt.Sprintf("decide approval request %d", id))
}

// UseApprovalRequest marks an approved request used, once: a second use
// answers ErrConflict.
func (tx *Tx) UseApprovalRequest(ctx context.Context, id int64) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE approval_requests SET state = ? WHERE id = ? AND state = ?`, ApprovalUsed, id, ApprovalApproved)
	return oneChanged(res, err, fmt.Sprintf("use approval request %d", id))
}

// SetApprovalJob records the writes job an approved request's writes are in.
func (tx *Tx) SetApprovalJob(ctx context.Context, id, jobID int64) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE approval_requests SET job_id = ? WHERE id = ?`, jobID, id)
	return oneChanged(res, err, fmt.Sprintf("set the job of approval request %d", id))
}

// SetApprovalOutcome records how a used request's job ended, once: it
// answers ErrConflict when the outcome was recorded already, so only one
// caller writes its audit row.
func (tx *Tx) SetApprovalOutcome(ctx context.Context, id int64, outcome string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE approval_requests SET outcome = ? WHERE id = ? AND outcome = ''`, outcome, id)
	return oneChanged(res, err, fmt.Sprintf("set the outcome of approval request %d", id))
}

// ApprovalsAwaitingOutcome returns the used requests whose job has ended
// but whose outcome is not recorded yet.
func (db *DB) ApprovalsAwaitingOutcome(ctx context.Context) ([]ApprovalRequest, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+prefixed("a.", approvalColumns)+` FROM approval_requests a JOIN jobs j ON j.id = a.job_id
		WHERE a.state = ? AND a.outcome = '' AND j.status IN (?, ?, ?) ORDER BY a.id LIMIT 100`, ApprovalUsed, JobDone, JobFailed, JobCancelled)
	if err != nil {
		return nil, fmt.Errorf("approval requests awaiting outcome: %w", err)
	}
	defer rows.Close()
	var out []ApprovalRequest
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("approval requests awaiting outcome: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// prefixed qualifies each of a comma-separated column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func oneChanged(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return nil
}

// ExpireApprovalRequests marks the pending requests whose time ran out by
// now as expired, and returns them (for their audit rows).
func (tx *Tx) ExpireApprovalRequests(ctx context.Context, now time.Time) ([]ApprovalRequest, error) {
	rows, err := tx.tx.QueryContext(ctx, `UPDATE approval_requests SET state = ? WHERE state = ? AND expires_at <= ? RETURNING `+approvalColumns,
		ApprovalExpired, ApprovalPending, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("expire approval requests: %w", err)
	}
	defer rows.Close()
	var out []ApprovalRequest
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("expire approval requests: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// HasExpiredPending reports whether a pending request's time ran out by
// now, so the sweep writes only when there is something to mark.
func (db *DB) HasExpiredPending(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM approval_requests WHERE state = ? AND expires_at <= ? LIMIT 1)`,
		ApprovalPending, formatTime(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("expired approval requests: %w", err)
	}
	return n > 0, nil
}

// ApprovalFilter selects approval requests.
type ApprovalFilter struct {
	States      []string // any of these; all when empty
	RequestedBy int64    // only this person's; 0 for anyone's
	OnBehalfOf  *uint64  // only those made for this reseller (0: the partner's own people); nil for all
	Limit       int      // 0 = 50; at most 500
	Offset      int
}

func (f ApprovalFilter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.States) > 0 {
		conds = append(conds, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if f.RequestedBy != 0 {
		conds = append(conds, "requested_by = ?")
		args = append(args, f.RequestedBy)
	}
	if f.OnBehalfOf != nil {
		conds = append(conds, "on_behalf_of = ?")
		args = append(args, int64(*f.OnBehalfOf))
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

// ListApprovalRequests returns the matching requests, newest first, and how
// many match in all.
func (db *DB) ListApprovalRequests(ctx context.Context, f ApprovalFilter) ([]ApprovalRequest, int, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	where, args := f.where()
	var total int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM approval_requests WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count approval requests: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+approvalColumns+" FROM approval_requests WHERE "+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, limit, max(0, f.Offset))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list approval requests: %w", err)
	}
	defer rows.Close()
	var out []ApprovalRequest
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list approval requests: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// CountPendingApprovalRequests counts the requests still waiting at now
// (those past their expiry are not), for the navigation's badge.
func (db *DB) CountPendingApprovalRequests(ctx context.Context, onBehalfOf *uint64, now time.Time) (int, error) {
	q, args := "SELECT count(*) FROM approval_requests WHERE state = ? AND expires_at > ?", []any{ApprovalPending, formatTime(now)}
	if onBehalfOf != nil {
		q += " AND on_behalf_of = ?"
		args = append(args, int64(*onBehalfOf))
	}
	var n int
	if err := db.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending approval requests: %w", err)
	}
	return n, nil
}
