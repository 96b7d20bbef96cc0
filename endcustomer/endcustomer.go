// Package endcustomer is what a customer sees of its own account through
// its own API key: the partner API actions only an end customer's
// credential may call (limits.tsv) — its bills as it sees them
// (DescribeBillSummary, DescribeBillDetail), its own vouchers and their
// usage, its billing quota and its cost explorer. The portal shows them on
// a page of the customer's when an administrator has stored that
// customer's key; every read goes through the API cache.
package endcustomer

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"sync"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Keys gives the client acting as a customer with its own stored key, or
// an Unavailable error when none is stored.
type Keys interface {
	ForCustomer(ctx context.Context, customerUin uint64) (*partnerapi.Client, error)
}

// Customers finds a customer the actor may see, or a not-found error.
type Customers interface {
	Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
}

// Service is the end-customer views.
type Service struct {
	keys      Keys
	customers Customers
	cache     *apicache.Cache
	now       func() time.Time
}

// New returns the service; now is time.Now when nil.
func New(keys Keys, cs Customers, cache *apicache.Cache, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, customers: cs, cache: cache, now: now}
}

// Page sizes of the lists.
const (
	DetailPerPage  = 50
	VoucherPerPage = 50
	UsagePerPage   = 50
	MaxPage        = 2000
	// ExplorerMonths is how many months the cost explorer covers, the
	// current one included: the most the API allows by month.
	ExplorerMonths = 6
)

// Message ids of the service's errors.
const (
	msgForbidden = "endcustomer.forbidden"
	msgNotFound  = "customers.not_found"
	msgBadMonth  = "endcustomer.bad_month"
	msgBadPage   = "endcustomer.bad_page"
	msgBadID     = "endcustomer.bad_voucher"
)

var monthPattern = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)

// Query is the page's form as typed.
type Query struct {
	Month   string // YYYY-MM; "" is the current month
	Page    string // of the bill's detail lines
	Voucher string // a voucher whose usage to show, or ""
}

// Explorer is the cost explorer's answer: spend by product and month.
type Explorer = partnerapi.DescribeCustomerOwnCostExplorerSummaryResponse

// View is the customer's own view.
type View struct {
	Customer store.Customer
	Month    string
	Page     int
	Pages    int
	Voucher  int64
	Quota    apicache.Figure[partnerapi.QueryCustomerBillingQuotaData]
	Summary  apicache.Figure[[]partnerapi.SummaryDetails]
	Detail   apicache.Figure[partnerapi.DescribeBillDetailResponse]
	Vouchers apicache.Figure[partnerapi.DescribeCustomerOwnVoucherListResponse]
	Usage    apicache.Figure[partnerapi.DescribeCustomerOwnVoucherUsageDetailsResponse]
	Explorer apicache.Figure[Explorer]
	// From and To are the months the cost explorer covers.
	From, To string
	// Blocked says why nothing could be read: no key of the customer.
	Blocked error
	Now     time.Time
}

// Stale reports whether a read is older than its freshness or pending.
func (v View) Stale() bool {
	if v.Blocked != nil {
		return false
	}
	bills := apicache.BillsKind(v.Month, v.Now)
	return v.Quota.Stale(apicache.Customer, v.Now) || v.Quota.Pending || v.Summary.Stale(bills, v.Now) || v.Summary.Pending ||
		v.Detail.Stale(bills, v.Now) || v.Detail.Pending || v.Vouchers.Stale(apicache.Vouchers, v.Now) || v.Vouchers.Pending ||
		(v.Voucher != 0 && (v.Usage.Stale(apicache.Vouchers, v.Now) || v.Usage.Pending)) ||
		v.Explorer.Stale(apicache.BillsCurrentMonth, v.Now) || v.Explorer.Pending
}

// Pending reports whether a read is still under way.
func (v View) Pending() bool {
	return v.Quota.Pending || v.Summary.Pending || v.Detail.Pending || v.Vouchers.Pending || v.Usage.Pending || v.Explorer.Pending
}

// params key the view's reads in the cache (the key is also the
// customer's own SecretId).
type params struct {
	Month   string `json:",omitempty"`
	Page    int    `json:",omitempty"`
	Voucher int64  `json:",omitempty"`
	From    string `json:",omitempty"`
}

// Own reads the customer's own view. Whoever may see the customer may see
// it: a reseller's login only for its own customers, the rest answered as
// not found.
func (s *Service) Own(ctx context.Context, actor audit.Actor, mode apicache.Mode, uinText string, q Query) (View, error) {
	if !actor.Can(auth.ViewCustomers) || !actor.Can(auth.ViewBills) {
		return View{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	uin, err := strconv.ParseUint(uinText, 10, 64)
	if err != nil || uin == 0 {
		return View{}, apperr.New(apperr.NotFound, "", msgNotFound).With(map[string]any{"Uin": uinText})
	}
	row, err := s.customers.Row(ctx, actor, uin)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	v := View{Customer: row, Month: q.Month, Page: 1, Pages: 1, Now: now}
	if v.Month == "" {
		v.Month = now.UTC().Format("2006-01")
	}
	var errs []error
	if !monthPattern.MatchString(v.Month) {
		errs = append(errs, apperr.InvalidField("month", msgBadMonth))
	}
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxPage {
			errs = append(errs, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage}))
		} else {
			v.Page = p
		}
	}
	if q.Voucher != "" {
		id, err := strconv.ParseInt(q.Voucher, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, apperr.New(apperr.Invalid, "", msgBadID))
		} else {
			v.Voucher = id
		}
	}
	if err := errors.Join(errs...); err != nil {
		return v, err
	}
	c, err := s.keys.ForCustomer(ctx, uin)
	if err != nil {
		v.Blocked = err
		return v, nil
	}
	s.read(ctx, c, mode, &v)
	return v, nil
}

