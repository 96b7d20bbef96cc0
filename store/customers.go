package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// ErrInvalidCustomerQuery reports a CustomerQuery the store cannot run, such
// as a sort by a column that is not sortable.
var ErrInvalidCustomerQuery = errors.New("invalid customer query")

// Customer is one customer of the partner as the directory refresh last
// read it: a direct customer (ResellerUin 0) or an indirect one of a
// second-level reseller. Money is exact decimal text as the partner API
// answers it ("" when not known), for callers to parse.
type Customer struct {
	Uin             uint64
	Name            string
	Email           string // whole, from DescribeCustomerInfo; "" when not known
	Phone           string
	Country         string // known only for accounts the portal created; "" otherwise
	Remark          string
	Credit          string // exact decimal, e.g. "1000.5"; "" when not known
	RemainingCredit string // exact decimal; "" when not known
	Force           int64  // ForceQN state: 2 suspended by the partner, 0 normal
	AccountStatus   string // DescribeCustomerInfo: "2" suspended for arrears or credit taken to 0; "" when not known
	AuthStatus      string // DescribeCustomerInfo's identity verification status; "" when not known
	AuthType        int64  // -1 not known, 0 personal, 1 enterprise
	ResellerUin     uint64 // 0 for a direct customer; the second-level reseller's UIN for an indirect one
	BindTime        time.Time
	HasExpense      bool   // DescribeCustomerInfo HasExpense
	SpendMonth      string // the month ("2006-01") Spend is the total of; "" when no bills refresh has read it
	Spend           string // exact decimal; "" when not read
	FetchedAt       time.Time
}

// Suspended reports whether the customer's services are suspended, by the
// partner (ForceQN) or for arrears or credit taken to 0.
func (c Customer) Suspended() bool { return c.Force == 2 || c.AccountStatus == "2" }

// CustomerQuery selects, orders and pages customers. The zero value is every
// customer by UIN, first page.
type CustomerQuery struct {
	// Text matches a customer whose UIN starts with it (when it is all
	// digits), or whose name, email or remark has words starting with each
	// of its words, case-insensitively.
	Text              string
	AuthStatus        string  // "" any
	NotAuthStatus     string  // "" any; else only customers whose AuthStatus differs (such as not verified)
	Suspended         *bool   // nil any; see Customer.Suspended
	ResellerUin       *uint64 // nil any; 0 direct customers; else that reseller's indirect customers
	HasSpendThisMonth *bool   // nil any; true: a positive spend recorded for Month; needs Month
	// CreditAtMost, when set, keeps customers with a credit line whose
	// available credit is at most that per cent (0 to 100) of it.
	CreditAtMost *int
	Month        string // the current month ("2006-01"), for HasSpendThisMonth
	AfterUin     uint64 // only UINs greater than this: keyset paging by UIN
	Sort         string // one of CustomerSorts; "" is "uin"; "spend" is by month, then amount
	Desc         bool
	Limit        int // 0 = DefaultCustomerLimit; at most MaxCustomerLimit
	Offset       int

	// Watched keeps the customers past one of their watch thresholds.
	Watched bool
}

// Page sizes for SearchCustomers.
const (
	DefaultCustomerLimit = 50
	MaxCustomerLimit     = 500
)

// customerSorts maps each sortable column to its ORDER BY keys; the text
// ones sort case-insensitively. A spend sorts by its month, then its
// amount: this month's spends rank above any earlier month's, and a
// customer without one lowest.
var customerSorts = map[string][]string{
	"uin":              {"uin"},
	"name":             {"lower(name)"},
	"email":            {"lower(email)"},
	"phone":            {"phone"},
	"country":          {"country"},
	"remark":           {"lower(remark)"},
	"credit":           {"credit_micros"},
	"remaining_credit": {"remaining_credit_micros"},
	"force":            {"force"},
	"auth_status":      {"auth_status"},
	"reseller_uin":     {"reseller_uin"},
	"bind_time":        {"bind_time"},
	"spend":            {"spend_month", "spend_micros"},
	"fetched_at":       {"fetched_at"},
}

// CustomerSorts lists the columns a CustomerQuery may sort by.
var CustomerSorts = []string{"uin", "name", "email", "phone", "country", "remark", "credit", "remaining_credit",
	"force", "auth_status", "reseller_uin", "bind_time", "spend", "fetched_at"}

