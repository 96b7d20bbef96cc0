package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CreditAllocation is one allocation asked for through the portal, with
// what became of it (its job item's status, code, RequestId and answer).
type CreditAllocation struct {
	ID              int64
	Key             string // idempotency key
	Target          string // AllocationToCustomer or AllocationToPool
	Uin             uint64 // the customer, or the reseller whose pool
	Amount          string // exact decimal; negative takes back
	Remark          string
	UserID          int64
	Actor           string
	ActorRole       string
	OnBehalfOf      uint64
	AsReseller      uint64
	CreditBefore    string
	RemainingBefore string
	Approval        int64 // the approval request holding it; 0 when none
	JobID           int64 // 0 while held for approval
	JobSeq          int
	CreatedAt       time.Time

	// From the job item, when there is one.
	Status    string // an Item… status; "" while held
	Code      string
	RequestId string
	Result    []byte // the answer's summary (TotalCredit, RemainingCredit) when ok
	UpdatedAt time.Time
}

// The targets of an allocation.
const (
	AllocationToCustomer = "customer"
	AllocationToPool     = "pool"
)

// InFlight reports whether the allocation may still change the target's
// credit without the portal knowing: queued, on the wire, or unknown.
func (a CreditAllocation) InFlight() bool {
	return a.JobID != 0 && (a.Status == ItemPending || a.Status == ItemSent || a.Status == ItemUnknown)
}

const creditAllocationColumns = `a.id, a.idem_key, a.target, a.uin, a.amount, a.remark, a.user_id, a.actor, a.actor_role,
	a.on_behalf_of, a.as_reseller, a.credit_before, a.remaining_before, a.approval, a.job_id, a.job_seq, a.created_at,
	coalesce(i.status, ''), coalesce(i.code, ''), coalesce(i.request_id, ''), coalesce(i.result, ''), coalesce(i.updated_at, '')`

const creditAllocationFrom = ` FROM credit_allocations a LEFT JOIN job_items i ON i.job_id = a.job_id AND i.seq = a.job_seq`

func scanCreditAllocation(row rowScanner) (CreditAllocation, error) {
	var (
		a                        CreditAllocation
		uin, behalf, reseller    int64
		job, seq                 sql.NullInt64
		created, result, updated string
	)
	if err := row.Scan(&a.ID, &a.Key, &a.Target, &uin, &a.Amount, &a.Remark, &a.UserID, &a.Actor, &a.ActorRole,
		&behalf, &reseller, &a.CreditBefore, &a.RemainingBefore, &a.Approval, &job, &seq, &created,
		&a.Status, &a.Code, &a.RequestId, &result, &updated); err != nil {
		return CreditAllocation{}, err
	}
	a.Uin, a.OnBehalfOf, a.AsReseller = uint64(uin), uint64(behalf), uint64(reseller)
	a.JobID, a.JobSeq = job.Int64, int(seq.Int64)
	if result != "" {
		a.Result = []byte(result)
	}
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return CreditAllocation{}, err
	}
	if updated != "" {
		if a.UpdatedAt, err = parseTime(updated); err != nil {
			return CreditAllocation{}, err
		}
	}
	return a, nil
}

