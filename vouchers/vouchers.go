// Package vouchers is the vouchers use cases: the customers' vouchers with
// the partner API's filters, a voucher's usage by month, the partner's
// voucher pool and each customer's voucher quota, all read through the API
// cache, and the list's CSV and XLSX exports. A second-level reseller's
// delegated login reads them with its reseller's own key, so it sees only
// its own customers' vouchers, whatever it asks for.
package vouchers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API client to act as a partner with: the
// distributor (0) or a second-level reseller with its own key.
type Clients interface {
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Customers finds a customer the actor may see (its owner included), or a
// not-found error for one it may not.
type Customers interface {
	Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
}

// Options holds what the service needs.
type Options struct {
	DB        *store.DB
	Clients   Clients
	Customers Customers
	Cache     *apicache.Cache
	Now       func() time.Time // time.Now when nil
}

// Service is the vouchers use cases.
type Service struct {
	db        *store.DB
	clients   Clients
	customers Customers
	cache     *apicache.Cache
	now       func() time.Time
}

// New returns the vouchers service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.DB, clients: o.Clients, customers: o.Customers, cache: o.Cache, now: o.Now}
}

// Message ids of the service's errors.
const (
	msgForbidden = "vouchers.forbidden"
	msgBadFilter = "vouchers.bad_filter"
	msgBadUin    = "vouchers.bad_customer"
	msgNoUin     = "vouchers.unknown_customer"
	msgBadPage   = "vouchers.bad_page"
	msgBadMonth  = "vouchers.bad_month"
	msgBadID     = "vouchers.bad_id"
	msgBadFormat = "vouchers.bad_format"
	msgTooMany   = "vouchers.too_many"
)

// Limits of the list.
const (
	// PerPage is a page of vouchers: QueryVoucherAmountByUin takes at most
	// 20 UINs, so a page's quotas are one call.
	PerPage = 20
	// UsagePerPage is a page of a voucher's usage records (the API allows 100).
	UsagePerPage = 50
	// MaxPage bounds the page a person may ask for.
	MaxPage = 5000
	// exportPageSize is the largest page the API gives, for exports.
	exportPageSize = 100
	// MaxExportRows bounds an export: past it the export is refused rather
	// than cut short without a word.
	MaxExportRows = 20000
)

// The documented values of the list's filters (DescribeCustomerVoucherList).
var (
	Statuses     = []string{"Issued", "Used", "Expired", "Invalidated"}
	PaymentModes = []string{"AllPayment", "Prepaid", "Postpaid"}
	Usages       = []string{"ProductTrial", "CustomerOffer"}
	Scopes       = []string{"AllProducts", "SpecifyProducts", "SpecifyProductsBlacklist"}
)

// Query is the list's form as typed; ParseQuery checks it.
type Query struct {
	Customer    string // a customer's UIN, or ""
	Status      string
	PaymentMode string
	Usage       string
	Scope       string
	Page        string // from 1
}

// Filters is a checked Query.
type Filters struct {
	Query
	uin      uint64
	reseller uint64 // whose key reads the list: 0 for the distributor's
	page     int
}

// PageNumber is the page the filters ask for, from 1.
func (f Filters) PageNumber() int { return f.page }

// listParams keys a page of the list in the cache.
type listParams struct {
	Uin                               uint64 `json:",omitempty"`
	Status, PaymentMode, Usage, Scope string `json:",omitempty"`
	Page, PageSize                    int
}

func mayView(actor audit.Actor) error {
	if !actor.Can(auth.ViewVouchers) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

func oneOf(field, v string, allowed []string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return apperr.InvalidField(field, msgBadFilter)
	}
	return nil
}

// ParseQuery checks the form: each filter one of the documented values, a
// customer the actor may see (a delegated login's own customers only; any
// other UIN is refused as unknown), a page in range.
func (s *Service) ParseQuery(ctx context.Context, actor audit.Actor, q Query) (Filters, error) {
	f := Filters{Query: q, reseller: actor.OnBehalfOf(), page: 1}
	if err := mayView(actor); err != nil {
		return f, err
	}
	errs := []error{oneOf("status", q.Status, Statuses), oneOf("payment_mode", q.PaymentMode, PaymentModes),
		oneOf("usage", q.Usage, Usages), oneOf("scope", q.Scope, Scopes)}
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxPage {
			errs = append(errs, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage}))
		} else {
			f.page = p
		}
	}
	if q.Customer != "" {
		row, err := s.customer(ctx, actor, q.Customer, "customer")
		if err != nil {
			errs = append(errs, err)
		} else {
			f.uin, f.reseller = row.Uin, row.ResellerUin
		}
	}
	if err := errors.Join(errs...); err != nil {
		return f, err
	}
	return f, nil
}

