package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Kinds of a watch threshold.
const (
	WatchPercent = "percent" // a per cent of the customer's credit
	WatchAmount  = "amount"  // an amount of available credit, in USD
)

// WatchThreshold is one custom threshold: its kind and its value, exact
// decimal text (a per cent from 0 to 100, or USD).
type WatchThreshold struct {
	Kind  string
	Value string
}

// WatchSettings are a customer's watch thresholds as set by people: the
// zero value is the default thresholds alone.
type WatchSettings struct {
	Uin uint64
	// NoDefaults: the default thresholds (25 %, 10 %, 0 %) do not apply.
	NoDefaults bool
	Custom     []WatchThreshold // by kind, then value
	UpdatedBy  string
	UpdatedAt  time.Time // zero when never set
}

// WatchState is a customer past a threshold: the most severe one it is
// past, the credit read that found it so, and since when.
type WatchState struct {
	Uin       uint64
	Kind      string // WatchPercent or WatchAmount
	Value     string // the threshold's value
	Bound     string // the available credit the threshold stood for at Credit
	Credit    string
	Remaining string
	// ShareMicros is the available credit in millionths of the credit;
	// nil without a credit line.
	ShareMicros *int64
	Since       time.Time // since when it has been past this threshold
	AsOf        time.Time // when the figures were read
}

// WatchedCustomer is a customer past a threshold, with what the lists
// show of it.
type WatchedCustomer struct {
	WatchState
	Name        string
	ResellerUin uint64
}

// Now is the time by the store's clock, as the transaction stamps rows.
func (tx *Tx) Now() time.Time { return tx.stamp() }

// checkThreshold refuses a threshold the table cannot hold and returns its
// value in millionths.
func checkThreshold(t WatchThreshold) (int64, error) {
	if t.Kind != WatchPercent && t.Kind != WatchAmount {
		return 0, fmt.Errorf("watch threshold kind %q is not %s or %s", t.Kind, WatchPercent, WatchAmount)
	}
	m, err := micros("threshold", t.Value)
	if err != nil || t.Value == "" || m < 0 {
		return 0, fmt.Errorf("watch threshold %q is not an amount of 0 or more", t.Value)
	}
	return m, nil
}

