// Package billing is the bills use cases for finance: a month's overview of
// every customer's total from the tables the bills refresh fills (sorted
// and summed in SQL, with the month before and the last twelve months),
// one customer's month read through the API cache (totals by pay mode and
// transaction type, product and region, detail lines, daily spend), and
// their exports. A second-level reseller's delegated login sees its own
// customers only, whatever it asks for.
package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API clients a customer's bills are read with:
// the distributor's for its direct customers, a reseller's own for that
// reseller's.
type Clients interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Jobs starts the month's bill-summaries refresh, or joins the running one.
type Jobs interface {
	StartBillsRefresh(ctx context.Context, actor audit.Actor, month string) (store.Job, bool, error)
}

// Customers answers whether the actor may see a customer, and its row.
type Customers interface {
	Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
}

// Options holds what the service needs.
type Options struct {
	DB        *store.DB
	Clients   Clients
	Cache     *apicache.Cache
	Jobs      Jobs
	Customers Customers
	Now       func() time.Time // the clock; time.Now when nil
}

// Service is the bills use cases.
type Service struct {
	db        *store.DB
	clients   Clients
	cache     *apicache.Cache
	jobs      Jobs
	customers Customers
	now       func() time.Time
}

// New returns the bills service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.DB, clients: o.Clients, cache: o.Cache, jobs: o.Jobs, customers: o.Customers, now: o.Now}
}

// Message ids of the service's errors.
const (
	msgForbidden = "bills.forbidden"
	msgBadMonth  = "bills.bad_month"
	msgBadSort   = "bills.bad_sort"
	msgBadPage   = "bills.bad_page"
	msgBadFilter = "bills.bad_filter"
	msgNotFound  = "bills.not_found"
)

// Limits of the overview.
const (
	PerPage = 50
	MaxPage = 10000
	// ChartMonths is how many months the overview's chart shows.
	ChartMonths = 12
)

// monthLayout is how a bill month is written.
const monthLayout = "2006-01"

func mayView(actor audit.Actor) error {
	if !actor.Can(auth.ViewBills) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// Months lists the months the pages offer: the current month (UTC) and
// the eleven before it, newest first — the months a bills refresh may read.
func (s *Service) Months() []string { return jobs.RecentMonths(s.now()) }

// ParseMonth checks a month typed in a form or a URL ("" is the current
// month): one of Months.
func (s *Service) ParseMonth(month string) (string, error) {
	months := s.Months()
	if month == "" {
		return months[0], nil
	}
	if !slices.Contains(months, month) {
		return "", apperr.InvalidField("month", msgBadMonth).With(map[string]any{"Oldest": months[len(months)-1], "Newest": months[0]})
	}
	return month, nil
}

// previousMonth is the month before month ("2006-01").
func previousMonth(month string) string {
	t, _ := time.Parse(monthLayout, month)
	return t.AddDate(0, -1, 0).Format(monthLayout)
}

// Query is the overview's form as typed.
type Query struct {
	Month string // "2006-01"; "" is the current month
	Sort  string // one of store.BillSorts; "" is total, biggest first
	Desc  string // "1" for descending
	Page  string // 1-based
}

// Filters is a checked Query.
type Filters struct {
	Query
	store store.BillQuery
	page  int
}

// PageNumber is the page the filters ask for, from 1.
func (f Filters) PageNumber() int { return f.page }

// Sorted reports the column and direction the rows are sorted by.
func (f Filters) Sorted() (column string, desc bool) { return f.store.Sort, f.store.Desc }

// ParseQuery checks the overview's form for the actor: a delegated login
// is held to its reseller's customers.
func (s *Service) ParseQuery(actor audit.Actor, q Query) (Filters, error) {
	f := Filters{Query: q}
	if err := mayView(actor); err != nil {
		return f, err
	}
	month, err := s.ParseMonth(q.Month)
	if err != nil {
		return f, err
	}
	f.Month = month
	sq := store.BillQuery{Month: month, Previous: previousMonth(month), Sort: q.Sort}
	switch {
	case q.Sort == "":
		sq.Sort, sq.Desc = "total", true
	case slices.Contains(store.BillSorts, q.Sort):
		switch q.Desc {
		case "", "0":
		case "1":
			sq.Desc = true
		default:
			return f, apperr.New(apperr.Invalid, "", msgBadSort)
		}
	default:
		return f, apperr.New(apperr.Invalid, "", msgBadSort)
	}
	if reseller := actor.OnBehalfOf(); reseller != 0 {
		sq.ResellerUin = &reseller
	}
	f.page = 1
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxPage {
			return f, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage})
		}
		f.page = p
	}
	sq.Limit, sq.Offset = PerPage, (f.page-1)*PerPage
	f.store = sq
	return f, nil
}

// Row is one customer's total of the month, with the change since the
// month before.
type Row struct {
	store.BillRow
	Amount      decimal.Decimal
	PrevAmount  decimal.Decimal
	HasPrevious bool            // the month before was read for the customer
	Change      decimal.Decimal // Amount − PrevAmount (PrevAmount 0 when not read)
	// ChangePct is the change in per cent of the month before, one
	// decimal; "" when the month before was not read or was 0.
	ChangePct string
}

// MonthTotal is one month's partner-wide total, for the chart.
type MonthTotal struct {
	Month     string
	Total     decimal.Decimal
	Customers int // customers read for the month
}

// Progress is the month's bills refresh while it runs.
type Progress struct {
	JobID    int64
	Done     int
	Total    int
	Planning bool
	Left     time.Duration
}