// customer parses a UIN typed in a field and finds the customer, if the
// actor may see it; other errors than not-found pass through.
func (s *Service) customer(ctx context.Context, actor audit.Actor, text, field string) (store.Customer, error) {
	uin, err := strconv.ParseUint(text, 10, 64)
	if err != nil || uin == 0 || len(text) > 20 {
		return store.Customer{}, apperr.InvalidField(field, msgBadUin)
	}
	row, err := s.customers.Row(ctx, actor, uin)
	switch kind := apperr.KindOf(err); {
	case err == nil:
		return row, nil
	case kind == apperr.NotFound, errors.Is(err, store.ErrNotFound):
		return store.Customer{}, apperr.InvalidField(field, msgNoUin).With(map[string]any{"Uin": uin}).Because(err)
	}
	return store.Customer{}, err
}

// Page is one page of the vouchers list as the API answered it.
type Page struct {
	Items []partnerapi.DescribeCustomerVoucherItem
	Total uint64
}

// Pool is the partner's voucher pool (QueryVoucherPool).
type Pool = partnerapi.QueryVoucherPoolResponse

// List is the vouchers page: the pool, a page of vouchers and the quota of
// each customer on it, each read with its own age and failure.
type List struct {
	Filters  Filters
	Pool     apicache.Figure[Pool]
	Vouchers apicache.Figure[Page]
	// Quotas are the voucher quotas of the customers on the page, by UIN.
	Quotas apicache.Figure[map[int64]partnerapi.QueryVoucherAmountByUinItem]
	Pages  int
	// Blocked says why nothing could be read (a reseller's login without
	// its reseller's own key).
	Blocked error
	Now     time.Time
}

// Stale reports whether a read is older than its freshness or pending.
func (l List) Stale() bool {
	if l.Blocked != nil {
		return false
	}
	k := apicache.Vouchers
	return l.Pool.Stale(k, l.Now) || l.Pool.Pending || l.Vouchers.Stale(k, l.Now) || l.Vouchers.Pending ||
		(l.Vouchers.Value != nil && len(l.Vouchers.Value.Items) > 0 && (l.Quotas.Stale(k, l.Now) || l.Quotas.Pending))
}

// Pending reports whether a read is still under way.
func (l List) Pending() bool { return l.Pool.Pending || l.Vouchers.Pending || l.Quotas.Pending }

func (f Filters) params(page, size int) listParams {
	return listParams{Uin: f.uin, Status: f.Status, PaymentMode: f.PaymentMode, Usage: f.Usage, Scope: f.Scope, Page: page, PageSize: size}
}

// readPage reads a page of the list through the cache.
func (s *Service) readPage(ctx context.Context, c *partnerapi.Client, mode apicache.Mode, f Filters, page, size int) apicache.Figure[Page] {
	p := f.params(page, size)
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Vouchers, mode, "vouchers.list", p,
		func(ctx context.Context) (Page, error) {
			r, err := c.DescribeCustomerVoucherList(ctx, &partnerapi.DescribeCustomerVoucherListRequest{
				Page: int64(page), PageSize: int64(size), CustomerUin: int64(f.uin),
				VoucherStatus: f.Status, PaymentMode: f.PaymentMode, Usage: f.Usage, ProductScope: f.Scope})
			if err != nil {
				return Page{}, err
			}
			return Page{Items: r.Data, Total: r.TotalCount}, nil
		})
}