const customerColumns = `uin, name, email, phone, country, remark, credit, remaining_credit, force, account_status,
	auth_status, auth_type, reseller_uin, bind_time, has_expense, spend_month, spend, fetched_at`

func scanCustomer(row rowScanner) (Customer, error) {
	var (
		c             Customer
		bind, fetched string
		uin, reseller int64
	)
	if err := row.Scan(&uin, &c.Name, &c.Email, &c.Phone, &c.Country, &c.Remark, &c.Credit, &c.RemainingCredit,
		&c.Force, &c.AccountStatus, &c.AuthStatus, &c.AuthType, &reseller, &bind, &c.HasExpense,
		&c.SpendMonth, &c.Spend, &fetched); err != nil {
		return Customer{}, err
	}
	c.Uin, c.ResellerUin = uint64(uin), uint64(reseller)
	var err error
	if bind != "" {
		if c.BindTime, err = parseTime(bind); err != nil {
			return Customer{}, err
		}
	}
	if c.FetchedAt, err = parseTime(fetched); err != nil {
		return Customer{}, err
	}
	return c, nil
}

// micros is the sort key of an exact decimal amount: the amount in
// millionths, rounded half away from zero beyond six decimals; 0 for "".
func micros(what, amount string) (int64, error) {
	if amount == "" {
		return 0, nil
	}
	if m, ok := plainMicros(amount); ok {
		return m, nil
	}
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a decimal amount", what, amount)
	}
	m := d.Shift(6).Round(0)
	if m.GreaterThan(decimal.NewFromInt(math.MaxInt64)) || m.LessThan(decimal.NewFromInt(math.MinInt64)) {
		return 0, fmt.Errorf("%s %q is out of range", what, amount)
	}
	return m.IntPart(), nil
}

// plainMicros is micros for the amounts the partner API writes, such as
// "-1234.5": a sign, at most twelve digits, a point and more digits. It
// saves the directory's writes three decimal parses a customer; ok is false
// for anything else, which micros parses in full.
func plainMicros(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || !isDigits(whole) || (dot && (frac == "" || !isDigits(frac))) {
		return 0, false
	}
	var m int64
	for _, r := range whole {
		m = m*10 + int64(r-'0')
	}
	for i := range 6 {
		m *= 10
		if i < len(frac) {
			m += int64(frac[i] - '0')
		}
	}
	if len(frac) > 6 && frac[6] >= '5' {
		m++ // half away from zero, as decimal's Round
	}
	if neg {
		m = -m
	}
	return m, true
}

// checkUin refuses a UIN SQLite's INTEGER cannot hold, or 0.
func checkUin(uin uint64) error {
	if uin == 0 || uin > math.MaxInt64 {
		return fmt.Errorf("customer UIN %d is out of range", uin)
	}
	return nil
}

// checkMonth refuses a month not written "2006-01".
func checkMonth(month string) error {
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != 7 {
		return fmt.Errorf("month %q is not written YYYY-MM", month)
	}
	return nil
}

// UpsertCustomer stores c, replacing the customer's row. Country and the
// spend (SpendMonth with Spend) are kept when c leaves them empty, since
// the directory's listings do not carry them. A zero FetchedAt means now by
// the store's clock.
func (tx *Tx) UpsertCustomer(ctx context.Context, c Customer) error {
	return tx.UpsertCustomers(ctx, []Customer{c})
}

// UpsertCustomers stores a page of customers as UpsertCustomer does each,
// in order (of a UIN given twice, the last one stands). The customers new
// to the table go in with one statement, and into the search index with
// another: a row at a time, through an insert trigger, costs three times
// as much, which a directory refresh writing pages of new customers at the
// partner API's pace would feel. The statements are prepared once per
// transaction.
func (tx *Tx) UpsertCustomers(ctx context.Context, cs []Customer) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([][]any, len(cs))
	for i, c := range cs {
		var err error
		if rows[i], err = tx.customerRow(c); err != nil {
			return fmt.Errorf("upsert customer %d: %w", c.Uin, err)
		}
	}
	known, err := tx.knownUins(ctx, cs)
	if err != nil {
		return fmt.Errorf("upsert %d customers: %w", len(cs), err)
	}
	var added, again []int
	for i, c := range cs {
		if known[c.Uin] {
			again = append(again, i)
			continue
		}
		known[c.Uin] = true
		added = append(added, i)
	}
	if err := tx.insertCustomers(ctx, rows, added); err != nil {
		return fmt.Errorf("insert %d customers: %w", len(added), err)
	}
	if err := tx.updateCustomers(ctx, rows, again); err != nil {
		return fmt.Errorf("update %d customers: %w", len(again), err)
	}
	return nil
}

