package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// DetailPageSize is how many detail lines a page holds: the most
// DescribeCustomerBillDetail answers at once.
const DetailPageSize = 200

// MaxDetailPage bounds the detail page a person may ask for.
const MaxDetailPage = 1000

// PayModes are DescribeCustomerBillDetail's PayMode filter values.
var PayModes = []string{"prePay", "postPay"}

// ActionTypes are DescribeCustomerBillDetail's ActionType filter values.
var ActionTypes = []string{"prepay_purchase", "prepay_renew", "prepay_modify", "prepay_return", "postpay_deduct",
	"postpay_deduct_h", "postpay_deduct_d", "postpay_deduct_m", "offline_deduct", "online_deduct", "recon_deduct",
	"recon_increase", "ripay_purchase", "postpay_deduct_s", "ri_hour_pay", "prePurchase", "preRenew", "preUpgrade",
	"preDowngrade", "svp_hour_pay", "recon_guarantee", "pre_purchase", "pre_renew", "pre_upgrade", "pre_downgrade"}

// Confirmed are DescribeCustomerBillDetail's IsConfirmed filter values:
// 0 either, 1 paid, 2 unpaid.
var Confirmed = []string{"0", "1", "2"}

// earliestDaily is the first date DescribeCustomerBillDetailByDay answers
// for ("Historical daily bill dated before 2025-06-01 cannot be queried").
var earliestDaily = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// DetailQuery is the detail lines' filters as typed.
type DetailQuery struct {
	PayMode     string // "", or one of PayModes
	ActionType  string // "", or one of ActionTypes
	IsConfirmed string // "", or one of Confirmed
	Page        string // 1-based
}

// DetailFilters is a checked DetailQuery.
type DetailFilters struct {
	DetailQuery
	page int
}

// PageNumber is the detail page asked for, from 1.
func (f DetailFilters) PageNumber() int { return f.page }

// ParseDetail checks the detail lines' filters.
func ParseDetail(q DetailQuery) (DetailFilters, error) {
	f := DetailFilters{DetailQuery: q, page: 1}
	if q.PayMode != "" && !slices.Contains(PayModes, q.PayMode) {
		return f, apperr.InvalidField("paymode", msgBadFilter)
	}
	if q.ActionType != "" && !slices.Contains(ActionTypes, q.ActionType) {
		return f, apperr.InvalidField("action", msgBadFilter)
	}
	if q.IsConfirmed != "" && !slices.Contains(Confirmed, q.IsConfirmed) {
		return f, apperr.InvalidField("paid", msgBadFilter)
	}
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxDetailPage {
			return f, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxDetailPage})
		}
		f.page = p
	}
	return f, nil
}

// Day is one day's spend.
type Day struct {
	Date  string // "2006-01-02"
	Total string // exact decimal text; "" before the API's first daily bill
}

// Details is a page of a month's detail lines.
type Details struct {
	Lines []partnerapi.BillDetailData
	Total int64 // lines matching the filters in all
}

// Month is one customer's month: each read of the partner API with its
// own age and failure.
type Month struct {
	Row   store.Customer
	Month string
	// Blocked says why the customer's bills cannot be read (a reseller's
	// customer without that reseller's key).
	Blocked  error
	Total    apicache.Figure[partnerapi.Amount]
	PayModes apicache.Figure[[]store.BillPayMode]
	Products apicache.Figure[[]store.BillPart]
	Regions  apicache.Figure[[]store.BillPart]
	Daily    apicache.Figure[[]Day]
	Details  apicache.Figure[Details]
	Filters  DetailFilters
	// DailyFrom is the first day the API answers daily bills for, when the
	// month starts before it; "" otherwise.
	DailyFrom string
	Kind      apicache.Kind
	Now       time.Time
}

// Pending reports whether a read is still under way, so the page asks
// again shortly.
func (m Month) Pending() bool {
	return m.Total.Pending || m.PayModes.Pending || m.Products.Pending || m.Regions.Pending || m.Daily.Pending || m.Details.Pending
}

// Sum is the exact sum of parts' totals; ok is false when one is not a
// decimal.
func Sum(parts []store.BillPart) (decimal.Decimal, bool) {
	sum := decimal.Zero
	for _, p := range parts {
		d, err := decimal.NewFromString(p.Total)
		if err != nil {
			return decimal.Zero, false
		}
		sum = sum.Add(d)
	}
	return sum, true
}