// List reads the pool, a page of vouchers and its customers' quotas.
func (s *Service) List(ctx context.Context, actor audit.Actor, mode apicache.Mode, f Filters) (List, error) {
	if err := mayView(actor); err != nil {
		return List{}, err
	}
	if f.page == 0 {
		return List{}, errors.New("list vouchers: filters not parsed")
	}
	l := List{Filters: f, Pages: 1, Now: s.now()}
	c, err := s.clients.ActAs(ctx, f.reseller)
	if err != nil {
		// No key to read with (or one that cannot be opened): the page
		// says so rather than failing.
		l.Blocked = err
		return l, nil
	}
	// The pool is the acting partner's: the actor's own, not that of the
	// reseller whose customer a filter names.
	pc := c
	if f.reseller != actor.OnBehalfOf() {
		if pc, err = s.clients.ActAs(ctx, actor.OnBehalfOf()); err != nil {
			return List{}, err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		l.Pool = apicache.Read(ctx, s.cache, pc.SecretID(), apicache.Vouchers, mode, "vouchers.pool", struct{}{},
			func(ctx context.Context) (Pool, error) {
				r, err := pc.QueryVoucherPool(ctx, nil)
				if err != nil {
					return Pool{}, err
				}
				return *r, nil
			})
	})
	l.Vouchers = s.readPage(ctx, c, mode, f, f.page, PerPage)
	wg.Wait()
	if v := l.Vouchers.Value; v != nil {
		l.Pages = max(1, int((v.Total+PerPage-1)/PerPage))
		var uins []uint64
		for _, it := range v.Items {
			if u := uint64(it.CustomerUin); u != 0 && !slices.Contains(uins, u) {
				uins = append(uins, u)
			}
		}
		if len(uins) > 0 {
			slices.Sort(uins)
			l.Quotas = apicache.Read(ctx, s.cache, c.SecretID(), apicache.Vouchers, mode, "vouchers.quotas", uins,
				func(ctx context.Context) (map[int64]partnerapi.QueryVoucherAmountByUinItem, error) {
					r, err := c.QueryVoucherAmountByUin(ctx, &partnerapi.QueryVoucherAmountByUinRequest{ClientUins: uins})
					if err != nil {
						return nil, err
					}
					out := make(map[int64]partnerapi.QueryVoucherAmountByUinItem, len(r.Data))
					for _, x := range r.Data {
						out[x.ClientUin] = x
					}
					return out, nil
				})
		}
	}
	return l, nil
}

// Usage is a voucher's usage records for a month (or all months).
type Usage struct {
	Customer store.Customer
	Voucher  int64
	Month    string // "" for every month
	Page     int
	Pages    int
	Detail   apicache.Figure[partnerapi.DescribeCustomerVoucherUsageDetailsResponse]
	Blocked  error
	Now      time.Time
}

// Stale reports whether the read is older than its freshness or pending.
func (u Usage) Stale() bool {
	return u.Blocked == nil && (u.Detail.Stale(apicache.Vouchers, u.Now) || u.Detail.Pending)
}

// Pending reports whether the read is still under way.
func (u Usage) Pending() bool { return u.Detail.Pending }

var monthPattern = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)

// UsageOf reads a voucher's usage: uin and id as typed in the URL, month
// "" or YYYY-MM, page "" or from 1. The customer must be one the actor may
// see; the voucher is read with its owner's key.
func (s *Service) UsageOf(ctx context.Context, actor audit.Actor, mode apicache.Mode, uinText, idText, month, pageText string) (Usage, error) {
	if err := mayView(actor); err != nil {
		return Usage{}, err
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 || len(idText) > 19 {
		return Usage{}, apperr.New(apperr.NotFound, "", msgBadID)
	}
	row, err := s.customer(ctx, actor, uinText, "customer")
	if err != nil {
		if apperr.KindOf(err) == apperr.Invalid {
			return Usage{}, apperr.New(apperr.NotFound, "", msgNoUin).With(map[string]any{"Uin": uinText}).Because(err)
		}
		return Usage{}, err
	}
	u := Usage{Customer: row, Voucher: id, Month: month, Page: 1, Pages: 1, Now: s.now()}
	var errs []error
	if month != "" && !monthPattern.MatchString(month) {
		errs = append(errs, apperr.InvalidField("month", msgBadMonth))
	}
	if pageText != "" {
		p, err := strconv.Atoi(pageText)
		if err != nil || p < 1 || p > MaxPage {
			errs = append(errs, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage}))
		} else {
			u.Page = p
		}
	}
	if err := errors.Join(errs...); err != nil {
		return u, err
	}
	c, err := s.clients.ActAs(ctx, row.ResellerUin)
	if err != nil {
		u.Blocked = err
		return u, nil
	}
	type usageParams struct {
		Uin     uint64
		Voucher int64
		Month   string `json:",omitempty"`
		Page    int
	}
	u.Detail = apicache.Read(ctx, s.cache, c.SecretID(), apicache.Vouchers, mode, "vouchers.usage", usageParams{row.Uin, id, month, u.Page},
		func(ctx context.Context) (partnerapi.DescribeCustomerVoucherUsageDetailsResponse, error) {
			r, err := c.DescribeCustomerVoucherUsageDetails(ctx, &partnerapi.DescribeCustomerVoucherUsageDetailsRequest{
				Page: int64(u.Page), PageSize: UsagePerPage, CustomerUin: int64(row.Uin), VoucherId: id, Month: month})
			if err != nil {
				return partnerapi.DescribeCustomerVoucherUsageDetailsResponse{}, err
			}
			return *r, nil
		})
	if d := u.Detail.Value; d != nil {
		n := d.TotalRecordsCount
		if month != "" {
			n = d.RecordsCountByMonth
		}
		u.Pages = max(1, int((n+UsagePerPage-1)/UsagePerPage))
	}
	return u, nil
}