// customerColumnCount is how many values customerRow gives a row.
const customerColumnCount = 21

// insertColumns are the customers columns in customerRow's order.
const insertColumns = `uin, name, email, phone, country, remark, credit, credit_micros,
	remaining_credit, remaining_credit_micros, force, account_status, auth_status, auth_type,
	reseller_uin, bind_time, has_expense, spend_month, spend, spend_micros, fetched_at`

// customerRow checks c and returns its column values, in insertColumns'
// order, with the sort keys worked out and a zero FetchedAt made now.
func (tx *Tx) customerRow(c Customer) ([]any, error) {
	if err := checkUin(c.Uin); err != nil {
		return nil, err
	}
	if c.ResellerUin > math.MaxInt64 {
		return nil, fmt.Errorf("reseller UIN %d is out of range", c.ResellerUin)
	}
	credit, err := micros("credit", c.Credit)
	if err != nil {
		return nil, err
	}
	remaining, err := micros("remaining credit", c.RemainingCredit)
	if err != nil {
		return nil, err
	}
	spend, err := micros("spend", c.Spend)
	if err != nil {
		return nil, err
	}
	if (c.SpendMonth == "") != (c.Spend == "") {
		return nil, fmt.Errorf("spend %q and its month %q go together", c.Spend, c.SpendMonth)
	}
	if c.SpendMonth != "" {
		if err := checkMonth(c.SpendMonth); err != nil {
			return nil, err
		}
	}
	fetched := c.FetchedAt
	if fetched.IsZero() {
		fetched = tx.stamp()
	}
	bind := ""
	if !c.BindTime.IsZero() {
		bind = formatTime(c.BindTime)
	}
	return []any{int64(c.Uin), c.Name, c.Email, c.Phone, c.Country, c.Remark, c.Credit, credit,
		c.RemainingCredit, remaining, c.Force, c.AccountStatus, c.AuthStatus, c.AuthType,
		int64(c.ResellerUin), bind, c.HasExpense, c.SpendMonth, c.Spend, spend, formatTime(fetched)}, nil
}

// insertBatch is the most rows one INSERT carries (21 values each, well
// under SQLite's 32,766 variables).
const insertBatch = 100

