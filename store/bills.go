package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// BillPart is one line of a month's breakdown: a product, a region, a pay
// mode or a pay mode's transaction type, with its amounts as exact decimal
// text.
type BillPart struct {
	Code          string // product code, region id, pay mode or transaction type
	Name          string
	OriginalCost  string
	VoucherAmount string
	Total         string
}

// BillPayMode is a pay mode's totals with its transaction types.
type BillPayMode struct {
	BillPart
	Actions []BillPart
}

// BillMonth is one customer's bill summary for one month, as the bills
// refresh reads it.
type BillMonth struct {
	CustomerUin uint64
	Month       string // "2006-01"
	Total       string // DescribeCustomerBillSummary's TotalCost
	RequestID   string
	FetchedAt   time.Time
	Products    []BillPart
	Regions     []BillPart
	PayModes    []BillPayMode
}

// e8 is the integer key of an exact decimal amount: the amount in
// hundred-millionths (the API's eight decimals), rounded half away from
// zero beyond them; 0 for "".
func e8(what, amount string) (int64, error) {
	if amount == "" {
		return 0, nil
	}
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a decimal amount", what, amount)
	}
	m := d.Shift(8).Round(0)
	if m.GreaterThan(decimal.NewFromInt(math.MaxInt64)) || m.LessThan(decimal.NewFromInt(math.MinInt64)) {
		return 0, fmt.Errorf("%s %q is out of range", what, amount)
	}
	return m.IntPart(), nil
}

// FromE8 is the exact amount of a sum of e8 keys.
func FromE8(n int64) decimal.Decimal { return decimal.New(n, -8) }

// PutBillMonth stores a customer's month, replacing what was stored of it.
func (tx *Tx) PutBillMonth(ctx context.Context, b BillMonth) error {
	if err := checkUin(b.CustomerUin); err != nil {
		return fmt.Errorf("put bill month: %w", err)
	}
	if err := checkMonth(b.Month); err != nil {
		return fmt.Errorf("put bill month: %w", err)
	}
	total, err := e8("total", b.Total)
	if err != nil {
		return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
	}
	uin := int64(b.CustomerUin)
	for _, table := range []string{"bill_products", "bill_regions", "bill_pay_modes"} {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE month = ? AND customer_uin = ?`, b.Month, uin); err != nil {
			return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
		}
	}
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO bill_months (month, customer_uin, total, total_e8, request_id, fetched_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (month, customer_uin) DO UPDATE SET total = excluded.total, total_e8 = excluded.total_e8,
			request_id = excluded.request_id, fetched_at = excluded.fetched_at`,
		b.Month, uin, b.Total, total, b.RequestID, formatTime(b.FetchedAt)); err != nil {
		return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
	}
	parts := func(table string, ps []BillPart) error {
		for _, p := range ps {
			n, err := e8(table, p.Total)
			if err != nil {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO `+table+` (month, customer_uin, code, name, original_cost, voucher_amount, total, total_e8)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.Month, uin, p.Code, p.Name, p.OriginalCost, p.VoucherAmount, p.Total, n); err != nil {
				return err
			}
		}
		return nil
	}
	if err := parts("bill_products", b.Products); err != nil {
		return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
	}
	if err := parts("bill_regions", b.Regions); err != nil {
		return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
	}
	mode := func(payMode, action string, p BillPart) error {
		n, err := e8("pay mode", p.Total)
		if err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, `INSERT INTO bill_pay_modes (month, customer_uin, pay_mode, action_type, name, original_cost, voucher_amount, total, total_e8)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.Month, uin, payMode, action, p.Name, p.OriginalCost, p.VoucherAmount, p.Total, n)
		return err
	}
	for _, pm := range b.PayModes {
		if err := mode(pm.Code, "", pm.BillPart); err != nil {
			return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
		}
		for _, a := range pm.Actions {
			if a.Code == "" {
				continue // '' is the pay mode's own row
			}
			if err := mode(pm.Code, a.Code, a); err != nil {
				return fmt.Errorf("put bill month %s of %d: %w", b.Month, b.CustomerUin, err)
			}
		}
	}
	return nil
}

// BillMonthOf returns a customer's stored month with its breakdowns, or
// ErrNotFound.
func (db *DB) BillMonthOf(ctx context.Context, uin uint64, month string) (BillMonth, error) {
	if uin > math.MaxInt64 {
		return BillMonth{}, fmt.Errorf("bill month %s of %d: %w", month, uin, ErrNotFound)
	}
	b := BillMonth{CustomerUin: uin, Month: month}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var fetched string
		if err := tx.QueryRowContext(ctx, `SELECT total, request_id, fetched_at FROM bill_months WHERE month = ? AND customer_uin = ?`,
			month, int64(uin)).Scan(&b.Total, &b.RequestID, &fetched); err != nil {
			return notFound(err)
		}
		var err error
		if b.FetchedAt, err = parseTime(fetched); err != nil {
			return err
		}
		parts := func(table string) ([]BillPart, error) {
			rows, err := tx.QueryContext(ctx, `SELECT code, name, original_cost, voucher_amount, total FROM `+table+`
				WHERE month = ? AND customer_uin = ? ORDER BY code`, month, int64(uin))
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []BillPart
			for rows.Next() {
				var p BillPart
				if err := rows.Scan(&p.Code, &p.Name, &p.OriginalCost, &p.VoucherAmount, &p.Total); err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			return out, rows.Err()
		}
		if b.Products, err = parts("bill_products"); err != nil {
			return err
		}
		if b.Regions, err = parts("bill_regions"); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT pay_mode, action_type, name, original_cost, voucher_amount, total FROM bill_pay_modes
			WHERE month = ? AND customer_uin = ? ORDER BY pay_mode, action_type`, month, int64(uin))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var mode, action string
			var p BillPart
			if err := rows.Scan(&mode, &action, &p.Name, &p.OriginalCost, &p.VoucherAmount, &p.Total); err != nil {
				return err
			}
			if action == "" {
				p.Code = mode
				b.PayModes = append(b.PayModes, BillPayMode{BillPart: p})
				continue
			}
			p.Code = action
			if n := len(b.PayModes); n > 0 && b.PayModes[n-1].Code == mode {
				b.PayModes[n-1].Actions = append(b.PayModes[n-1].Actions, p)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return BillMonth{}, fmt.Errorf("bill month %s of %d: %w", month, uin, err)
	}
	return b, nil
}