// Formats of the export.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// columns are the export's columns; their headers are a contract with the
// spreadsheets people build on the file.
var columns = []export.Column{
	{Header: "voucher_id", Kind: export.Number}, {Header: "customer_uin", Kind: export.Text}, {Header: "status", Kind: export.Text},
	{Header: "total_amount_usd", Kind: export.Money}, {Header: "remaining_amount_usd", Kind: export.Money},
	{Header: "usage", Kind: export.Text}, {Header: "payment_mode", Kind: export.Text}, {Header: "product_scope", Kind: export.Text},
	{Header: "effective_time_utc8", Kind: export.Text}, {Header: "expire_time_utc8", Kind: export.Text}, {Header: "apply_reason", Kind: export.Text},
}

// Export writes every voucher matching the filters (not just a page) as
// CSV (UTF-8 with a byte order mark) or XLSX, and records the export in the
// audit log; it returns how many rows it wrote. The pages are read through
// the cache, so an export right after the page costs few calls. Whoever may
// see the list may take it away: the file holds nothing the page does not.
func (s *Service) Export(ctx context.Context, actor audit.Actor, f Filters, format string, w io.Writer) (int, error) {
	if err := mayView(actor); err != nil {
		return 0, err
	}
	if f.page == 0 {
		return 0, errors.New("export vouchers: filters not parsed")
	}
	if format != CSV && format != XLSX {
		return 0, apperr.InvalidField("format", msgBadFormat)
	}
	rows, err := s.exportRows(ctx, f)
	if err == nil {
		t := export.Table{Name: "vouchers", Columns: columns, Rows: rows}
		if format == CSV {
			err = export.WriteCSV(w, t)
		} else {
			err = export.WriteXLSX(w, t)
		}
	}
	params := map[string]string{"format": format, "rows": strconv.Itoa(len(rows))}
	for k, v := range map[string]string{"customer": f.Customer, "status": f.Status, "payment_mode": f.PaymentMode, "usage": f.Usage, "scope": f.Scope} {
		if v != "" {
			params[k] = v
		}
	}
	entry := actor.Entry("vouchers.export", f.uin, params)
	if err != nil {
		entry.Outcome, entry.Code, entry.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
	}
	if _, aerr := s.db.AppendAudit(ctx, entry); aerr != nil {
		return len(rows), errors.Join(err, aerr)
	}
	if err != nil {
		return len(rows), fmt.Errorf("export vouchers: %w", err)
	}
	return len(rows), nil
}

// exportRows reads every page of the list.
func (s *Service) exportRows(ctx context.Context, f Filters) ([][]string, error) {
	c, err := s.clients.ActAs(ctx, f.reseller)
	if err != nil {
		if apperr.KindOf(err) == apperr.Unavailable {
			return nil, err
		}
		// A stored key that cannot be used: nothing to export with
		// until an administrator stores it again.
		return nil, apperr.New(apperr.Conflict, "", "vouchers.key_unusable").Because(err)
	}
	var rows [][]string
	for page := 1; ; page++ {
		fig := s.readPage(ctx, c, apicache.Fresh, f, page, exportPageSize)
		if fig.Err != nil {
			return nil, fig.Err
		}
		if fig.Value == nil {
			return nil, apperr.New(apperr.Busy, "", "vouchers.export_busy").Because(apicache.ErrPending)
		}
		if fig.Value.Total > MaxExportRows {
			return nil, apperr.New(apperr.Invalid, "", msgTooMany).With(map[string]any{"Max": MaxExportRows, "Count": fig.Value.Total})
		}
		for _, v := range fig.Value.Items {
			rows = append(rows, []string{strconv.FormatInt(v.VoucherId, 10), strconv.FormatInt(v.CustomerUin, 10), v.VoucherStatus,
				v.TotalAmount.String(), v.RemainingAmount.String(), v.Usage, v.PaymentMode, v.ProductScope,
				v.EffectiveTime, v.ExpireTime, v.ApplyReason})
		}
		if len(fig.Value.Items) < exportPageSize || uint64(len(rows)) >= fig.Value.Total {
			return rows, nil
		}
	}
}

