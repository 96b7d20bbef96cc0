package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CreditBatch is a bulk credit allocation between its preview and its
// job: Lines is its checked lines as the credit service encodes them.
type CreditBatch struct {
	ID         int64
	Key        string
	UserID     int64
	Actor      string
	OnBehalfOf uint64
	Source     string // BatchFromFile or BatchFromSelection
	Lines      []byte
	JobID      int64 // 0 until confirmed
	Approval   int64 // the approval request holding its job; 0 when none
	CreatedAt  time.Time
}

// Where a batch's lines came from.
const (
	BatchFromFile      = "file"
	BatchFromSelection = "selection"
)

const creditBatchColumns = `id, idem_key, user_id, actor, on_behalf_of, source, lines, job_id, approval, created_at`

func scanCreditBatch(row rowScanner) (CreditBatch, error) {
	var (
		b       CreditBatch
		behalf  int64
		job     sql.NullInt64
		lines   string
		created string
	)
	if err := row.Scan(&b.ID, &b.Key, &b.UserID, &b.Actor, &behalf, &b.Source, &lines, &job, &b.Approval, &created); err != nil {
		return CreditBatch{}, err
	}
	b.OnBehalfOf, b.JobID, b.Lines = uint64(behalf), job.Int64, []byte(lines)
	var err error
	b.CreatedAt, err = parseTime(created)
	return b, err
}

// AddCreditBatch stores a batch; a key used before is ErrConflict.
func (tx *Tx) AddCreditBatch(ctx context.Context, b CreditBatch) (CreditBatch, error) {
	if b.Key == "" || b.UserID == 0 || len(b.Lines) == 0 {
		return CreditBatch{}, errors.New("add credit batch: key, user and lines are needed")
	}
	if b.Source != BatchFromFile && b.Source != BatchFromSelection {
		return CreditBatch{}, fmt.Errorf("add credit batch: unknown source %q", b.Source)
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = tx.stamp()
	}
	row := tx.tx.QueryRowContext(ctx, `INSERT INTO credit_batches (idem_key, user_id, actor, on_behalf_of, source, lines, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, b.Key, b.UserID, b.Actor, int64(b.OnBehalfOf), b.Source, string(b.Lines), formatTime(b.CreatedAt))
	if err := row.Scan(&b.ID); err != nil {
		if isUniqueViolation(err) {
			return CreditBatch{}, fmt.Errorf("credit batch %s: %w", b.Key, ErrConflict)
		}
		return CreditBatch{}, fmt.Errorf("add credit batch: %w", err)
	}
	return b, nil
}

// SetCreditBatchJob records the job (or the approval request) that carries
// a confirmed batch; a batch that has a job keeps it.
func (tx *Tx) SetCreditBatchJob(ctx context.Context, id, jobID, approval int64) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE credit_batches SET job_id = coalesce(job_id, ?), approval = ? WHERE id = ?`, nullID(jobID), approval, id)
	if err != nil {
		return fmt.Errorf("set job of credit batch %d: %w", id, err)
	}
	return nil
}

// CreditBatchByID returns one batch.
func (db *DB) CreditBatchByID(ctx context.Context, id int64) (CreditBatch, error) {
	b, err := scanCreditBatch(db.read.QueryRowContext(ctx, "SELECT "+creditBatchColumns+" FROM credit_batches WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditBatch{}, fmt.Errorf("credit batch %d: %w", id, ErrNotFound)
	}
	return b, err
}

// CreditBatchByKey returns the batch of an idempotency key.
func (db *DB) CreditBatchByKey(ctx context.Context, key string) (CreditBatch, error) {
	b, err := scanCreditBatch(db.read.QueryRowContext(ctx, "SELECT "+creditBatchColumns+" FROM credit_batches WHERE idem_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return CreditBatch{}, fmt.Errorf("credit batch %s: %w", key, ErrNotFound)
	}
	return b, err
}
