package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// directoryPageSize is the page the directory walks the customer lists by:
// the largest QueryCustomersCredit and QueryT1IndirectCustomersDetail take.
const directoryPageSize = 100

// infoBatch is how many UINs one DescribeCustomerInfo call takes at most.
const infoBatch = 20

// DirectoryRefresh refreshes the customers table: the partner's direct
// customers a page at a time (QueryCustomersCredit with DescribeCustomerInfo
// for the account details), then each second-level reseller's indirect
// customers a page at a time (QueryT1IndirectCustomersDetail). An item's
// customers are stored in the transaction that records the item as done.
// A refresh that has read every page deletes the customers it did not see,
// with its last item: those have left.
type DirectoryRefresh struct{}

// Name is the stored kind name.
func (DirectoryRefresh) Name() string { return KindDirectory }

// Writes is false: the directory only reads.
func (DirectoryRefresh) Writes() bool { return false }

// itemPages is how many pages of a list one item reads. The item's
// customers are stored in one transaction: four pages of new customers
// commit the name and credit indexes' pages, which new customers land on
// all over, once rather than four times.
const itemPages = 4

// Concurrency keeps enough pages in flight that DescribeCustomerInfo, the
// action that sets the pace (a page of 100 needs five of its calls at 20 a
// second, so 4 pages a second, against QueryCustomersCredit's 5 pages),
// always has calls waiting on its budget while others are on the wire: its
// limiter, not this number, sets the pace. An item's pages each take a
// round trip of QueryCustomersCredit, then their five DescribeCustomerInfo
// calls at once; the item then waits for its slowest page and for its
// write. Eight items of four pages keep up to 160 calls queued, eight
// seconds of the action's budget at its real limit, and keep even a budget
// sped up fifty times busy across round trips of tens of milliseconds.
func (DirectoryRefresh) Concurrency() int { return 8 }

// directoryPage is one item of a directory refresh: a few pages of a list.
type directoryPage struct {
	Page  int64 // the first page
	Pages int64 `json:",omitempty"` // how many pages from Page; 0 is 1
	// ResellerUin is 0 for pages of the partner's direct customers, else
	// the second-level reseller whose indirect customers the pages list.
	ResellerUin uint64 `json:",omitempty"`
	// Last marks the item that holds a list's last planned page: it reads
	// on while the list has grown since planning, so that a customer bound
	// meanwhile is seen (the lists are in binding order) rather than
	// deleted as gone.
	Last bool `json:",omitempty"`
}

// Plan cursors of a directory refresh: after the direct customers' pages,
// after the resellers' pages (planning is then complete).
const (
	directoryPlannedDirect    = "pages"
	directoryPlannedResellers = "resellers"
)

// Plan counts the direct customers (one call) and adds their pages in one
// batch, then lists the second-level resellers (all pages) and adds their
// indirect customers' pages in a second; the cursor says which batch is in.
func (DirectoryRefresh) Plan(ctx context.Context, c *partnerapi.Client, _ store.Job, cursor string, add func([]Item, string) error) error {
	switch cursor {
	case "":
		items, err := planDirectPages(ctx, c)
		if err != nil {
			return err
		}
		if err := add(items, directoryPlannedDirect); err != nil {
			return err
		}
		fallthrough
	case directoryPlannedDirect:
		items, err := planResellerPages(ctx, c)
		if err != nil {
			return err
		}
		return add(items, directoryPlannedResellers)
	case directoryPlannedResellers:
		return nil
	default:
		return fmt.Errorf("directory plan cursor %q: unknown", cursor)
	}
}

// pageItems returns the items of a list of total customers, itemPages
// pages each, each counting the customers it holds.
func pageItems(resellerUin uint64, total int64) ([]Item, error) {
	pages := (total + directoryPageSize - 1) / directoryPageSize
	items := make([]Item, 0, (pages+itemPages-1)/itemPages)
	for first := int64(1); first <= pages; first += itemPages {
		n := min(itemPages, pages-first+1)
		payload, err := json.Marshal(directoryPage{Page: first, Pages: n, ResellerUin: resellerUin, Last: first+n > pages})
		if err != nil {
			return nil, fmt.Errorf("plan directory page %d: %w", first, err)
		}
		key := "pages " + strconv.FormatInt(first, 10) + " to " + strconv.FormatInt(first+n-1, 10)
		if n == 1 {
			key = "page " + strconv.FormatInt(first, 10)
		}
		if resellerUin != 0 {
			key = "reseller " + strconv.FormatUint(resellerUin, 10) + " " + key
		}
		units := min(n*directoryPageSize, total-(first-1)*directoryPageSize)
		items = append(items, Item{Key: key, Payload: payload, Units: int(units)})
	}
	return items, nil
}