// PayModeSum is the exact sum of the pay modes' totals.
func PayModeSum(modes []store.BillPayMode) (decimal.Decimal, bool) {
	parts := make([]store.BillPart, len(modes))
	for i, m := range modes {
		parts[i] = m.BillPart
	}
	return Sum(parts)
}

// DailySum is the exact sum of the days' spend.
func DailySum(days []Day) decimal.Decimal {
	sum := decimal.Zero
	for _, d := range days {
		if v, err := decimal.NewFromString(d.Total); err == nil {
			sum = sum.Add(v)
		}
	}
	return sum
}

// monthParams keys a customer month's reads in the cache.
type monthParams struct {
	Uin   uint64
	Month string
	DetailQuery
	Page int `json:",omitempty"`
}

// errNotFound is the answer for a UIN that is not the partner's customer,
// or not the viewer's reseller's: the two look the same.
func errNotFound(uin uint64, cause error) error {
	return apperr.New(apperr.NotFound, "", msgNotFound).With(map[string]any{"Uin": uin}).Because(fmt.Errorf("customer %d: %w", uin, cause))
}

// clientFor returns the client a customer's bills are read with.
func (s *Service) clientFor(ctx context.Context, row store.Customer) (*partnerapi.Client, error) {
	if row.ResellerUin == 0 {
		return s.clients.Distributor(ctx)
	}
	return s.clients.ActAs(ctx, row.ResellerUin)
}

// customer returns the customer the actor asks for, if they may see it.
func (s *Service) customer(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error) {
	if err := mayView(actor); err != nil {
		return store.Customer{}, err
	}
	row, err := s.customers.Row(ctx, actor, uin)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.NotFound {
			return store.Customer{}, errNotFound(uin, err)
		}
		return store.Customer{}, err
	}
	return row, nil
}

// CustomerMonth reads one customer's month through the cache: its total,
// its totals by pay mode (with transaction types), product and region, a
// page of detail lines with the filters, and its daily spend. mode says how
// fresh the reads must be.
func (s *Service) CustomerMonth(ctx context.Context, actor audit.Actor, uin uint64, month string, mode apicache.Mode, f DetailFilters) (Month, error) {
	month, err := s.ParseMonth(month)
	if err != nil {
		return Month{}, err
	}
	if f.page == 0 {
		return Month{}, errors.New("customer month: filters not parsed")
	}
	row, err := s.customer(ctx, actor, uin)
	if err != nil {
		return Month{}, err
	}
	now := s.now()
	m := Month{Row: row, Month: month, Filters: f, Kind: apicache.BillsKind(month, now), Now: now}
	c, err := s.clientFor(ctx, row)
	if err != nil {
		m.Blocked = err
		return m, nil
	}
	s.read(ctx, c, &m, mode, true)
	return m, nil
}

// read fills the month's figures; details only when asked.
func (s *Service) read(ctx context.Context, c *partnerapi.Client, m *Month, mode apicache.Mode, details bool) {
	id, kind, uin, month := c.SecretID(), m.Kind, m.Row.Uin, m.Month
	key := monthParams{Uin: uin, Month: month}
	var wg sync.WaitGroup
	wg.Go(func() {
		m.Total = apicache.Read(ctx, s.cache, id, kind, mode, "bills.total", key, func(ctx context.Context) (partnerapi.Amount, error) {
			r, err := c.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: uin, Month: month})
			if err != nil {
				return partnerapi.Amount{}, err
			}
			return r.TotalCost, nil
		})
	})
	wg.Go(func() {
		m.PayModes = apicache.Read(ctx, s.cache, id, kind, mode, "bills.paymode", key, func(ctx context.Context) ([]store.BillPayMode, error) {
			r, err := c.DescribeBillSummaryByPayMode(ctx, &partnerapi.DescribeBillSummaryByPayModeRequest{CustomerUin: int64(uin), BillMonth: month})
			if err != nil {
				return nil, err
			}
			return jobs.PayModeParts(r.SummaryOverview), nil
		})
	})
	wg.Go(func() {
		m.Products = apicache.Read(ctx, s.cache, id, kind, mode, "bills.product", key, func(ctx context.Context) ([]store.BillPart, error) {
			r, err := c.DescribeBillSummaryByProduct(ctx, &partnerapi.DescribeBillSummaryByProductRequest{CustomerUin: int64(uin), BillMonth: month})
			if err != nil {
				return nil, err
			}
			return jobs.ProductParts(r.SummaryOverview), nil
		})
	})
	wg.Go(func() {
		m.Regions = apicache.Read(ctx, s.cache, id, kind, mode, "bills.region", key, func(ctx context.Context) ([]store.BillPart, error) {
			r, err := c.DescribeBillSummaryByRegion(ctx, &partnerapi.DescribeBillSummaryByRegionRequest{CustomerUin: int64(uin), BillMonth: month})
			if err != nil {
				return nil, err
			}
			return jobs.RegionParts(r.SummaryOverview), nil
		})
	})
	days := s.days(month)
	if len(days) > 0 && days[0] != month+"-01" {
		m.DailyFrom = days[0]
	}
	wg.Go(func() {
		m.Daily = apicache.Read(ctx, s.cache, id, kind, mode, "bills.daily", key, func(ctx context.Context) ([]Day, error) {
			return readDays(ctx, c, uin, days)
		})
	})
	if details {
		f := m.Filters
		dk := monthParams{Uin: uin, Month: month, DetailQuery: DetailQuery{PayMode: f.PayMode, ActionType: f.ActionType, IsConfirmed: f.IsConfirmed}, Page: f.page}
		wg.Go(func() {
			m.Details = apicache.Read(ctx, s.cache, id, kind, mode, "bills.detail", dk, func(ctx context.Context) (Details, error) {
				return readDetails(ctx, c, uin, month, f.DetailQuery, f.page)
			})
		})
	}
	wg.Wait()
}