// insertCustomers inserts the rows at the given indexes, none of them in
// the table, and adds them to the search index.
func (tx *Tx) insertCustomers(ctx context.Context, rows [][]any, which []int) error {
	for len(which) > 0 {
		n := min(len(which), insertBatch)
		batch := which[:n]
		which = which[n:]
		args := make([]any, 0, n*customerColumnCount)
		uins := make([]any, n)
		for k, i := range batch {
			args = append(args, rows[i]...)
			uins[k] = rows[i][0]
		}
		insert, err := tx.prepared(ctx, `INSERT INTO customers (`+insertColumns+`) VALUES `+valueRows(n))
		if err == nil {
			_, err = insert.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		index, err := tx.prepared(ctx, `INSERT INTO customers_fts (rowid, name, email, remark)
			SELECT uin, name, email, remark FROM customers WHERE uin IN (`+placeholders(n)+`)`)
		if err == nil {
			_, err = index.ExecContext(ctx, uins...)
		}
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

// knownUins returns which of the customers' UINs the table holds already.
func (tx *Tx) knownUins(ctx context.Context, cs []Customer) (map[uint64]bool, error) {
	args := make([]any, len(cs))
	for i, c := range cs {
		args[i] = int64(c.Uin)
	}
	st, err := tx.prepared(ctx, `SELECT uin FROM customers WHERE uin IN (`+placeholders(len(args))+`)`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := make(map[uint64]bool, len(cs))
	for rows.Next() {
		var uin int64
		if err := rows.Scan(&uin); err != nil {
			return nil, err
		}
		known[uint64(uin)] = true
	}
	return known, rows.Err()
}

// updateCustomers replaces the rows at the given indexes, all of customers
// in the table, in order; a row without country or spend keeps the stored
// ones. A refresh mostly finds a customer unchanged: its row is then left
// alone (rewriting it would rewrite its every index entry) and only its
// fetch time moves, which touches one index.
func (tx *Tx) updateCustomers(ctx context.Context, rows [][]any, which []int) error {
	for len(which) > 0 {
		// A UIN twice in one statement would be an error: such a batch
		// ends before the second.
		n, seen := 0, map[any]bool{}
		for n < len(which) && n < insertBatch && !seen[rows[which[n]][0]] {
			seen[rows[which[n]][0]] = true
			n++
		}
		batch := which[:n]
		which = which[n:]
		args := make([]any, 0, n*customerColumnCount)
		touched := map[any][]any{} // fetch time → UINs
		for _, i := range batch {
			args = append(args, rows[i]...)
			at := rows[i][customerColumnCount-1]
			touched[at] = append(touched[at], rows[i][0])
		}
		upsert, err := tx.prepared(ctx, `INSERT INTO customers (`+insertColumns+`) VALUES `+valueRows(n)+`
			ON CONFLICT (uin) DO UPDATE SET
				name = excluded.name, email = excluded.email, phone = excluded.phone,
				country = CASE WHEN excluded.country = '' THEN customers.country ELSE excluded.country END,
				remark = excluded.remark, credit = excluded.credit, credit_micros = excluded.credit_micros,
				remaining_credit = excluded.remaining_credit, remaining_credit_micros = excluded.remaining_credit_micros,
				force = excluded.force, account_status = excluded.account_status, auth_status = excluded.auth_status,
				auth_type = excluded.auth_type, reseller_uin = excluded.reseller_uin, bind_time = excluded.bind_time,
				has_expense = excluded.has_expense,
				spend_month = CASE WHEN excluded.spend_month = '' THEN customers.spend_month ELSE excluded.spend_month END,
				spend = CASE WHEN excluded.spend_month = '' THEN customers.spend ELSE excluded.spend END,
				spend_micros = CASE WHEN excluded.spend_month = '' THEN customers.spend_micros ELSE excluded.spend_micros END,
				fetched_at = excluded.fetched_at
			WHERE customers.name <> excluded.name OR customers.email <> excluded.email OR customers.phone <> excluded.phone
				OR (excluded.country <> '' AND customers.country <> excluded.country)
				OR customers.remark <> excluded.remark OR customers.credit <> excluded.credit
				OR customers.remaining_credit <> excluded.remaining_credit OR customers.force <> excluded.force
				OR customers.account_status <> excluded.account_status OR customers.auth_status <> excluded.auth_status
				OR customers.auth_type <> excluded.auth_type OR customers.reseller_uin <> excluded.reseller_uin
				OR customers.bind_time <> excluded.bind_time OR customers.has_expense <> excluded.has_expense
				OR (excluded.spend_month <> '' AND (customers.spend_month <> excluded.spend_month OR customers.spend <> excluded.spend))`)
		if err == nil {
			_, err = upsert.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		// The rows left alone get their new fetch time; those rewritten
		// have it already.
		for at, uins := range touched {
			touch, err := tx.prepared(ctx, `UPDATE customers SET fetched_at = ? WHERE fetched_at <> ? AND uin IN (`+placeholders(len(uins))+`)`)
			if err == nil {
				_, err = touch.ExecContext(ctx, append([]any{at, at}, uins...)...)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// valueRows is the VALUES list of n customer rows.
func valueRows(n int) string {
	row := "(" + placeholders(customerColumnCount) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

// SetCustomerSpend records total (an exact decimal) as the customer's bill
// total for month ("2006-01"), replacing the spend recorded before.
// ErrNotFound when the UIN is not a customer in the table.
func (tx *Tx) SetCustomerSpend(ctx context.Context, uin uint64, month, total string) error {
	if err := checkMonth(month); err != nil {
		return fmt.Errorf("set spend of customer %d: %w", uin, err)
	}
	m, err := micros("spend", total)
	if err != nil || total == "" {
		return fmt.Errorf("set spend of customer %d: spend %q is not a decimal amount", uin, total)
	}
	if err := checkUin(uin); err != nil {
		return fmt.Errorf("set spend of customer %d: %w", uin, err)
	}
	st, err := tx.prepared(ctx, `UPDATE customers SET spend_month = ?, spend = ?, spend_micros = ? WHERE uin = ?`)
	if err != nil {
		return fmt.Errorf("set spend of customer %d: %w", uin, err)
	}
	res, err := st.ExecContext(ctx, month, total, m, int64(uin))
	if err != nil {
		return fmt.Errorf("set spend of customer %d: %w", uin, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("set spend of customer %d: %w", uin, errors.Join(err, ErrNotFound))
	}
	return nil
}

// DeleteCustomer removes one customer, such as one that a refresh of it
// found gone. ErrNotFound when there is no such row.
func (tx *Tx) DeleteCustomer(ctx context.Context, uin uint64) error {
	if uin > math.MaxInt64 {
		return fmt.Errorf("delete customer %d: %w", uin, ErrNotFound)
	}
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM customers WHERE uin = ?`, int64(uin))
	if err != nil {
		return fmt.Errorf("delete customer %d: %w", uin, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("delete customer %d: %w", uin, errors.Join(err, ErrNotFound))
	}
	return nil
}

// DeleteCustomersFetchedBefore removes the customers last fetched before t
// and returns how many: after a complete directory refresh that started at
// t, those are the customers that have left.
func (tx *Tx) DeleteCustomersFetchedBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM customers WHERE fetched_at < ?`, formatTime(t))
	if err != nil {
		return 0, fmt.Errorf("delete customers fetched before %s: %w", formatTime(t), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete customers fetched before %s: %w", formatTime(t), err)
	}
	return int(n), nil
}

func customerByUin(ctx context.Context, q queryer, uin uint64) (Customer, error) {
	if uin > math.MaxInt64 {
		return Customer{}, fmt.Errorf("customer %d: %w", uin, ErrNotFound)
	}
	c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE uin = ?`, int64(uin)))
	if err != nil {
		return Customer{}, fmt.Errorf("customer %d: %w", uin, notFound(err))
	}
	return c, nil
}

// CustomerByUin returns one customer, or ErrNotFound.
func (db *DB) CustomerByUin(ctx context.Context, uin uint64) (Customer, error) {
	return customerByUin(ctx, db.read, uin)
}

// CustomerByUin reads a customer inside the write transaction, for a change
// made from what is stored (a write's known effect). ErrNotFound when absent.
func (tx *Tx) CustomerByUin(ctx context.Context, uin uint64) (Customer, error) {
	return customerByUin(ctx, tx.tx, uin)
}

// CustomerOwner returns who the customer belongs to: 0 for a direct
// customer of the partner, else the second-level reseller's UIN.
// ErrNotFound when the UIN is not a customer, so a reseller's delegated
// login can be refused a UIN that is not its own, or nobody's.
func (db *DB) CustomerOwner(ctx context.Context, uin uint64) (uint64, error) {
	if uin > math.MaxInt64 {
		return 0, fmt.Errorf("owner of customer %d: %w", uin, ErrNotFound)
	}
	var owner int64
	if err := db.read.QueryRowContext(ctx, `SELECT reseller_uin FROM customers WHERE uin = ?`, int64(uin)).Scan(&owner); err != nil {
		return 0, fmt.Errorf("owner of customer %d: %w", uin, notFound(err))
	}
	return uint64(owner), nil
}

// CustomerStats returns how many customers the table holds and the oldest
// FetchedAt among them (zero when there are none), from an aggregate and
// an index, cheap enough for every poll of a page.
func (db *DB) CustomerStats(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullString
	)
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(fetched_at) FROM customers`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("customer stats: %w", err)
	}
	t, err := parseNullTime(oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("customer stats: %w", err)
	}
	return n, t, nil
}

// maxUinDigits is how many digits the largest UIN SQLite holds has.
const maxUinDigits = 19

// uinPrefixRanges renders "the UIN's decimal digits start with digits" as
// ranges on the primary key: 12 is 12, 120–129, 1200–1299, and so on, each
// a range the key's b-tree answers directly (a LIKE on the number as text
// would read every row).
func uinPrefixRanges(digits string) (string, []any) {
	if digits == "" || digits[0] == '0' || len(digits) > maxUinDigits {
		return "", nil
	}
	lo, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return "", nil
	}
	hi := lo + 1
	var (
		conds []string
		args  []any
	)
	for range maxUinDigits - len(digits) + 1 {
		if lo > math.MaxInt64 {
			break
		}
		top := uint64(math.MaxInt64)
		if hi-1 < top {
			top = hi - 1
		}
		conds = append(conds, "uin BETWEEN ? AND ?")
		args = append(args, int64(lo), int64(top))
		if lo > math.MaxUint64/10 || hi > math.MaxUint64/10 {
			break
		}
		lo, hi = lo*10, hi*10
	}
	return strings.Join(conds, " OR "), args
}

// ftsQuery turns what a person typed into an FTS5 query that cannot be read
// as FTS5 syntax: the text is cut into words where the search index's
// tokenizer cuts it (at anything but a letter, digit or mark), each word
// becomes a quoted prefix term (quotes doubled), and all must match, in any
// of the columns. ok is false when no word is left. The index keeps no
// positions (detail=none), so "wei.chan" finds "Chan Wei" too.
func ftsQuery(text string) (string, bool) {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	}
	return strings.Join(terms, " AND "), len(terms) > 0
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// where renders the query's filters as a SQL condition and its arguments.
// The text search is SQLite's FTS5, in this method only.
func (q CustomerQuery) where() (string, []any, error) {
	conds := []string{"1 = 1"}
	var args []any
	if text := strings.TrimSpace(q.Text); text != "" {
		var sources []string
		if match, ok := ftsQuery(text); ok {
			sources = append(sources, "SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?")
			args = append(args, match)
		}
		if isDigits(text) {
			if ranges, rangeArgs := uinPrefixRanges(text); ranges != "" {
				sources = append(sources, "SELECT uin FROM customers WHERE "+ranges)
				args = append(args, rangeArgs...)
			}
		}
		if len(sources) == 0 {
			conds = append(conds, "1 = 0") // nothing searchable: nothing matches
		} else {
			conds = append(conds, "uin IN ("+strings.Join(sources, " UNION ALL ")+")")
		}
	}
	if q.AuthStatus != "" {
		conds = append(conds, "auth_status = ?")
		args = append(args, q.AuthStatus)
	}
	if q.NotAuthStatus != "" {
		conds = append(conds, "auth_status <> ?")
		args = append(args, q.NotAuthStatus)
	}
	if q.Suspended != nil {
		if *q.Suspended {
			conds = append(conds, "(force = 2 OR account_status = '2')")
		} else {
			conds = append(conds, "force <> 2 AND account_status <> '2'")
		}
	}
	if q.ResellerUin != nil {
		if *q.ResellerUin > math.MaxInt64 {
			return "", nil, fmt.Errorf("reseller UIN %d: %w", *q.ResellerUin, ErrInvalidCustomerQuery)
		}
		// The direct customers are most of the table: sorted by another
		// column, the query walks that column's order and skips the
		// others, rather than sort thousands of rows taken from the
		// reseller index, which SQLite's unary + keeps it from choosing.
		// A reseller's customers, few, come from that index.
		column := "reseller_uin"
		if *q.ResellerUin == 0 && q.Sort != "" && q.Sort != "uin" && q.Sort != "reseller_uin" {
			column = "+reseller_uin"
		}
		conds = append(conds, column+" = ?")
		args = append(args, int64(*q.ResellerUin))
	}
	if q.Month != "" {
		if err := checkMonth(q.Month); err != nil {
			return "", nil, fmt.Errorf("%w: %w", err, ErrInvalidCustomerQuery)
		}
	}
	if q.HasSpendThisMonth != nil {
		if q.Month == "" {
			return "", nil, fmt.Errorf("a spend filter needs the month: %w", ErrInvalidCustomerQuery)
		}
		if *q.HasSpendThisMonth {
			conds = append(conds, "spend_month = ? AND spend_micros > 0")
		} else {
			conds = append(conds, "NOT (spend_month = ? AND spend_micros > 0)")
		}
		args = append(args, q.Month)
	}
	if q.CreditAtMost != nil {
		pct := *q.CreditAtMost
		if pct < 0 || pct > 100 {
			return "", nil, fmt.Errorf("credit share %d %%: %w", pct, ErrInvalidCustomerQuery)
		}
		// Integers in millionths on both sides: no float, exact.
		conds = append(conds, "credit_micros > 0 AND remaining_credit_micros * 100 <= credit_micros * ?")
		args = append(args, pct)
	}
	if q.Watched {
		conds = append(conds, "uin IN (SELECT uin FROM credit_watch_state)")
	}
	if q.AfterUin > 0 {
		if q.AfterUin >= math.MaxInt64 {
			conds = append(conds, "1 = 0")
		} else {
			conds = append(conds, "uin > ?")
			args = append(args, int64(q.AfterUin))
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// orderBy renders the query's order, ending in the UIN so that every order
// is total and pages never overlap.
func (q CustomerQuery) orderBy() (string, error) {
	sort := q.Sort
	if sort == "" {
		sort = "uin"
	}
	keys, ok := customerSorts[sort]
	if !ok {
		return "", fmt.Errorf("sort by %q: %w", q.Sort, ErrInvalidCustomerQuery)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	terms := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		terms = append(terms, k+dir)
	}
	if sort != "uin" {
		terms = append(terms, "uin"+dir)
	}
	return strings.Join(terms, ", "), nil
}

// testsRows reports whether q filters by a column that no index orders the
// rows by for it: such a filter is tested row by row. Text comes from the
// search index, a particular reseller's customers from the reseller index.
func (q CustomerQuery) testsRows() bool {
	if q.Text != "" {
		return false
	}
	direct := q.ResellerUin != nil && *q.ResellerUin == 0 && q.Sort != "" && q.Sort != "uin" && q.Sort != "reseller_uin"
	return q.AuthStatus != "" || q.NotAuthStatus != "" || q.Suspended != nil || q.HasSpendThisMonth != nil || direct
}

// build renders the query's condition with its arguments and its order.
func (q CustomerQuery) build() (where string, args []any, order string, err error) {
	if where, args, err = q.where(); err != nil {
		return "", nil, "", err
	}
	if order, err = q.orderBy(); err != nil {
		return "", nil, "", err
	}
	return where, args, order, nil
}

// SearchCustomers returns one page of the customers matching q in its
// order, and how many match in all, from one snapshot. A Sort that is not
// one of CustomerSorts, a spend filter without Month or a malformed Month
// is ErrInvalidCustomerQuery.
//
// The page is found by UIN first, through the sort's index, and only its
// rows are read from the table: a deep offset skips index entries, not rows.
func (db *DB) SearchCustomers(ctx context.Context, q CustomerQuery) ([]Customer, int, error) {
	where, args, order, err := q.build()
	if err != nil {
		return nil, 0, fmt.Errorf("search customers: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultCustomerLimit
	}
	limit = min(limit, MaxCustomerLimit)
	offset := max(q.Offset, 0)
	var (
		page  []Customer
		total int
	)
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		if offset >= total {
			return nil
		}
		// Deep into the matches of a filter no index answers, walking the
		// sort's index would look up most rows one by one to test them: a
		// scan sorting the matches' keys is about twice as fast then.
		from := "customers"
		if offset*2 >= total && q.testsRows() {
			from = "customers NOT INDEXED"
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE uin IN (
			SELECT uin FROM `+from+` WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?)
			ORDER BY `+order, append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page = make([]Customer, 0, min(limit, total-offset))
		for rows.Next() {
			c, err := scanCustomer(rows)
			if err != nil {
				return err
			}
			page = append(page, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search customers: %w", err)
	}
	return page, total, nil
}

// EachCustomer calls fn with every customer matching q, in q's order, one
// row at a time (for a CSV export of any size); q's Limit and Offset are
// ignored. It stops at fn's first error and returns it. The rows come from
// one read snapshot held open until the last: fn should only pass the row
// on (a slow client holds the snapshot, and WAL checkpoints, back).
func (db *DB) EachCustomer(ctx context.Context, q CustomerQuery, fn func(Customer) error) error {
	where, args, order, err := q.build()
	if err != nil {
		return fmt.Errorf("each customer: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return fmt.Errorf("each customer: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return fmt.Errorf("each customer: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each customer: %w", err)
	}
	return nil
}

// ResellerCount is a second-level reseller with how many of its customers
// the table holds.
type ResellerCount struct {
	Uin       uint64
	Customers int
}

// CustomerResellers lists the resellers the table's customers belong to,
// by UIN, each with its count (from the reseller index alone).
func (db *DB) CustomerResellers(ctx context.Context) ([]ResellerCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT reseller_uin, count(*) FROM customers WHERE reseller_uin > 0 GROUP BY reseller_uin ORDER BY reseller_uin`)
	if err != nil {
		return nil, fmt.Errorf("customers' resellers: %w", err)
	}
	defer rows.Close()
	var out []ResellerCount
	for rows.Next() {
		var (
			uin int64
			n   int
		)
		if err := rows.Scan(&uin, &n); err != nil {
			return nil, fmt.Errorf("customers' resellers: %w", err)
		}
		out = append(out, ResellerCount{Uin: uint64(uin), Customers: n})
	}
	return out, rows.Err()
}
