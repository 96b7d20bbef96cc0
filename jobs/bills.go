package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/store"
)

// BillsRefresh refreshes one month's bill summaries for the partner's
// direct customers into the bill tables (store.BillMonth: the total and
// the totals by product, region, pay mode and transaction type); the
// current month's total also goes on each customer's row in the customers
// table (Customer.Spend). With Clients, it also reads the customers of
// every second-level reseller whose own API key is stored, with that key
// (the distributor's cannot read them), so a reseller's login finds its
// customers' bills on the overview.
type BillsRefresh struct {
	DB      *store.DB
	Clients Clients          // a reseller's own key; nil reads the direct customers only
	Now     func() time.Time // clock for the cache's "as of"; time.Now when nil
}

// Name is the stored kind name.
func (BillsRefresh) Name() string { return KindBills }

// Writes is false: bills are only read.
func (BillsRefresh) Writes() bool { return false }

// Concurrency keeps each of the four 1/s summary actions busy.
func (BillsRefresh) Concurrency() int { return 4 }

type billItem struct {
	CustomerUin uint64
	Month       string
	// Reseller is the second-level reseller whose own key reads the
	// customer; 0 for the partner's direct customers.
	Reseller uint64 `json:",omitempty"`
}

// billsParams are a bills refresh's stored parameters.
type billsParams struct {
	Month string
}

// billsPlanBatch is how many customers planning adds in one transaction.
const billsPlanBatch = store.MaxCustomerLimit

// billsCursor is where a bills refresh's planning stands: walking the
// customers table by UIN, or the partner API's customer list when the
// table had no direct customer at the start.
type billsCursor struct {
	Source   string // "directory", "api", or "reseller" after the direct customers
	After    string `json:",omitempty"` // directory, reseller: the last UIN added
	Page     int64  `json:",omitempty"` // api: the last page added
	Reseller uint64 `json:",omitempty"` // reseller: whose customers are being added
}

// Plan lists the customers whose bills to read: the direct customers in
// the customers table, or when it has none, those the partner API lists, a
// page at a time (QueryCustomersCredit allows 5 pages a second, so 50,000
// customers take 100 s, which is why this runs inside the job and not in a
// request). A second-level reseller's customers are not the partner's to
// read bills of: the bill actions refuse them.
func (b BillsRefresh) Plan(ctx context.Context, c *partnerapi.Client, job store.Job, cursor string, add func([]Item, string) error) error {
	var p billsParams
	if err := json.Unmarshal(job.Params, &p); err != nil || p.Month == "" {
		return fmt.Errorf("bills job %d has no month: %s", job.ID, job.Params)
	}
	direct := uint64(0)
	var at billsCursor
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &at); err != nil {
			return fmt.Errorf("bills job %d: plan cursor %q: %w", job.ID, cursor, err)
		}
	} else {
		_, n, err := b.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, Limit: 1})
		if err != nil {
			return fmt.Errorf("bills job %d: %w", job.ID, err)
		}
		at.Source = "api"
		if n > 0 {
			at.Source = "directory"
		}
	}
	next := func(uins []uint64) error {
		resume, err := json.Marshal(at)
		if err != nil {
			return err
		}
		return add(planBills(p.Month, at.Reseller, uins), string(resume))
	}
	switch at.Source {
	case "directory":
		after := uint64(0)
		if at.After != "" {
			var err error
			if after, err = strconv.ParseUint(at.After, 10, 64); err != nil {
				return fmt.Errorf("bills job %d: plan cursor %q: %w", job.ID, cursor, err)
			}
		}
		for {
			page, _, err := b.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, AfterUin: after, Sort: "uin", Limit: billsPlanBatch})
			if err != nil {
				return fmt.Errorf("bills job %d: %w", job.ID, err)
			}
			if len(page) == 0 {
				if b.Clients == nil {
					return nil
				}
				at = billsCursor{Source: "reseller"}
				return b.planResellers(ctx, job, &at, next)
			}
			uins := make([]uint64, len(page))
			for i, cu := range page {
				uins[i] = cu.Uin
			}
			after = uins[len(uins)-1]
			at.After = strconv.FormatUint(after, 10)
			if err := next(uins); err != nil {
				return err
			}
		}
	case "api":
		for {
			page := at.Page + 1
			resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: page, PageSize: directoryPageSize, Order: "asc"})
			if err != nil {
				return fmt.Errorf("list customers, page %d: %w", page, err)
			}
			uins := make([]uint64, 0, len(resp.Data))
			for _, cu := range resp.Data {
				uins = append(uins, cu.ClientUin)
			}
			at.Page = page
			if len(uins) > 0 {
				if err := next(uins); err != nil {
					return err
				}
			}
			if len(resp.Data) < directoryPageSize || page*directoryPageSize >= int64(resp.Total) {
				return nil
			}
		}
	case "reseller":
		return b.planResellers(ctx, job, &at, next)
	default:
		return fmt.Errorf("bills job %d: plan cursor %q: unknown source", job.ID, cursor)
	}
}