// SetWatchSettings replaces a customer's watch settings: whether the
// defaults apply and the custom thresholds, stamped with who set them
// (UpdatedAt is the store's clock). ErrNotFound when the table does not
// hold the customer.
func (tx *Tx) SetWatchSettings(ctx context.Context, s WatchSettings) error {
	if err := checkUin(s.Uin); err != nil {
		return fmt.Errorf("set watch of customer %d: %w", s.Uin, ErrNotFound)
	}
	values := make([]int64, len(s.Custom))
	for i, t := range s.Custom {
		m, err := checkThreshold(t)
		if err != nil {
			return fmt.Errorf("set watch of customer %d: %w", s.Uin, err)
		}
		values[i] = m
	}
	if _, err := customerByUin(ctx, tx.tx, s.Uin); err != nil {
		return fmt.Errorf("set watch: %w", err)
	}
	uin := int64(s.Uin)
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO credit_watch_settings (uin, no_defaults, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (uin) DO UPDATE SET no_defaults = excluded.no_defaults, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		uin, s.NoDefaults, s.UpdatedBy, formatTime(tx.stamp())); err != nil {
		return fmt.Errorf("set watch of customer %d: %w", s.Uin, err)
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM credit_watch_thresholds WHERE uin = ?`, uin); err != nil {
		return fmt.Errorf("set watch of customer %d: %w", s.Uin, err)
	}
	for i, t := range s.Custom {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO credit_watch_thresholds (uin, kind, value, value_micros) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, uin, t.Kind, t.Value, values[i]); err != nil {
			return fmt.Errorf("set watch of customer %d: %w", s.Uin, err)
		}
	}
	return nil
}

// WatchSettings returns a customer's watch settings; the zero settings
// (the defaults alone) for one nobody has set.
func (db *DB) WatchSettings(ctx context.Context, uin uint64) (WatchSettings, error) {
	m, err := watchSettings(ctx, db.read, []uint64{uin})
	if err != nil {
		return WatchSettings{}, err
	}
	return m[uin], nil
}

// WatchSettingsOf returns the watch settings of the customers given, for a
// page of them; a customer nobody has set is absent (the defaults alone).
func (db *DB) WatchSettingsOf(ctx context.Context, uins []uint64) (map[uint64]WatchSettings, error) {
	return watchSettings(ctx, db.read, uins)
}

// WatchSettingsOf is DB.WatchSettingsOf inside the write transaction.
func (tx *Tx) WatchSettingsOf(ctx context.Context, uins []uint64) (map[uint64]WatchSettings, error) {
	return watchSettings(ctx, tx.tx, uins)
}

// uinArgs turns UINs into query arguments, leaving out those SQLite's
// INTEGER cannot hold (no such customer).
func uinArgs(uins []uint64) []any {
	args := make([]any, 0, len(uins))
	for _, u := range uins {
		if u > 0 && u <= math.MaxInt64 {
			args = append(args, int64(u))
		}
	}
	return args
}

// watchBatch is how many UINs one IN list carries.
const watchBatch = 500

func watchSettings(ctx context.Context, q queryer, uins []uint64) (map[uint64]WatchSettings, error) {
	out := map[uint64]WatchSettings{}
	args := uinArgs(uins)
	for len(args) > 0 {
		batch := args[:min(len(args), watchBatch)]
		args = args[len(batch):]
		if err := readWatchSettings(ctx, q, batch, out); err != nil {
			return nil, fmt.Errorf("watch settings: %w", err)
		}
	}
	return out, nil
}

func readWatchSettings(ctx context.Context, q queryer, batch []any, out map[uint64]WatchSettings) error {
	rows, err := q.QueryContext(ctx, `SELECT s.uin, s.no_defaults, s.updated_by, s.updated_at, coalesce(t.kind, ''), coalesce(t.value, '')
		FROM credit_watch_settings s LEFT JOIN credit_watch_thresholds t ON t.uin = s.uin
		WHERE s.uin IN (`+placeholders(len(batch))+`) ORDER BY s.uin, t.kind DESC, t.value_micros DESC`, batch...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			uin         int64
			noDefaults  bool
			by, at      string
			kind, value string
		)
		if err := rows.Scan(&uin, &noDefaults, &by, &at, &kind, &value); err != nil {
			return err
		}
		settings, found := out[uint64(uin)]
		if !found {
			updated, err := parseTime(at)
			if err != nil {
				return err
			}
			settings = WatchSettings{Uin: uint64(uin), NoDefaults: noDefaults, UpdatedBy: by, UpdatedAt: updated}
		}
		if kind != "" {
			settings.Custom = append(settings.Custom, WatchThreshold{Kind: kind, Value: value})
		}
		out[uint64(uin)] = settings
	}
	return rows.Err()
}

const watchStateColumns = `w.uin, w.kind, w.value, w.bound, w.credit, w.remaining, w.share_micros, w.since, w.as_of`

func scanWatchState(row rowScanner, extra ...any) (WatchState, error) {
	var (
		s         WatchState
		uin       int64
		share     sql.NullInt64
		since, at string
	)
	if err := row.Scan(append([]any{&uin, &s.Kind, &s.Value, &s.Bound, &s.Credit, &s.Remaining, &share, &since, &at}, extra...)...); err != nil {
		return WatchState{}, err
	}
	s.Uin = uint64(uin)
	if share.Valid {
		v := share.Int64
		s.ShareMicros = &v
	}
	var err error
	if s.Since, err = parseTime(since); err != nil {
		return WatchState{}, err
	}
	if s.AsOf, err = parseTime(at); err != nil {
		return WatchState{}, err
	}
	return s, nil
}

// WatchStatesOf returns the watch state of those of the customers given
// that are past a threshold.
func (tx *Tx) WatchStatesOf(ctx context.Context, uins []uint64) (map[uint64]WatchState, error) {
	return watchStates(ctx, tx.tx, uins)
}

// WatchStatesOf is Tx.WatchStatesOf on the read pool, for a page of a list.
func (db *DB) WatchStatesOf(ctx context.Context, uins []uint64) (map[uint64]WatchState, error) {
	return watchStates(ctx, db.read, uins)
}

func watchStates(ctx context.Context, q queryer, uins []uint64) (map[uint64]WatchState, error) {
	out := map[uint64]WatchState{}
	args := uinArgs(uins)
	for len(args) > 0 {
		batch := args[:min(len(args), watchBatch)]
		args = args[len(batch):]
		rows, err := q.QueryContext(ctx, `SELECT `+watchStateColumns+` FROM credit_watch_state w WHERE w.uin IN (`+placeholders(len(batch))+`)`, batch...)
		if err != nil {
			return nil, fmt.Errorf("watch states: %w", err)
		}
		for rows.Next() {
			s, err := scanWatchState(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("watch states: %w", err)
			}
			out[s.Uin] = s
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("watch states: %w", err)
		}
	}
	return out, nil
}

// WatchState returns a customer's watch state, or ErrNotFound when it is
// past no threshold.
func (db *DB) WatchState(ctx context.Context, uin uint64) (WatchState, error) {
	if uin > math.MaxInt64 {
		return WatchState{}, fmt.Errorf("watch state of %d: %w", uin, ErrNotFound)
	}
	s, err := scanWatchState(db.read.QueryRowContext(ctx, `SELECT `+watchStateColumns+` FROM credit_watch_state w WHERE w.uin = ?`, int64(uin)))
	if err != nil {
		return WatchState{}, fmt.Errorf("watch state of %d: %w", uin, notFound(err))
	}
	return s, nil
}

// PutWatchState records a customer as past a threshold, replacing its
// state. A customer the table does not hold is left alone (ErrNotFound).
func (tx *Tx) PutWatchState(ctx context.Context, s WatchState) error {
	if err := checkUin(s.Uin); err != nil {
		return fmt.Errorf("put watch state: %w", err)
	}
	if _, err := checkThreshold(WatchThreshold{Kind: s.Kind, Value: s.Value}); err != nil {
		return fmt.Errorf("put watch state of %d: %w", s.Uin, err)
	}
	bound, err := micros("bound", s.Bound)
	if err != nil {
		return fmt.Errorf("put watch state of %d: %w", s.Uin, err)
	}
	remaining, err := micros("remaining credit", s.Remaining)
	if err != nil || s.Remaining == "" {
		return fmt.Errorf("put watch state of %d: remaining credit %q is not a decimal amount", s.Uin, s.Remaining)
	}
	var share sql.NullInt64
	if s.ShareMicros != nil {
		share = sql.NullInt64{Int64: *s.ShareMicros, Valid: true}
	}
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO credit_watch_state
		(uin, kind, value, bound, bound_micros, credit, remaining, remaining_micros, share_micros, since, as_of)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM customers WHERE uin = ?)
		ON CONFLICT (uin) DO UPDATE SET kind = excluded.kind, value = excluded.value, bound = excluded.bound,
			bound_micros = excluded.bound_micros, credit = excluded.credit, remaining = excluded.remaining,
			remaining_micros = excluded.remaining_micros, share_micros = excluded.share_micros,
			since = excluded.since, as_of = excluded.as_of`,
		int64(s.Uin), s.Kind, s.Value, s.Bound, bound, s.Credit, s.Remaining, remaining, share,
		formatTime(s.Since), formatTime(s.AsOf), int64(s.Uin))
	if err != nil {
		return fmt.Errorf("put watch state of %d: %w", s.Uin, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("put watch state of %d: %w", s.Uin, errors.Join(err, ErrNotFound))
	}
	return nil
}

// ClearWatchState records that a customer is past no threshold.
func (tx *Tx) ClearWatchState(ctx context.Context, uin uint64) error {
	if uin > math.MaxInt64 {
		return nil
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM credit_watch_state WHERE uin = ?`, int64(uin)); err != nil {
		return fmt.Errorf("clear watch state of %d: %w", uin, err)
	}
	return nil
}

// WatchQuery selects customers past a threshold.
type WatchQuery struct {
	ResellerUin *uint64 // nil any; 0 direct customers; else that reseller's
	Limit       int     // 0 = DefaultCustomerLimit; at most MaxCustomerLimit
}

// watchOrder is the lists' order, most severe first: nothing left, then
// the smallest share of the credit left (those without a credit line
// after), then the least left.
const watchOrder = `w.remaining_micros > 0, w.share_micros IS NULL, w.share_micros, w.remaining_micros, w.uin`

// WatchedCustomers returns the first customers past a threshold, most
// severe first, and how many there are in all.
func (db *DB) WatchedCustomers(ctx context.Context, q WatchQuery) ([]WatchedCustomer, int, error) {
	where, args := "1 = 1", []any{}
	if q.ResellerUin != nil {
		if *q.ResellerUin > math.MaxInt64 {
			return nil, 0, nil
		}
		where, args = "c.reseller_uin = ?", append(args, int64(*q.ResellerUin))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultCustomerLimit
	}
	limit = min(limit, MaxCustomerLimit)
	var (
		out   []WatchedCustomer
		total int
	)
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		from := ` FROM credit_watch_state w JOIN customers c ON c.uin = w.uin WHERE ` + where
		if err := tx.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+watchStateColumns+`, c.name, c.reseller_uin`+from+` ORDER BY `+watchOrder+` LIMIT ?`,
			append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				wc       WatchedCustomer
				reseller int64
			)
			if wc.WatchState, err = scanWatchState(rows, &wc.Name, &reseller); err != nil {
				return err
			}
			wc.ResellerUin = uint64(reseller)
			out = append(out, wc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("watched customers: %w", err)
	}
	return out, total, nil
}