// BillSorts are the columns the monthly overview sorts by.
var BillSorts = []string{"uin", "name", "total", "previous", "change"}

// billOrders are the sorts' ORDER BY terms; the UIN breaks ties.
var billOrders = map[string]string{
	"uin":      "b.customer_uin",
	"name":     "lower(coalesce(c.name, ''))",
	"total":    "b.total_e8",
	"previous": "coalesce(p.total_e8, 0)",
	"change":   "b.total_e8 - coalesce(p.total_e8, 0)",
}

// BillQuery selects a page of one month's customer totals.
type BillQuery struct {
	Month    string
	Previous string // the month the change is against
	// ResellerUin, when set, holds the rows to that reseller's customers
	// (0: the partner's direct customers).
	ResellerUin *uint64
	Sort        string // one of BillSorts; "" is total
	Desc        bool
	Limit       int // 0: every row
	Offset      int
}

// BillRow is one customer's total of a month, with the month before.
type BillRow struct {
	Uin         uint64
	Name        string // '' when the customers table does not hold it
	ResellerUin uint64
	Total       string
	TotalE8     int64
	Previous    string // '' when the month before was not read
	PreviousE8  int64
	FetchedAt   time.Time
}

func (q BillQuery) build() (string, []any, string, error) {
	if err := checkMonth(q.Month); err != nil {
		return "", nil, "", err
	}
	order, ok := billOrders[q.Sort]
	if q.Sort == "" {
		order, ok = billOrders["total"], true
	}
	if !ok {
		return "", nil, "", fmt.Errorf("%w: sort %q", ErrInvalidCustomerQuery, q.Sort)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	where := "b.month = ?"
	args := []any{q.Previous, q.Month}
	if q.ResellerUin != nil {
		where += " AND coalesce(c.reseller_uin, 0) = ?"
		args = append(args, int64(*q.ResellerUin))
	}
	return where, args, order + dir + ", b.customer_uin" + dir, nil
}

const billFrom = ` FROM bill_months b
	LEFT JOIN customers c ON c.uin = b.customer_uin
	LEFT JOIN bill_months p ON p.month = ? AND p.customer_uin = b.customer_uin
	WHERE `

// BillRows returns a page of the month's customer totals and how many
// customers the month holds.
func (db *DB) BillRows(ctx context.Context, q BillQuery) ([]BillRow, int, error) {
	where, args, order, err := q.build()
	if err != nil {
		return nil, 0, fmt.Errorf("bill rows: %w", err)
	}
	var (
		out   []BillRow
		total int
	)
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*)`+billFrom+where, args...).Scan(&total); err != nil {
			return err
		}
		query := `SELECT b.customer_uin, coalesce(c.name, ''), coalesce(c.reseller_uin, 0), b.total, b.total_e8,
			coalesce(p.total, ''), coalesce(p.total_e8, 0), b.fetched_at` + billFrom + where + ` ORDER BY ` + order
		all := args
		if q.Limit > 0 {
			query += ` LIMIT ? OFFSET ?`
			all = append(all, q.Limit, max(q.Offset, 0))
		}
		rows, err := tx.QueryContext(ctx, query, all...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r BillRow
			var uin, reseller int64
			var fetched string
			if err := rows.Scan(&uin, &r.Name, &reseller, &r.Total, &r.TotalE8, &r.Previous, &r.PreviousE8, &fetched); err != nil {
				return err
			}
			r.Uin, r.ResellerUin = uint64(uin), uint64(reseller)
			if r.FetchedAt, err = parseTime(fetched); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("bill rows: %w", err)
	}
	return out, total, nil
}

// BillTotal is the sum of a month's customer totals.
type BillTotal struct {
	Month     string
	Customers int   // customers read for the month
	TotalE8   int64 // their totals' sum, in hundred-millionths
	Oldest    time.Time
	Newest    time.Time
}

// BillTotals returns each month's sum over the customers read for it (the
// reseller's customers only when reseller is set), in the order given; a
// month nobody was read for has Customers 0.
func (db *DB) BillTotals(ctx context.Context, months []string, reseller *uint64) ([]BillTotal, error) {
	out := make([]BillTotal, len(months))
	if len(months) == 0 {
		return out, nil
	}
	at := map[string]int{}
	args := make([]any, 0, len(months)+1)
	for i, m := range months {
		if err := checkMonth(m); err != nil {
			return nil, fmt.Errorf("bill totals: %w", err)
		}
		out[i].Month = m
		at[m] = i
		args = append(args, m)
	}
	query := `SELECT b.month, count(*), coalesce(sum(b.total_e8), 0), min(b.fetched_at), max(b.fetched_at) FROM bill_months b`
	if reseller != nil {
		query += ` LEFT JOIN customers c ON c.uin = b.customer_uin`
	}
	query += ` WHERE b.month IN (?` + strings.Repeat(", ?", len(months)-1) + `)`
	if reseller != nil {
		query += ` AND coalesce(c.reseller_uin, 0) = ?`
		args = append(args, int64(*reseller))
	}
	rows, err := db.read.QueryContext(ctx, query+` GROUP BY b.month`, args...)
	if err != nil {
		return nil, fmt.Errorf("bill totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t BillTotal
		var oldest, newest string
		if err := rows.Scan(&t.Month, &t.Customers, &t.TotalE8, &oldest, &newest); err != nil {
			return nil, fmt.Errorf("bill totals: %w", err)
		}
		if t.Oldest, err = parseTime(oldest); err != nil {
			return nil, fmt.Errorf("bill totals: %w", err)
		}
		if t.Newest, err = parseTime(newest); err != nil {
			return nil, fmt.Errorf("bill totals: %w", err)
		}
		out[at[t.Month]] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bill totals: %w", err)
	}
	return out, nil
}

// BillMonthStats returns how many of the partner's direct customers (or
// customers the table does not hold) a month's summaries hold and the
// oldest fetch among them (zero when none), for the freshness figures,
// which count against the direct customers: the ones the bills refresh
// always reads.
func (db *DB) BillMonthStats(ctx context.Context, month string) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullString
	)
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(b.fetched_at) FROM bill_months b
		LEFT JOIN customers c ON c.uin = b.customer_uin
		WHERE b.month = ? AND coalesce(c.reseller_uin, 0) = 0`, month).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("bill month stats: %w", err)
	}
	t, err := parseNullTime(oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bill month stats: %w", err)
	}
	return n, t, nil
}
