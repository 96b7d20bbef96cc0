// Package customers is the customers use cases: searching the partner's
// customers across the table the directory refresh fills, exporting them,
// one customer's page read through the API cache, and the writes a person
// makes on a customer (its remark, suspending and restoring its services),
// which go through the jobs engine's intent → outcome → reconcile record.
// A second-level reseller's delegated login reaches only its reseller's
// customers, whatever it asks for.
package customers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API clients a customer is read and changed
// with: the distributor's for its direct customers, a reseller's own for
// that reseller's.
type Clients interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Writes is what the service needs of the jobs: submitting a person's
// writes, waiting for them and reading back what stayed unknown.
type Writes interface {
	SubmitWrites(ctx context.Context, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (store.Job, error)
	Await(ctx context.Context, id int64, wait time.Duration) (jobs.Outcome, error)
	Writes(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
	CheckAgain(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
	StartDirectoryRefresh(ctx context.Context, actor audit.Actor) (store.Job, bool, error)
}

// Options holds what the service needs.
type Options struct {
	DB      *store.DB
	Clients Clients
	Cache   *apicache.Cache
	Writes  Writes
	Now     func() time.Time // the clock; time.Now when nil
	// WriteWait is how long a person waits for a write's outcome before
	// the page shows it as still being checked; 10 s when zero.
	WriteWait time.Duration
}

// Service is the customers use cases.
type Service struct {
	db        *store.DB
	clients   Clients
	cache     *apicache.Cache
	writes    Writes
	now       func() time.Time
	writeWait time.Duration
}

// New returns the customers service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	return &Service{db: o.DB, clients: o.Clients, cache: o.Cache, writes: o.Writes, now: o.Now, writeWait: o.WriteWait}
}

// Message ids of the service's errors.
const (
	msgForbidden   = "customers.forbidden"
	msgNotFound    = "customers.not_found"
	msgBadText     = "customers.bad_text"
	msgBadFilter   = "customers.bad_filter"
	msgBadSort     = "customers.bad_sort"
	msgBadPage     = "customers.bad_page"
	msgBadReseller = "customers.bad_reseller"
	msgBadRemark   = "customers.bad_remark"
	msgBadUin      = "customers.bad_uin"
	msgNeedsUser   = "customers.needs_user"
	msgNoChange    = "customers.no_change"
	msgLookingUp   = "customers.looking_up"
)

// Limits of the search form.
const (
	MaxSearchText = 100
	PerPage       = 50
	MaxPage       = 10000
)

// Query is the customer list's form as typed: every field is text, checked
// by ParseQuery.
type Query struct {
	Text      string // UIN prefix, or words of the name, email or remark
	Verified  string // "", "yes" (identity verified), "no"
	Suspended string // "", "yes", "no"
	Reseller  string // "", "direct", or a reseller's UIN
	Spend     string // "", "yes": has spend this month, "no"
	Watch     string // "", or "25", "10", "0": available credit at most that per cent of the credit; "any": past any of its watch thresholds
	Sort      string // one of store.CustomerSorts; "" is newest bound first
	Desc      string // "1" for descending
	Page      string // 1-based
}

// verifiedStatus is DescribeCustomerInfo's AuthStatus for a passed
// identity review.
const verifiedStatus = "3"

// Filters is a checked Query, ready for the store and for the form that
// shows it again.
type Filters struct {
	Query
	store store.CustomerQuery
	page  int
}

// yesNo parses a "", "yes" or "no" filter.
func yesNo(field, v string) (*bool, error) {
	switch v {
	case "":
		return nil, nil
	case "yes":
		t := true
		return &t, nil
	case "no":
		f := false
		return &f, nil
	}
	return nil, apperr.InvalidField(field, msgBadFilter)
}

// ParseQuery checks the form and turns it into the store's query for the
// actor: a delegated login's query is held to its reseller's customers.
func (s *Service) ParseQuery(actor audit.Actor, q Query) (Filters, error) {
	f := Filters{Query: q}
	q.Text = strings.TrimSpace(q.Text)
	f.Text = q.Text
	if !utf8.ValidString(q.Text) || utf8.RuneCountInString(q.Text) > MaxSearchText || strings.ContainsFunc(q.Text, isControl) {
		return f, apperr.InvalidField("q", msgBadText).With(map[string]any{"Max": MaxSearchText})
	}
	sq := store.CustomerQuery{Text: q.Text, Month: s.now().UTC().Format("2006-01"), Limit: PerPage}
	switch q.Verified {
	case "":
	case "yes":
		sq.AuthStatus = verifiedStatus
	case "no":
		sq.NotAuthStatus = verifiedStatus
	default:
		return f, apperr.InvalidField("verified", msgBadFilter)
	}
	var err error
	if sq.Suspended, err = yesNo("suspended", q.Suspended); err != nil {
		return f, err
	}
	if sq.HasSpendThisMonth, err = yesNo("spend", q.Spend); err != nil {
		return f, err
	}
	switch q.Watch {
	case "":
	case "25", "10", "0":
		pct, _ := strconv.Atoi(q.Watch)
		sq.CreditAtMost = &pct
	case "any":
		sq.Watched = true
	default:
		return f, apperr.InvalidField("watch", msgBadFilter)
	}
	switch q.Reseller {
	case "":
	case "direct":
		var direct uint64
		sq.ResellerUin = &direct
	default:
		uin, err := strconv.ParseUint(q.Reseller, 10, 64)
		if err != nil || uin == 0 {
			return f, apperr.InvalidField("reseller", msgBadReseller)
		}
		sq.ResellerUin = &uin
	}
	if reseller := actor.OnBehalfOf(); reseller != 0 {
		// A delegated login sees its reseller's customers, whatever the
		// form says.
		if sq.ResellerUin != nil && *sq.ResellerUin != reseller {
			return f, apperr.InvalidField("reseller", msgBadReseller)
		}
		sq.ResellerUin = &reseller
	}
	switch {
	case q.Sort == "":
		sq.Sort, sq.Desc = "bind_time", true
	case isSort(q.Sort):
		sq.Sort = q.Sort
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
	f.page = 1
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxPage {
			return f, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage})
		}
		f.page = p
	}
	sq.Offset = (f.page - 1) * PerPage
	f.store = sq
	return f, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isSort(s string) bool {
	for _, c := range store.CustomerSorts {
		if c == s {
			return true
		}
	}
	return false
}

// PageNumber is the page the filters ask for, from 1.
func (f Filters) PageNumber() int { return f.page }

// Sorted reports the column and direction the list is sorted by.
func (f Filters) Sorted() (column string, desc bool) { return f.store.Sort, f.store.Desc }

// Listing is one page of the customer list.
type Listing struct {
	Filters   Filters
	Customers []store.Customer
	Total     int // customers matching the filters
	Pages     int
	// InTable is how many customers the table holds in all, and AsOf the
	// oldest fetch among them: the list is as of then.
	InTable int
	AsOf    time.Time
	Stale   bool
	// Refreshing is the directory refresh queued or running; 0 when none.
	Refreshing int64
	// Month is the month "spend" means.
	Month string
}

func mayView(actor audit.Actor) error {
	if !actor.Can(auth.ViewCustomers) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// Search returns a page of the customers matching the filters.
func (s *Service) Search(ctx context.Context, actor audit.Actor, f Filters) (Listing, error) {
	if err := mayView(actor); err != nil {
		return Listing{}, err
	}
	if f.page == 0 {
		return Listing{}, errors.New("search customers: filters not parsed")
	}
	list, total, err := s.db.SearchCustomers(ctx, f.store)
	if err != nil {
		if errors.Is(err, store.ErrInvalidCustomerQuery) {
			return Listing{}, apperr.New(apperr.Invalid, "", msgBadSort).Because(err)
		}
		return Listing{}, fmt.Errorf("search customers: %w", err)
	}
	l := Listing{Filters: f, Customers: list, Total: total, Pages: max(1, (total+PerPage-1)/PerPage), Month: f.store.Month}
	if l.InTable, l.AsOf, err = s.db.CustomerStats(ctx); err != nil {
		return Listing{}, err
	}
	l.Stale = apicache.Stale(apicache.Directory, l.AsOf, s.now())
	if j, err := s.db.ActiveJob(ctx, jobs.KindDirectory, "all"); err == nil {
		l.Refreshing = j.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return Listing{}, err
	}
	return l, nil
}

// RefreshAll starts the directory refresh (or joins the running one): the
// list's refresh button. A delegated login cannot start jobs; its list
// follows the partner's refreshes.
func (s *Service) RefreshAll(ctx context.Context, actor audit.Actor) (store.Job, bool, error) {
	if err := mayView(actor); err != nil {
		return store.Job{}, false, err
	}
	return s.writes.StartDirectoryRefresh(ctx, actor)
}

// csvHeader is the export's first line; its names are a contract with the
// spreadsheets people build on the file.
var csvHeader = []string{"uin", "name", "email", "phone", "country", "remark", "credit", "remaining_credit",
	"suspended", "force", "account_status", "auth_status", "auth_type", "reseller_uin", "bind_time_utc",
	"has_expense", "spend_month", "spend", "fetched_at_utc"}

// Export writes every customer matching the filters (not just a page) as
// CSV, UTF-8 with a byte order mark, and records the export in the audit
// log; it returns how many rows it wrote. Whoever may see the list may
// take it away: the file holds nothing the page does not show.
func (s *Service) Export(ctx context.Context, actor audit.Actor, f Filters, w io.Writer) (int, error) {
	if err := mayView(actor); err != nil {
		return 0, err
	}
	if f.page == 0 {
		return 0, errors.New("export customers: filters not parsed")
	}
	all := f.store
	all.Limit, all.Offset = 0, 0
	if _, err := io.WriteString(w, export.BOM); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.EachCustomer(ctx, all, func(c store.Customer) error {
		n++
		return cw.Write([]string{strconv.FormatUint(c.Uin, 10), export.SafeCell(c.Name), export.SafeCell(c.Email), export.SafeCell(c.Phone), c.Country,
			export.SafeCell(c.Remark), c.Credit, c.RemainingCredit, strconv.FormatBool(c.Suspended()), strconv.FormatInt(c.Force, 10),
			c.AccountStatus, c.AuthStatus, strconv.FormatInt(c.AuthType, 10), uinText(c.ResellerUin), utcText(c.BindTime),
			strconv.FormatBool(c.HasExpense), c.SpendMonth, c.Spend, utcText(c.FetchedAt)})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	params := map[string]string{"rows": strconv.Itoa(n), "q": f.Text, "verified": f.Verified, "suspended": f.Suspended,
		"reseller": f.Reseller, "spend": f.Spend}
	for k, v := range params {
		if v == "" {
			delete(params, k)
		}
	}
	entry := actor.Entry("customers.export", 0, params)
	if err != nil {
		entry.Outcome = store.OutcomeFailed
	}
	if _, aerr := s.db.AppendAudit(ctx, entry); aerr != nil {
		return n, errors.Join(err, aerr)
	}
	if err != nil {
		return n, fmt.Errorf("export customers: %w", err)
	}
	return n, nil
}

func uinText(u uint64) string {
	if u == 0 {
		return ""
	}
	return strconv.FormatUint(u, 10)
}

func utcText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Resellers lists the second-level resellers whose customers the table
// holds, for the list's filter: none for a delegated login, which sees
// its own reseller's customers only.
func (s *Service) Resellers(ctx context.Context, actor audit.Actor) ([]store.ResellerCount, error) {
	if err := mayView(actor); err != nil {
		return nil, err
	}
	if actor.OnBehalfOf() != 0 {
		return nil, nil
	}
	return s.db.CustomerResellers(ctx)
}