// planDirectPages asks for the number of direct customers and returns the
// items of their pages.
func planDirectPages(ctx context.Context, c *partnerapi.Client) ([]Item, error) {
	first, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil {
		return nil, fmt.Errorf("count customers: %w", err)
	}
	return pageItems(0, int64(first.Total))
}

// planResellerPages lists the second-level resellers and returns the items
// of the pages of each one's indirect customers. A partner that has none to
// list (a reseller's key, refused UinNoAuth) plans none.
func planResellerPages(ctx context.Context, c *partnerapi.Client) ([]Item, error) {
	resellers, err := listResellers(ctx, c)
	if err != nil {
		return nil, err
	}
	var items []Item
	for _, r := range resellers {
		more, err := pageItems(r.uin, r.customers)
		if err != nil {
			return nil, err
		}
		items = append(items, more...)
	}
	return items, nil
}

// reseller is a second-level reseller and how many customers it has.
type reseller struct {
	uin       uint64
	customers int64
}

// codeNoAuth is the partner API's refusal of an action to the caller's role,
// as QuerySubAgentsDetailV2 answers a partner that is not a distributor.
const codeNoAuth = "UnauthorizedOperation.UinNoAuth"

// listResellers reads every page of the partner's second-level resellers,
// oldest first; none for a partner whose role cannot list them.
func listResellers(ctx context.Context, c *partnerapi.Client) ([]reseller, error) {
	var out []reseller
	for r, err := range c.AllQuerySubAgentsDetailV2(ctx, partnerapi.QuerySubAgentsDetailV2Request{Order: "asc"}) {
		if partnerapi.ErrorCode(err) == codeNoAuth {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list second-level resellers: %w", err)
		}
		if r.SubAgentUin > 0 {
			out = append(out, reseller{uin: uint64(r.SubAgentUin), customers: max(r.CountOfCustomers, 0)})
		}
	}
	return out, nil
}

// Do reads the item's pages of customers at once (and on, for a list's
// last pages, while the list is longer) and stores them in the item's
// transaction.
func (DirectoryRefresh) Do(ctx context.Context, c *partnerapi.Client, job store.Job, it store.JobItem) (Result, error) {
	var p directoryPage
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return Result{}, fmt.Errorf("directory item %d: %w", it.Seq, err)
	}
	read := func(page int64) ([]store.Customer, bool, string, error) {
		if p.ResellerUin == 0 {
			return directPage(ctx, c, page)
		}
		return indirectPage(ctx, c, p.ResellerUin, page)
	}
	pages := max(p.Pages, 1)
	var (
		wg        sync.WaitGroup
		batches   = make([][]store.Customer, pages)
		mores     = make([]bool, pages)
		requestID = make([]string, pages)
		errs      = make([]error, pages)
	)
	for i := range pages {
		wg.Go(func() { batches[i], mores[i], requestID[i], errs[i] = read(p.Page + i) })
	}
	wg.Wait()
	var customers []store.Customer
	for i := range pages {
		if errs[i] != nil {
			return Result{}, errs[i]
		}
		customers = append(customers, batches[i]...)
	}
	for page, more := p.Page+pages, mores[pages-1]; p.Last && more; page++ {
		var (
			batch []store.Customer
			err   error
		)
		if batch, more, _, err = read(page); err != nil {
			return Result{}, err
		}
		customers = append(customers, batch...)
	}
	summary, err := json.Marshal(map[string]int{"customers": len(customers)})
	if err != nil {
		return Result{}, err
	}
	save := func(ctx context.Context, tx *store.Tx) error {
		if err := tx.UpsertCustomers(ctx, customers); err != nil {
			return err
		}
		src := watch.Source{Via: "directory", Job: job.ID, RequestID: requestID[0], Addr: "job " + strconv.FormatInt(job.ID, 10)}
		if _, err := watch.Observe(ctx, tx, watchReads(customers), src); err != nil {
			return err
		}
		return forgetLeavers(ctx, tx, job.ID)
	}
	return Result{RequestID: requestID[0], Summary: summary, Save: save}, nil
}