// AddCreditAllocation records an allocation; the key must be new
// (ErrConflict otherwise). CreatedAt zero is now.
func (tx *Tx) AddCreditAllocation(ctx context.Context, a CreditAllocation) (CreditAllocation, error) {
	if a.Key == "" || a.Uin == 0 || a.Amount == "" || a.UserID == 0 {
		return CreditAllocation{}, errors.New("add credit allocation: key, UIN, amount and user are needed")
	}
	if a.Target != AllocationToCustomer && a.Target != AllocationToPool {
		return CreditAllocation{}, fmt.Errorf("add credit allocation: unknown target %q", a.Target)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = tx.stamp()
	}
	row := tx.tx.QueryRowContext(ctx, `INSERT INTO credit_allocations (idem_key, target, uin, amount, remark, user_id,
		actor, actor_role, on_behalf_of, as_reseller, credit_before, remaining_before, approval, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Key, a.Target, int64(a.Uin), a.Amount, a.Remark, a.UserID, a.Actor, a.ActorRole, int64(a.OnBehalfOf),
		int64(a.AsReseller), a.CreditBefore, a.RemainingBefore, a.Approval, formatTime(a.CreatedAt))
	if err := row.Scan(&a.ID); err != nil {
		if isUniqueViolation(err) {
			return CreditAllocation{}, fmt.Errorf("credit allocation %s: %w", a.Key, ErrConflict)
		}
		return CreditAllocation{}, fmt.Errorf("add credit allocation: %w", err)
	}
	return a, nil
}

// LinkCreditAllocation ties an allocation to the job item that makes its
// call.
func (tx *Tx) LinkCreditAllocation(ctx context.Context, key string, jobID int64, seq int) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE credit_allocations SET job_id = ?, job_seq = ? WHERE idem_key = ?`, jobID, seq, key)
	if err != nil {
		return fmt.Errorf("link credit allocation %s to job %d: %w", key, jobID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("link credit allocation %s: %w", key, ErrNotFound)
	}
	return nil
}

// CreditAllocationByKey returns the allocation of an idempotency key.
func (tx *Tx) CreditAllocationByKey(ctx context.Context, key string) (CreditAllocation, error) {
	a, err := scanCreditAllocation(tx.tx.QueryRowContext(ctx, "SELECT "+creditAllocationColumns+creditAllocationFrom+" WHERE a.idem_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditAllocation{}, fmt.Errorf("credit allocation %s: %w", key, ErrNotFound)
	}
	return a, err
}

// CreditAllocationByKey returns the allocation of an idempotency key.
func (db *DB) CreditAllocationByKey(ctx context.Context, key string) (CreditAllocation, error) {
	a, err := scanCreditAllocation(db.read.QueryRowContext(ctx, "SELECT "+creditAllocationColumns+creditAllocationFrom+" WHERE a.idem_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditAllocation{}, fmt.Errorf("credit allocation %s: %w", key, ErrNotFound)
	}
	return a, err
}

// CreditAllocationByID returns one allocation.
func (db *DB) CreditAllocationByID(ctx context.Context, id int64) (CreditAllocation, error) {
	a, err := scanCreditAllocation(db.read.QueryRowContext(ctx, "SELECT "+creditAllocationColumns+creditAllocationFrom+" WHERE a.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditAllocation{}, fmt.Errorf("credit allocation %d: %w", id, ErrNotFound)
	}
	return a, err
}

// AllocationInFlight returns the target's allocation that is queued, on
// the wire or of unknown outcome, or ErrNotFound when there is none.
// Called in the transaction that would add another, it is the rule that
// keeps one allocation per target in flight.
func (tx *Tx) AllocationInFlight(ctx context.Context, target string, uin uint64) (CreditAllocation, error) {
	a, err := scanCreditAllocation(tx.tx.QueryRowContext(ctx, "SELECT "+creditAllocationColumns+creditAllocationFrom+
		` WHERE a.target = ? AND a.uin = ? AND i.status IN (?, ?, ?) ORDER BY a.id LIMIT 1`,
		target, int64(uin), ItemPending, ItemSent, ItemUnknown))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditAllocation{}, fmt.Errorf("allocation in flight to %s %d: %w", target, uin, ErrNotFound)
	}
	return a, err
}

// AllocationsInFlight returns, of the targets given, those with an
// allocation in flight (see AllocationInFlight), keyed by UIN.
func (db *DB) AllocationsInFlight(ctx context.Context, target string, uins []uint64) (map[uint64]CreditAllocation, error) {
	out := map[uint64]CreditAllocation{}
	for len(uins) > 0 {
		n := min(len(uins), 500)
		batch := uins[:n]
		uins = uins[n:]
		args := []any{target, ItemPending, ItemSent, ItemUnknown}
		for _, u := range batch {
			args = append(args, int64(u))
		}
		rows, err := db.read.QueryContext(ctx, "SELECT "+creditAllocationColumns+creditAllocationFrom+
			` WHERE a.target = ? AND i.status IN (?, ?, ?) AND a.uin IN (?`+strings.Repeat(", ?", len(batch)-1)+`) ORDER BY a.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("allocations in flight: %w", err)
		}
		for rows.Next() {
			a, err := scanCreditAllocation(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("allocations in flight: %w", err)
			}
			if _, seen := out[a.Uin]; !seen {
				out[a.Uin] = a
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LedgerQuery selects allocations for the ledger.
type LedgerQuery struct {
	From, To time.Time // created in [From, To); zero for no bound
	Target   string    // "" both
	Uin      uint64    // 0 any
	Actor    string    // "" anyone
	// Reseller, when set, keeps a second-level reseller's allocations: made
	// by its logins or with its key.
	Reseller *uint64
	Status   string // "" any; "held" for those waiting for approval; else an Item… status
	JobID    int64  // 0 any
	Limit    int    // 0 = 50; at most 1000; -1 for all (exports)
	Offset   int
}

func (q LedgerQuery) where() (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if !q.From.IsZero() {
		add("a.created_at >= ?", formatTime(q.From))
	}
	if !q.To.IsZero() {
		add("a.created_at < ?", formatTime(q.To))
	}
	if q.Target != "" {
		add("a.target = ?", q.Target)
	}
	if q.Uin != 0 {
		add("a.uin = ?", int64(q.Uin))
	}
	if q.Actor != "" {
		add("a.actor = ?", q.Actor)
	}
	if q.Reseller != nil {
		add("(a.on_behalf_of = ? OR a.as_reseller = ?)", int64(*q.Reseller), int64(*q.Reseller))
	}
	switch q.Status {
	case "":
	case "held":
		add("a.job_id IS NULL")
	default:
		add("i.status = ?", q.Status)
	}
	if q.JobID != 0 {
		add("a.job_id = ?", q.JobID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// CreditLedger returns the allocations the query selects, newest first,
// and how many match in all.
func (db *DB) CreditLedger(ctx context.Context, q LedgerQuery) ([]CreditAllocation, int, error) {
	where, args := q.where()
	var total int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*)"+creditAllocationFrom+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count credit ledger: %w", err)
	}
	var out []CreditAllocation
	err := db.EachCreditAllocation(ctx, q, func(a CreditAllocation) error { out = append(out, a); return nil })
	return out, total, err
}

// EachCreditAllocation calls fn for each allocation the query selects,
// newest first (Limit -1 for all of them).
func (db *DB) EachCreditAllocation(ctx context.Context, q LedgerQuery, fn func(CreditAllocation) error) error {
	where, args := q.where()
	limit := q.Limit
	switch {
	case limit == 0:
		limit = 50
	case limit > 1000:
		limit = 1000
	}
	query := "SELECT " + creditAllocationColumns + creditAllocationFrom + where + " ORDER BY a.created_at DESC, a.id DESC"
	if limit > 0 {
		query += " LIMIT ? OFFSET ?"
		args = append(args, limit, max(0, q.Offset))
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read credit ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanCreditAllocation(rows)
		if err != nil {
			return fmt.Errorf("read credit ledger: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}
