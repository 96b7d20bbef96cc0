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

// Cache kinds the jobs fill.
const (
	CacheCustomer    = "customer"     // key: UIN; value: DirectoryEntry
	CacheBillSummary = "bill.summary" // key: "YYYY-MM/UIN"; value: BillSummary
)

// directoryPageSize is the page the directory walks the customer list by.
const directoryPageSize = 100

// infoBatch is how many UINs one DescribeCustomerInfo call takes at most.
const infoBatch = 20

// DirectoryEntry is one customer as the directory keeps it: credit from
// QueryCustomersCredit and account details from DescribeCustomerInfo.
type DirectoryEntry struct {
	Uin             uint64
	Name            string
	Email           string
	Mobile          string
	Remark          string
	Type            string
	Credit          partnerapi.Amount
	RemainingCredit partnerapi.Amount
	Force           int64 // 2: services suspended by the partner, 0: normal
	Arrears         string
	AssociationTime string
	AccountStatus   string // 0 normal, 2 suspended for arrears (or credit taken to 0)
	AuthStatus      string
	AuthType        int64 // -1 unknown, 0 personal, 1 company
	HasExpense      bool
}

// DirectoryRefresh refreshes the customer directory, a page at a time. Each
// page's customers are cached in the transaction that records the page as
// done.
type DirectoryRefresh struct {
	Now func() time.Time // clock for the cache's "as of"; time.Now when nil
}

// Name is the stored kind name.
func (DirectoryRefresh) Name() string { return KindDirectory }

// Writes is false: the directory only reads.
func (DirectoryRefresh) Writes() bool { return false }

// Concurrency keeps enough pages in flight that DescribeCustomerInfo, the
// action that sets the pace (a page of 100 needs five of its calls at 20 a
// second, so 4 pages a second, against QueryCustomersCredit's 5 pages),
// always has calls waiting on its budget while others are on the wire: its
// limiter, not this number, sets the pace. A page takes a round trip of
// QueryCustomersCredit, then its five DescribeCustomerInfo calls at once,
// then its write: sixteen pages in flight keep 80 calls queued, four
// seconds of the action's budget at its real limit, and keep even a budget
// sped up fifty times busy across round trips of tens of milliseconds.
func (DirectoryRefresh) Concurrency() int { return 16 }

type directoryPage struct {
	Page int64
}

// planDirectory asks for the number of customers and returns one item per
// page, each counting the customers it holds.
func planDirectory(ctx context.Context, c *partnerapi.Client) ([]Item, error) {
	first, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil {
		return nil, fmt.Errorf("count customers: %w", err)
	}
	total := int64(first.Total)
	pages := (total + directoryPageSize - 1) / directoryPageSize
	items := make([]Item, 0, pages)
	for p := int64(1); p <= pages; p++ {
		payload, err := json.Marshal(directoryPage{Page: p})
		if err != nil {
			return nil, fmt.Errorf("plan directory page %d: %w", p, err)
		}
		units := min(directoryPageSize, total-(p-1)*directoryPageSize)
		items = append(items, Item{Key: "page " + strconv.FormatInt(p, 10), Payload: payload, Units: int(units)})
	}
	return items, nil
}

// directoryPlanned is the plan cursor once the pages are added.
const directoryPlanned = "pages"

// Plan counts the customers (one call) and adds one item per page in one
// batch; a cursor means that batch is in already.
func (DirectoryRefresh) Plan(ctx context.Context, c *partnerapi.Client, _ store.Job, cursor string, add func([]Item, string) error) error {
	if cursor != "" {
		return nil
	}
	items, err := planDirectory(ctx, c)
	if err != nil {
		return err
	}
	return add(items, directoryPlanned)
}

// Do reads one page of customers with their details and caches each one.
func (d DirectoryRefresh) Do(ctx context.Context, c *partnerapi.Client, _ store.Job, it store.JobItem) (Result, error) {
	var p directoryPage
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return Result{}, fmt.Errorf("directory item %d: %w", it.Seq, err)
	}
	page, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: p.Page, PageSize: directoryPageSize, Order: "asc"})
	if err != nil {
		return Result{}, err
	}
	entries := make(map[uint64]*DirectoryEntry, len(page.Data))
	var uins []int64
	for _, cu := range page.Data {
		entries[cu.ClientUin] = &DirectoryEntry{
			Uin: cu.ClientUin, Name: cu.Name, Email: cu.Email, Mobile: cu.Mobile, Remark: cu.Remark, Type: cu.Type,
			Credit: cu.Credit, RemainingCredit: cu.RemainingCredit, Force: cu.Force, Arrears: cu.Arrears, AssociationTime: cu.AssociationTime,
		}
		uins = append(uins, int64(cu.ClientUin))
	}
	// DescribeCustomerInfo takes at most 20 UINs a call; the page's calls
	// go at once, so they wait on the action's budget together rather than
	// one after another.
	var (
		wg    sync.WaitGroup
		calls = (len(uins) + infoBatch - 1) / infoBatch
		infos = make([][]partnerapi.DescribeCustomerInfoData, calls)
		errs  = make([]error, calls)
	)
	for i := range calls {
		batch := uins[i*infoBatch : min((i+1)*infoBatch, len(uins))]
		wg.Go(func() {
			info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: batch})
			if errs[i] = err; err == nil {
				infos[i] = info.Data
			}
		})
	}
	wg.Wait()
	for i := range calls {
		if errs[i] != nil {
			return Result{}, errs[i]
		}
		for _, in := range infos[i] {
			uin, _ := strconv.ParseUint(in.CustomerUin, 10, 64)
			if e, ok := entries[uin]; ok {
				e.AccountStatus, e.AuthStatus, e.AuthType, e.HasExpense = in.AccountStatus, in.AuthStatus, in.AuthType, in.HasExpense == 1
				// QueryCustomersCredit masks the email and phone; the
				// customer's own details carry them whole.
				if in.Email != "" {
					e.Email = in.Email
				}
				if in.Phone != "" {
					e.Mobile = in.Phone
				}
			}
		}
	}
	now := clockNow(d.Now)
	values := make(map[string][]byte, len(entries))
	for uin, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return Result{}, fmt.Errorf("directory entry %d: %w", uin, err)
		}
		values[strconv.FormatUint(uin, 10)] = b
	}
	summary, err := json.Marshal(map[string]int{"customers": len(entries)})
	if err != nil {
		return Result{}, err
	}
	save := func(ctx context.Context, tx *store.Tx) error {
		for key, v := range values {
			if err := tx.CachePut(ctx, CacheCustomer, key, v, now); err != nil {
				return err
			}
		}
		return nil
	}
	return Result{RequestID: page.RequestId, Summary: summary, Save: save}, nil
}

// Reconcile is never needed for reads.
func (DirectoryRefresh) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (Reconciled, error) {
	return NotApplied, nil
}