// planResellers adds the customers of each second-level reseller whose own
// key is stored, reseller by reseller and customer by customer in UIN
// order, from where the cursor stands.
func (b BillsRefresh) planResellers(ctx context.Context, job store.Job, at *billsCursor, next func([]uint64) error) error {
	if b.Clients == nil {
		return nil
	}
	resellers, err := b.DB.CustomerResellers(ctx)
	if err != nil {
		return fmt.Errorf("bills job %d: %w", job.ID, err)
	}
	for _, r := range resellers {
		if r.Uin < at.Reseller {
			continue
		}
		after := uint64(0)
		if r.Uin == at.Reseller && at.After != "" {
			if after, err = strconv.ParseUint(at.After, 10, 64); err != nil {
				return fmt.Errorf("bills job %d: plan cursor %q: %w", job.ID, at.After, err)
			}
		}
		_, own, err := b.Clients.ForSubagent(ctx, r.Uin)
		if err != nil {
			return fmt.Errorf("bills job %d: key of reseller %d: %w", job.ID, r.Uin, err)
		}
		if !own {
			continue
		}
		reseller := r.Uin
		for {
			page, _, err := b.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &reseller, AfterUin: after, Sort: "uin", Limit: billsPlanBatch})
			if err != nil {
				return fmt.Errorf("bills job %d: %w", job.ID, err)
			}
			if len(page) == 0 {
				break
			}
			uins := make([]uint64, len(page))
			for i, cu := range page {
				uins[i] = cu.Uin
			}
			after = uins[len(uins)-1]
			at.Reseller, at.After = reseller, strconv.FormatUint(after, 10)
			if err := next(uins); err != nil {
				return err
			}
		}
	}
	return nil
}

// PlanBills returns one item per direct customer for the month.
func PlanBills(month string, uins []uint64) []Item { return planBills(month, 0, uins) }

// planBills returns one item per customer for the month, read with the
// reseller's own key when reseller is not 0.
func planBills(month string, reseller uint64, uins []uint64) []Item {
	items := make([]Item, 0, len(uins))
	for _, uin := range uins {
		payload, _ := json.Marshal(billItem{CustomerUin: uin, Month: month, Reseller: reseller})
		items = append(items, Item{Key: strconv.FormatUint(uin, 10), Payload: payload})
	}
	return items
}