// usageColumns are the usage export's columns.
var usageColumns = []export.Column{
	{Header: "id", Kind: export.Number}, {Header: "voucher_id", Kind: export.Text}, {Header: "customer_uin", Kind: export.Text},
	{Header: "deal_name", Kind: export.Text}, {Header: "bill_id", Kind: export.Text}, {Header: "amount_usd", Kind: export.Money},
	{Header: "pay_mode", Kind: export.Text}, {Header: "product_code", Kind: export.Text}, {Header: "product", Kind: export.Text},
	{Header: "sub_product_code", Kind: export.Text}, {Header: "sub_product", Kind: export.Text},
	{Header: "pay_time_utc8", Kind: export.Text}, {Header: "completion_time_utc8", Kind: export.Text},
}

// ExportUsage writes every usage record of a voucher (of a month, or all)
// as CSV or XLSX and audits the export; uin, id and month as UsageOf
// takes them.
func (s *Service) ExportUsage(ctx context.Context, actor audit.Actor, uinText, idText, month, format string, w io.Writer) (int, error) {
	if format != CSV && format != XLSX {
		return 0, apperr.InvalidField("format", msgBadFormat)
	}
	first, err := s.UsageOf(ctx, actor, apicache.Fresh, uinText, idText, month, "")
	if err != nil {
		return 0, err
	}
	if first.Blocked != nil {
		return 0, apperr.New(apperr.Conflict, "", "vouchers.key_unusable").Because(first.Blocked)
	}
	var rows [][]string
	for page := 1; ; page++ {
		u := first
		if page > 1 {
			if u, err = s.UsageOf(ctx, actor, apicache.Fresh, uinText, idText, month, strconv.Itoa(page)); err != nil {
				return 0, err
			}
		}
		if u.Detail.Err != nil {
			err = u.Detail.Err
			break
		}
		if u.Detail.Value == nil {
			err = apperr.New(apperr.Busy, "", "vouchers.export_busy").Because(apicache.ErrPending)
			break
		}
		for _, d := range u.Detail.Value.Data {
			rows = append(rows, []string{strconv.FormatInt(d.Id, 10), d.VoucherId, strconv.FormatUint(u.Customer.Uin, 10), d.DealName, d.BillId,
				d.Amount.String(), d.PayMode, d.ProductCode, d.ProductCodeName, d.SubProductCode, d.SubProductCodeName, d.PayTime, d.CompletionTime})
		}
		if page >= u.Pages || len(u.Detail.Value.Data) == 0 {
			break
		}
	}
	if err == nil {
		t := export.Table{Name: "voucher usage", Columns: usageColumns, Rows: rows}
		if format == CSV {
			err = export.WriteCSV(w, t)
		} else {
			err = export.WriteXLSX(w, t)
		}
	}
	// The voucher as parsed, not as typed: UsageOf bounded it.
	id, _ := strconv.ParseInt(idText, 10, 64)
	params := map[string]string{"table": "usage", "format": format, "rows": strconv.Itoa(len(rows)), "voucher": strconv.FormatInt(id, 10)}
	if month != "" {
		params["month"] = month
	}
	entry := actor.Entry("vouchers.export", first.Customer.Uin, params)
	if err != nil {
		entry.Outcome, entry.Code, entry.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
	}
	if _, aerr := s.db.AppendAudit(ctx, entry); aerr != nil {
		return len(rows), errors.Join(err, aerr)
	}
	if err != nil {
		return len(rows), fmt.Errorf("export voucher usage: %w", err)
	}
	return len(rows), nil
}
