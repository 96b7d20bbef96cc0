package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/store"
)

// BillSummary is one customer's bill totals for one month, as the four
// summary actions answer them.
type BillSummary struct {
	Uin       uint64
	Month     string
	Total     partnerapi.Amount
	ByProduct []partnerapi.BusinessSummaryOverviewItem
	ByRegion  []partnerapi.RegionSummaryOverviewItem
	ByPayMode []partnerapi.PayModeSummaryOverviewItem
}

// BillsRefresh refreshes one month's bill summaries for a list of customers.
type BillsRefresh struct {
	DB  *store.DB
	Now func() time.Time // clock for the cache's "as of"; time.Now when nil
}

// Name is the stored kind name.
func (BillsRefresh) Name() string { return "bills.refresh" }

// Writes is false: bills are only read.
func (BillsRefresh) Writes() bool { return false }

// Concurrency keeps each of the four 1/s summary actions busy.
func (BillsRefresh) Concurrency() int { return 4 }

type billItem struct {
	CustomerUin uint64
	Month       string
}

// PlanBills returns one item per customer for the month.
func PlanBills(month string, uins []uint64) []Item {
	items := make([]Item, 0, len(uins))
	for _, uin := range uins {
		payload, _ := json.Marshal(billItem{CustomerUin: uin, Month: month})
		items = append(items, Item{Key: strconv.FormatUint(uin, 10), Payload: payload})
	}
	return items
}

// BillCacheKey is the cache key of a customer's month.
func BillCacheKey(month string, uin uint64) string { return month + "/" + strconv.FormatUint(uin, 10) }

// Do reads the month's total and its three breakdowns at once: each action
// has its own budget, so four calls take as long as one.
func (b BillsRefresh) Do(ctx context.Context, c *partnerapi.Client, _ store.Job, it store.JobItem) (Result, error) {
	var p billItem
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return Result{}, fmt.Errorf("bills item %d: %w", it.Seq, err)
	}
	s := BillSummary{Uin: p.CustomerUin, Month: p.Month}
	uin := int64(p.CustomerUin)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	var reqID string
	wg.Go(func() {
		r, err := c.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: p.CustomerUin, Month: p.Month})
		if errs[0] = err; err == nil {
			s.Total, reqID = r.TotalCost, r.RequestId
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByProduct(ctx, &partnerapi.DescribeBillSummaryByProductRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[1] = err; err == nil {
			s.ByProduct = r.SummaryOverview
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByRegion(ctx, &partnerapi.DescribeBillSummaryByRegionRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[2] = err; err == nil {
			s.ByRegion = r.SummaryOverview
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByPayMode(ctx, &partnerapi.DescribeBillSummaryByPayModeRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[3] = err; err == nil {
			s.ByPayMode = r.SummaryOverview
		}
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Result{}, err
		}
	}
	v, err := json.Marshal(s)
	if err != nil {
		return Result{}, err
	}
	if err := b.DB.CachePut(ctx, CacheBillSummary, BillCacheKey(p.Month, p.CustomerUin), v, clockNow(b.Now)); err != nil {
		return Result{}, err
	}
	summary, _ := json.Marshal(map[string]string{"TotalCost": s.Total.String()})
	return Result{RequestID: reqID, Summary: summary}, nil
}

// Reconcile is never needed for reads.
func (BillsRefresh) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (Reconciled, error) {
	return NotApplied, nil
}