// Do reads the month's total and its three breakdowns at once: each action
// has its own budget, so four calls take as long as one.
func (b BillsRefresh) Do(ctx context.Context, c *partnerapi.Client, _ store.Job, it store.JobItem) (Result, error) {
	var p billItem
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return Result{}, fmt.Errorf("bills item %d: %w", it.Seq, err)
	}
	if p.Reseller != 0 {
		// A reseller's customer is read with the reseller's own key.
		if b.Clients == nil {
			return Result{}, &NotSentError{Code: "NoResellerKey", Reason: ErrNoResellerKey.Error()}
		}
		rc, own, err := b.Clients.ForSubagent(ctx, p.Reseller)
		switch {
		case err != nil:
			return Result{}, err
		case !own:
			return Result{}, &NotSentError{Code: "NoResellerKey", Reason: ErrNoResellerKey.Error()}
		}
		c = rc
	}
	s := store.BillMonth{CustomerUin: p.CustomerUin, Month: p.Month}
	uin := int64(p.CustomerUin)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Go(func() {
		r, err := c.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: p.CustomerUin, Month: p.Month})
		if errs[0] = err; err == nil {
			s.Total, s.RequestID = r.TotalCost.String(), r.RequestId
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByProduct(ctx, &partnerapi.DescribeBillSummaryByProductRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[1] = err; err == nil {
			s.Products = ProductParts(r.SummaryOverview)
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByRegion(ctx, &partnerapi.DescribeBillSummaryByRegionRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[2] = err; err == nil {
			s.Regions = RegionParts(r.SummaryOverview)
		}
	})
	wg.Go(func() {
		r, err := c.DescribeBillSummaryByPayMode(ctx, &partnerapi.DescribeBillSummaryByPayModeRequest{CustomerUin: uin, BillMonth: p.Month})
		if errs[3] = err; err == nil {
			s.PayModes = PayModeParts(r.SummaryOverview)
		}
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Result{}, err
		}
	}
	summary, err := json.Marshal(map[string]string{"TotalCost": s.Total})
	if err != nil {
		return Result{}, err
	}
	s.FetchedAt = clockNow(b.Now)
	// The customer list shows this month's spend: the current month's
	// total goes on the customer's row too.
	current := p.Month == s.FetchedAt.UTC().Format(monthLayout)
	save := func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutBillMonth(ctx, s); err != nil {
			return err
		}
		if !current {
			return nil
		}
		// A customer planned from the API list may not be in the table (yet).
		if err := tx.SetCustomerSpend(ctx, p.CustomerUin, p.Month, s.Total); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	return Result{RequestID: s.RequestID, Summary: summary, Save: save}, nil
}

// ProductParts are DescribeBillSummaryByProduct's lines as stored.
func ProductParts(items []partnerapi.BusinessSummaryOverviewItem) []store.BillPart {
	out := make([]store.BillPart, 0, len(items))
	for _, x := range items {
		out = append(out, store.BillPart{Code: x.BusinessCode, Name: x.BusinessCodeName, OriginalCost: x.OriginalCost, VoucherAmount: x.VoucherPayAmount, Total: x.TotalCost})
	}
	return out
}

// RegionParts are DescribeBillSummaryByRegion's lines as stored.
func RegionParts(items []partnerapi.RegionSummaryOverviewItem) []store.BillPart {
	out := make([]store.BillPart, 0, len(items))
	for _, x := range items {
		out = append(out, store.BillPart{Code: x.RegionId, Name: x.RegionName, OriginalCost: x.OriginalCost, VoucherAmount: x.VoucherPayAmount, Total: x.TotalCost})
	}
	return out
}

// PayModeParts are DescribeBillSummaryByPayMode's lines, each with its
// transaction types, as stored.
func PayModeParts(items []partnerapi.PayModeSummaryOverviewItem) []store.BillPayMode {
	out := make([]store.BillPayMode, 0, len(items))
	for _, x := range items {
		m := store.BillPayMode{BillPart: store.BillPart{Code: x.PayMode, Name: x.PayModeName, OriginalCost: x.OriginalCost, VoucherAmount: x.VoucherPayAmount, Total: x.TotalCost}}
		for _, a := range x.Detail {
			m.Actions = append(m.Actions, store.BillPart{Code: a.ActionType, Name: a.ActionTypeName, OriginalCost: a.OriginalCost, VoucherAmount: a.VoucherPayAmount, Total: a.TotalCost})
		}
		out = append(out, m)
	}
	return out
}

// Reconcile is never needed for reads.
func (BillsRefresh) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (Reconciled, error) {
	return NotApplied, nil
}