// watchReads are the credit reads among customers stored, for the
// low-credit watch: a reseller's customers, whose credit the distributor
// cannot read, are left out.
func watchReads(customers []store.Customer) []watch.Seen {
	seen := make([]watch.Seen, 0, len(customers))
	for _, c := range customers {
		if c.Credit != "" && c.RemainingCredit != "" {
			seen = append(seen, watch.Seen{Uin: c.Uin, ResellerUin: c.ResellerUin, Credit: c.Credit, Remaining: c.RemainingCredit, AsOf: c.FetchedAt})
		}
	}
	return seen
}

// forgetLeavers deletes the customers a complete refresh did not see, which
// have left, when the item being saved is the refresh's last: the refresh
// planned every list itself (not the rest of a cancelled one), and every
// other item has finished ok. Items finish one transaction at a time, so
// exactly one sees that, and the deletion commits with it.
func forgetLeavers(ctx context.Context, tx *store.Tx, jobID int64) error {
	j, err := tx.JobByID(ctx, jobID)
	if err != nil {
		return err
	}
	if j.Planning || j.PlanCursor != directoryPlannedResellers || j.Failed+j.Unknown > 0 || j.Done != j.Total-1 || j.StartedAt.IsZero() {
		return nil
	}
	if _, err := tx.DeleteCustomersFetchedBefore(ctx, j.StartedAt); err != nil {
		return fmt.Errorf("directory job %d: %w", jobID, err)
	}
	return nil
}

// directPage reads one page of the partner's direct customers with their
// account details; more says whether the list goes on past it.
func directPage(ctx context.Context, c *partnerapi.Client, page int64) ([]store.Customer, bool, string, error) {
	resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: page, PageSize: directoryPageSize, Order: "asc"})
	if err != nil {
		return nil, false, "", err
	}
	customers := make([]store.Customer, len(resp.Data))
	for i, cu := range resp.Data {
		customers[i] = fromCreditListing(cu)
	}
	if err := addDetails(ctx, c, customers); err != nil {
		return nil, false, "", err
	}
	more := len(resp.Data) == directoryPageSize && uint64(page*directoryPageSize) < resp.Total
	return customers, more, resp.RequestId, nil
}

// indirectPage reads one page of a second-level reseller's customers.
// The distributor may list them but not read their details or credit
// (DescribeCustomerInfo refuses a customer that is not its own), so they
// carry what the listing gives: UIN, name and binding time.
func indirectPage(ctx context.Context, c *partnerapi.Client, resellerUin uint64, page int64) ([]store.Customer, bool, string, error) {
	resp, err := c.QueryT1IndirectCustomersDetail(ctx, &partnerapi.QueryT1IndirectCustomersDetailRequest{
		SubAgentUin: int64(resellerUin), Page: page, PageSize: directoryPageSize,
	})
	if err != nil {
		return nil, false, "", fmt.Errorf("customers of reseller %d: %w", resellerUin, err)
	}
	customers := make([]store.Customer, 0, len(resp.Data))
	for _, cu := range resp.Data {
		if cu.ClientUin > 0 {
			customers = append(customers, fromIndirectListing(resellerUin, cu))
		}
	}
	more := len(resp.Data) == directoryPageSize && page*directoryPageSize < resp.Total
	return customers, more, resp.RequestId, nil
}

// addDetails fills in what DescribeCustomerInfo tells about each customer,
// twenty UINs a call, the calls at once so that they wait on the action's
// budget together rather than one after another.
func addDetails(ctx context.Context, c *partnerapi.Client, customers []store.Customer) error {
	var (
		wg    sync.WaitGroup
		calls = (len(customers) + infoBatch - 1) / infoBatch
		infos = make([][]partnerapi.DescribeCustomerInfoData, calls)
		errs  = make([]error, calls)
	)
	for i := range calls {
		batch := customers[i*infoBatch : min((i+1)*infoBatch, len(customers))]
		uins := make([]int64, len(batch))
		for k, cu := range batch {
			uins[k] = int64(cu.Uin)
		}
		wg.Go(func() {
			info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: uins})
			if errs[i] = err; err == nil {
				infos[i] = info.Data
			}
		})
	}
	wg.Wait()
	byUin := make(map[uint64]*store.Customer, len(customers))
	for i := range customers {
		byUin[customers[i].Uin] = &customers[i]
	}
	for i := range calls {
		if errs[i] != nil {
			return errs[i]
		}
		for _, in := range infos[i] {
			uin, _ := strconv.ParseUint(in.CustomerUin, 10, 64)
			if cu, ok := byUin[uin]; ok {
				withDetails(cu, in)
			}
		}
	}
	return nil
}

// Reconcile is never needed for reads.
func (DirectoryRefresh) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (Reconciled, error) {
	return NotApplied, nil
}