// days lists the month's days the daily bill answers for: from the first
// (or the API's first daily bill) to the last, or to today in the current
// month.
func (s *Service) days(month string) []string {
	first, _ := time.Parse(monthLayout, month)
	today := s.now().UTC()
	var out []string
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		if d.After(today) {
			break
		}
		if d.Before(earliestDaily) {
			continue
		}
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// readDays reads each day's spend (DescribeCustomerBillDetailByDay allows
// 20 requests a second, so a month takes about a second and a half).
func readDays(ctx context.Context, c *partnerapi.Client, uin uint64, days []string) ([]Day, error) {
	out := make([]Day, len(days))
	errs := make([]error, len(days))
	var wg sync.WaitGroup
	for i, d := range days {
		wg.Go(func() {
			r, err := c.DescribeCustomerBillDetailByDay(ctx, &partnerapi.DescribeCustomerBillDetailByDayRequest{CustomerUin: int64(uin), Date: d})
			if errs[i] = err; err == nil {
				out[i] = Day{Date: d, Total: r.TotalCost}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first, which carries its RequestId
		}
	}
	return out, nil
}

// readDetails reads one page of detail lines.
func readDetails(ctx context.Context, c *partnerapi.Client, uin uint64, month string, q DetailQuery, page int) (Details, error) {
	r, err := c.DescribeCustomerBillDetail(ctx, &partnerapi.DescribeCustomerBillDetailRequest{CustomerUin: uin, Month: month,
		PageSize: DetailPageSize, Page: int64(page), PayMode: q.PayMode, ActionType: q.ActionType, IsConfirmed: q.IsConfirmed})
	if err != nil {
		return Details{}, err
	}
	return Details{Lines: r.DetailSet, Total: r.Total}, nil
}

// MaxExportLines bounds the detail lines one export reads (a hundred
// pages of DescribeCustomerBillDetail, twenty seconds at its 5 a second).
const MaxExportLines = 100 * DetailPageSize

// allDetails reads every detail line matching the filters, page by page
// through the cache, up to MaxExportLines.
func (s *Service) allDetails(ctx context.Context, c *partnerapi.Client, m Month) ([]partnerapi.BillDetailData, error) {
	var out []partnerapi.BillDetailData
	q := m.Filters.DetailQuery
	q.Page = ""
	for page := 1; len(out) < MaxExportLines; page++ {
		key := monthParams{Uin: m.Row.Uin, Month: m.Month, DetailQuery: q, Page: page}
		f := apicache.Read(ctx, s.cache, c.SecretID(), m.Kind, apicache.Fresh, "bills.detail", key, func(ctx context.Context) (Details, error) {
			return readDetails(ctx, c, m.Row.Uin, m.Month, q, page)
		})
		if f.Err != nil {
			return nil, f.Err
		}
		if f.Value == nil {
			return nil, apperr.New(apperr.Busy, "", "bills.still_reading").Because(apicache.ErrPending)
		}
		out = append(out, f.Value.Lines...)
		if len(f.Value.Lines) < DetailPageSize || int64(len(out)) >= f.Value.Total {
			break
		}
	}
	return out, nil
}