// Overview is the monthly overview page.
type Overview struct {
	Filters Filters
	Rows    []Row
	// Customers is how many customers the month holds for the viewer, and
	// Pages how many pages they fill.
	Customers int
	Pages     int
	Total     decimal.Decimal // the month's total over every customer read
	Previous  decimal.Decimal // the month before's, over every customer read then
	// PreviousRead: the month before was read for some customer, so the
	// change means something.
	PreviousRead bool
	// Of is how many direct customers the bills refresh reads, and
	// DirectRead how many of them the month holds (both 0 for a delegated
	// login).
	Of         int
	DirectRead int
	AsOf       time.Time // the oldest read of the month; zero when none
	Stale      bool
	Months     []MonthTotal // the last ChartMonths months, oldest first
	// Running is the month's refresh queued or running; nil when none.
	Running    *Progress
	CanRefresh bool
}

// Overview reads a page of the month's customer totals, the partner-wide
// totals of the month and the eleven before, and the refresh's progress.
func (s *Service) Overview(ctx context.Context, actor audit.Actor, f Filters) (Overview, error) {
	if err := mayView(actor); err != nil {
		return Overview{}, err
	}
	if f.page == 0 {
		return Overview{}, errors.New("bills overview: filters not parsed")
	}
	rows, n, err := s.db.BillRows(ctx, f.store)
	if err != nil {
		if errors.Is(err, store.ErrInvalidCustomerQuery) {
			return Overview{}, apperr.New(apperr.Invalid, "", msgBadSort).Because(err)
		}
		return Overview{}, fmt.Errorf("bills overview: %w", err)
	}
	o := Overview{Filters: f, Customers: n, Pages: max(1, (n+PerPage-1)/PerPage), CanRefresh: actor.Can(auth.RunJobs) && actor.UserID != 0}
	for _, r := range rows {
		o.Rows = append(o.Rows, rowOf(r))
	}
	// The chart's months, oldest first, end with the month shown.
	months := make([]string, ChartMonths)
	t, _ := time.Parse(monthLayout, f.store.Month)
	for i := range months {
		months[ChartMonths-1-i] = t.AddDate(0, -i, 0).Format(monthLayout)
	}
	totals, err := s.db.BillTotals(ctx, months, f.store.ResellerUin)
	if err != nil {
		return Overview{}, fmt.Errorf("bills overview: %w", err)
	}
	for _, m := range totals {
		o.Months = append(o.Months, MonthTotal{Month: m.Month, Total: store.FromE8(m.TotalE8), Customers: m.Customers})
	}
	cur, prev := totals[ChartMonths-1], totals[ChartMonths-2]
	o.Total, o.Previous, o.AsOf = store.FromE8(cur.TotalE8), store.FromE8(prev.TotalE8), cur.Oldest
	o.PreviousRead = prev.Customers > 0
	o.Stale = apicache.Stale(apicache.BillsKind(f.store.Month, s.now()), cur.Oldest, s.now())
	if actor.OnBehalfOf() == 0 {
		direct := uint64(0)
		if _, o.Of, err = s.db.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, Limit: 1}); err != nil {
			return Overview{}, fmt.Errorf("bills overview: %w", err)
		}
		if o.DirectRead, _, err = s.db.BillMonthStats(ctx, f.store.Month); err != nil {
			return Overview{}, fmt.Errorf("bills overview: %w", err)
		}
	}
	if o.Running, err = s.progress(ctx, f.store.Month); err != nil {
		return Overview{}, err
	}
	return o, nil
}

// rowOf adds the change since the month before to a stored row.
func rowOf(r store.BillRow) Row {
	row := Row{BillRow: r, Amount: store.FromE8(r.TotalE8), HasPrevious: r.Previous != ""}
	if row.HasPrevious {
		row.PrevAmount = store.FromE8(r.PreviousE8)
	}
	row.Change = row.Amount.Sub(row.PrevAmount)
	if row.HasPrevious && !row.PrevAmount.IsZero() {
		row.ChangePct = row.Change.Mul(decimal.NewFromInt(100)).DivRound(row.PrevAmount.Abs(), 1).StringFixed(1)
	}
	return row
}

// progress is the month's refresh queued or running, or nil.
func (s *Service) progress(ctx context.Context, month string) (*Progress, error) {
	j, err := s.db.ActiveJob(ctx, jobs.KindBills, month)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("bills progress: %w", err)
	}
	p := jobs.ProgressOf(j, s.now())
	return &Progress{JobID: j.ID, Done: p.Done, Total: p.Total, Planning: p.Planning, Left: p.Left}, nil
}

// Progress is the month's refresh while it runs (nil when none is queued
// or running), for the overview's progress bar: anyone who may see bills
// may see how far their month has come, whoever started the refresh.
func (s *Service) Progress(ctx context.Context, actor audit.Actor, month string) (*Progress, error) {
	if err := mayView(actor); err != nil {
		return nil, err
	}
	month, err := s.ParseMonth(month)
	if err != nil {
		return nil, err
	}
	return s.progress(ctx, month)
}

// Refresh starts the month's bills refresh, or joins the one queued or
// running: the overview's refresh button. People who may run jobs only.
func (s *Service) Refresh(ctx context.Context, actor audit.Actor, month string) (store.Job, bool, error) {
	if err := mayView(actor); err != nil {
		return store.Job{}, false, err
	}
	month, err := s.ParseMonth(month)
	if err != nil {
		return store.Job{}, false, err
	}
	return s.jobs.StartBillsRefresh(ctx, actor, month)
}

// each calls fn with every row of the month the filters show, in their
// order (the export's rows).
func (s *Service) each(ctx context.Context, f Filters, fn func(Row) error) error {
	all := f.store
	all.Limit, all.Offset = 0, 0
	rows, _, err := s.db.BillRows(ctx, all)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := fn(rowOf(r)); err != nil {
			return err
		}
	}
	return nil
}
