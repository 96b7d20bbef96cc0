package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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
	AccountStatus   string
	AuthStatus      string
}

// DirectoryRefresh refreshes the customer directory, a page at a time.
type DirectoryRefresh struct {
	DB  *store.DB
	Now func() time.Time // clock for the cache's "as of"; time.Now when nil
}

// Name is the stored kind name.
func (DirectoryRefresh) Name() string { return "directory.refresh" }

// Writes is false: the directory only reads.
func (DirectoryRefresh) Writes() bool { return false }

// Concurrency lets two pages be read at once.
func (DirectoryRefresh) Concurrency() int { return 2 }

type directoryPage struct {
	Page int64
}

// PlanDirectory asks for the number of customers and returns one item per page.
func PlanDirectory(ctx context.Context, c *partnerapi.Client) ([]Item, error) {
	first, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil {
		return nil, fmt.Errorf("count customers: %w", err)
	}
	pages := (int64(first.Total) + directoryPageSize - 1) / directoryPageSize
	items := make([]Item, 0, pages)
	for p := int64(1); p <= pages; p++ {
		payload, _ := json.Marshal(directoryPage{Page: p})
		items = append(items, Item{Key: "page " + strconv.FormatInt(p, 10), Payload: payload})
	}
	return items, nil
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
	// DescribeCustomerInfo takes at most 20 UINs a call.
	for start := 0; start < len(uins); start += 20 {
		batch := uins[start:min(start+20, len(uins))]
		info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: batch})
		if err != nil {
			return Result{}, err
		}
		for _, in := range info.Data {
			uin, _ := strconv.ParseUint(in.CustomerUin, 10, 64)
			if e, ok := entries[uin]; ok {
				e.AccountStatus, e.AuthStatus = in.AccountStatus, in.AuthStatus
			}
		}
	}
	now := clockNow(d.Now)
	err = d.DB.Write(ctx, func(tx *store.Tx) error {
		for uin, e := range entries {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := tx.CachePut(ctx, CacheCustomer, strconv.FormatUint(uin, 10), b, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	summary, _ := json.Marshal(map[string]int{"customers": len(entries)})
	return Result{RequestID: page.RequestId, Summary: summary}, nil
}

// Reconcile is never needed for reads.
func (DirectoryRefresh) Reconcile(context.Context, *partnerapi.Client, store.Job, store.JobItem) (Reconciled, error) {
	return NotApplied, nil
}