// read makes the view's reads side by side.
func (s *Service) read(ctx context.Context, c *partnerapi.Client, mode apicache.Mode, v *View) {
	id := c.SecretID()
	bills := apicache.BillsKind(v.Month, v.Now)
	start := time.Date(v.Now.Year(), v.Now.Month()-ExplorerMonths+1, 1, 0, 0, 0, 0, time.UTC)
	v.From, v.To = start.Format("2006-01"), v.Now.UTC().Format("2006-01")
	var wg sync.WaitGroup
	wg.Go(func() {
		v.Quota = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "own.quota", params{},
			func(ctx context.Context) (partnerapi.QueryCustomerBillingQuotaData, error) {
				r, err := c.QueryCustomerBillingQuota(ctx, &partnerapi.QueryCustomerBillingQuotaRequest{})
				if err != nil {
					return partnerapi.QueryCustomerBillingQuotaData{}, err
				}
				return r.Data, nil
			})
	})
	wg.Go(func() {
		v.Summary = apicache.Read(ctx, s.cache, id, bills, mode, "own.summary", params{Month: v.Month},
			func(ctx context.Context) ([]partnerapi.SummaryDetails, error) {
				r, err := c.DescribeBillSummary(ctx, &partnerapi.DescribeBillSummaryRequest{Month: v.Month, GroupType: "product"})
				if err != nil {
					return nil, err
				}
				return r.SummaryDetail, nil
			})
	})
	wg.Go(func() {
		v.Detail = apicache.Read(ctx, s.cache, id, bills, mode, "own.detail", params{Month: v.Month, Page: v.Page},
			func(ctx context.Context) (partnerapi.DescribeBillDetailResponse, error) {
				r, err := c.DescribeBillDetail(ctx, &partnerapi.DescribeBillDetailRequest{Month: v.Month, Page: int64(v.Page), PageSize: DetailPerPage})
				if err != nil {
					return partnerapi.DescribeBillDetailResponse{}, err
				}
				return *r, nil
			})
	})
	wg.Go(func() {
		v.Vouchers = apicache.Read(ctx, s.cache, id, apicache.Vouchers, mode, "own.vouchers", params{},
			func(ctx context.Context) (partnerapi.DescribeCustomerOwnVoucherListResponse, error) {
				r, err := c.DescribeCustomerOwnVoucherList(ctx, &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: VoucherPerPage})
				if err != nil {
					return partnerapi.DescribeCustomerOwnVoucherListResponse{}, err
				}
				return *r, nil
			})
	})
	if v.Voucher != 0 {
		wg.Go(func() {
			v.Usage = apicache.Read(ctx, s.cache, id, apicache.Vouchers, mode, "own.usage", params{Voucher: v.Voucher},
				func(ctx context.Context) (partnerapi.DescribeCustomerOwnVoucherUsageDetailsResponse, error) {
					r, err := c.DescribeCustomerOwnVoucherUsageDetails(ctx, &partnerapi.DescribeCustomerOwnVoucherUsageDetailsRequest{
						Page: 1, PageSize: UsagePerPage, VoucherId: v.Voucher})
					if err != nil {
						return partnerapi.DescribeCustomerOwnVoucherUsageDetailsResponse{}, err
					}
					return *r, nil
				})
		})
	}
	wg.Go(func() {
		v.Explorer = apicache.Read(ctx, s.cache, id, apicache.BillsCurrentMonth, mode, "own.explorer", params{From: v.From},
			func(ctx context.Context) (Explorer, error) {
				zone := time.FixedZone("UTC+8", 8*3600) // the API's times
				from := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, zone)
				to := v.Now.In(zone)
				r, err := c.DescribeCustomerOwnCostExplorerSummary(ctx, &partnerapi.DescribeCustomerOwnCostExplorerSummaryRequest{
					Dimension: "Business", FeeType: "totalCost", BillType: 1, PeriodType: "month",
					StartTime: from.Format("2006-01-02 15:04:05"), EndTime: to.Format("2006-01-02 15:04:05"), Page: 1, PageSize: 50})
				if err != nil {
					return Explorer{}, err
				}
				return *r, nil
			})
	})
	wg.Wait()
	if d := v.Detail.Value; d != nil {
		v.Pages = max(1, int((d.Total+DetailPerPage-1)/DetailPerPage))
	}
}
