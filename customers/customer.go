package customers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// HistoryPageSize is how many credit allocations a page of the history shows.
const HistoryPageSize = 20

// MaxHistoryPage bounds the history page a person may ask for.
const MaxHistoryPage = 1000

// AuditRows is how many of the customer's latest audit rows its page shows.
const AuditRows = 20

// History is one page of a customer's credit allocation history.
type History struct {
	Entries []partnerapi.QueryCreditAllocationHistoryData
	Total   uint64
}

// Detail is one customer's page: what the table holds, and each read of
// the partner API with its own age and failure.
type Detail struct {
	Row      store.Customer
	Info     apicache.Figure[partnerapi.DescribeCustomerInfoData]
	Verified apicache.Figure[bool]
	Credit   apicache.Figure[partnerapi.QueryDirectCustomersCreditData]
	History  apicache.Figure[History]
	// HistoryPage is the page of the history shown, from 1.
	HistoryPage  int
	VoucherQuota apicache.Figure[partnerapi.QueryVoucherAmountByUinItem]
	Vouchers     apicache.Figure[partnerapi.QueryVoucherListByUinItem]
	// Audit is the customer's latest audit rows the viewer may see; more
	// when there are older ones.
	Audit     []store.AuditEntry
	AuditMore bool
	// CanWrite: the viewer may change this customer (remark, suspension).
	CanWrite bool
	// Blocked says why the customer cannot be read or changed through the
	// partner API (a reseller's customer without that reseller's key).
	Blocked error
	Month   string // the current month, which Row.Spend is of when Row.SpendMonth equals it
	Now     time.Time
	// Watch is where the customer stands in the low-credit watch after
	// this read of its credit: nil when past no threshold.
	Watch *store.WatchState
}

// Stale reports whether any read is older than its freshness or pending,
// so the page asks for fresh ones in the background.
func (d Detail) Stale() bool {
	if d.Blocked != nil {
		return false
	}
	const k = apicache.Customer
	return d.Info.Stale(k, d.Now) || d.Info.Pending || d.Verified.Stale(k, d.Now) || d.Verified.Pending ||
		d.Credit.Stale(k, d.Now) || d.Credit.Pending || d.History.Stale(k, d.Now) || d.History.Pending ||
		d.VoucherQuota.Stale(k, d.Now) || d.VoucherQuota.Pending || d.Vouchers.Stale(k, d.Now) || d.Vouchers.Pending
}

// errNotFound is the answer for a UIN that is not the partner's customer,
// or not the viewer's reseller's: the two look the same.
func errNotFound(uin uint64, cause error) error {
	return apperr.New(apperr.NotFound, "", msgNotFound).With(map[string]any{"Uin": uin}).Because(fmt.Errorf("customer %d: %w", uin, cause))
}

// owners adapts the table to authorization's view of customer owners.
type owners struct{ db *store.DB }

func (o owners) CustomerOwner(ctx context.Context, uin uint64) (uint64, error) {
	owner, err := o.db.CustomerOwner(ctx, uin)
	if errors.Is(err, store.ErrNotFound) {
		return 0, auth.ErrUnknownCustomer
	}
	return owner, err
}

// lookupKey is the cache key's parameters of a customer looked up because
// the table does not hold it: failures are remembered, so a bad UIN typed
// again and again costs one lookup a while.
type lookupKey struct{ Uin uint64 }

// customer returns the customer the actor asks for, if they may see it.
// A customer the table does not hold yet (bound since the last refresh) is
// read from the partner API once and stored.
func (s *Service) customer(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error) {
	if err := mayView(actor); err != nil {
		return store.Customer{}, err
	}
	if uin == 0 {
		return store.Customer{}, errNotFound(uin, errors.New("no UIN"))
	}
	row, err := s.db.CustomerByUin(ctx, uin)
	if errors.Is(err, store.ErrNotFound) {
		row, err = s.lookup(ctx, uin)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Customer{}, errNotFound(uin, err)
		}
		return store.Customer{}, err
	}
	if err := auth.AuthorizeCustomer(ctx, actor.Principal, uin, owners{s.db}); err != nil {
		if errors.Is(err, auth.ErrForbidden) {
			return store.Customer{}, errNotFound(uin, err)
		}
		return store.Customer{}, err
	}
	return row, nil
}

// lookup reads a customer the table does not hold, through the cache.
func (s *Service) lookup(ctx context.Context, uin uint64) (store.Customer, error) {
	c, err := s.clients.Distributor(ctx)
	if err != nil {
		return store.Customer{}, err
	}
	f := apicache.Read(ctx, s.cache, c.SecretID(), apicache.Customer, apicache.Fresh, "portal.LookupCustomer", lookupKey{uin},
		func(ctx context.Context) (store.Customer, error) { return jobs.RefreshCustomer(ctx, c, s.db, uin) })
	switch {
	case f.Value != nil:
		return *f.Value, nil
	case f.Err != nil:
		return store.Customer{}, f.Err
	}
	// Still asking Tencent Cloud: the lookup goes on and fills the table.
	return store.Customer{}, apperr.New(apperr.Busy, "", msgLookingUp).With(map[string]any{"Uin": uin}).Because(apicache.ErrPending)
}

// clientFor returns the client a customer is read and changed with: the
// distributor's for a direct customer, its reseller's own key for a
// reseller's.
func (s *Service) clientFor(ctx context.Context, row store.Customer) (*partnerapi.Client, error) {
	if row.ResellerUin == 0 {
		return s.clients.Distributor(ctx)
	}
	return s.clients.ActAs(ctx, row.ResellerUin)
}

// mayWrite reports whether the actor may change customers at all.
func mayWrite(actor audit.Actor) bool { return actor.Can(auth.WriteCustomers) }

// customerParams keys a customer page's reads in the cache: Invalidate
// finds every read of one customer by its prefix.
type customerParams struct {
	Uin  uint64
	Page int `json:",omitempty"`
}

func customerPrefix(uin uint64) string { return `{"Uin":` + strconv.FormatUint(uin, 10) }

// forget drops the cached reads of a customer, after a write changed it.
func (s *Service) forget(uin uint64) {
	prefix := customerPrefix(uin)
	s.cache.Invalidate(func(k apicache.Key) bool {
		return strings.HasPrefix(k.Action, "customer.") && (k.Params == prefix+"}" || strings.HasPrefix(k.Params, prefix+","))
	})
}

// Customer reads one customer's page. mode says how fresh its reads must
// be; historyPage is the page of the allocation history (1 when 0).
func (s *Service) Customer(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode, historyPage int) (Detail, error) {
	if historyPage == 0 {
		historyPage = 1
	}
	if historyPage < 1 || historyPage > MaxHistoryPage {
		return Detail{}, apperr.InvalidField("hpage", msgBadPage).With(map[string]any{"Max": MaxHistoryPage})
	}
	row, err := s.customer(ctx, actor, uin)
	if err != nil {
		return Detail{}, err
	}
	now := s.now()
	d := Detail{Row: row, HistoryPage: historyPage, CanWrite: mayWrite(actor), Month: now.UTC().Format("2006-01"), Now: now}
	if err := s.readAudit(ctx, actor, &d); err != nil {
		return Detail{}, err
	}
	c, err := s.clientFor(ctx, row)
	if err != nil {
		// No key to read it with: the page shows the table's row and why.
		d.Blocked = err
		return d, nil
	}
	id := c.SecretID()
	var wg sync.WaitGroup
	wg.Go(func() {
		req := &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{int64(uin)}}
		d.Info = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "customer.info", customerParams{Uin: uin},
			func(ctx context.Context) (partnerapi.DescribeCustomerInfoData, error) {
				r, err := c.DescribeCustomerInfo(ctx, req)
				if err != nil {
					return partnerapi.DescribeCustomerInfoData{}, err
				}
				for _, x := range r.Data {
					if x.CustomerUin == strconv.FormatUint(uin, 10) {
						return x, nil
					}
				}
				return partnerapi.DescribeCustomerInfoData{}, &partnerapi.APIError{Action: partnerapi.ActionDescribeCustomerInfo,
					Code: "UnauthorizedOperation.NotCustomerUin", RequestId: r.RequestId}
			})
	})
	wg.Go(func() {
		d.Verified = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "customer.verification", customerParams{Uin: uin},
			func(ctx context.Context) (bool, error) {
				r, err := c.QueryAccountVerificationStatus(ctx, &partnerapi.QueryAccountVerificationStatusRequest{ClientUin: int64(uin)})
				if err != nil {
					return false, err
				}
				return r.AccountStatus, nil
			})
	})
	wg.Go(func() { d.Credit = readCredit(ctx, s.cache, c, mode, uin) })
	wg.Go(func() {
		d.History = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "customer.history", customerParams{Uin: uin, Page: historyPage},
			func(ctx context.Context) (History, error) {
				r, err := c.QueryCreditAllocationHistory(ctx, &partnerapi.QueryCreditAllocationHistoryRequest{
					ClientUin: uin, Page: uint64(historyPage), PageSize: HistoryPageSize})
				if err != nil {
					return History{}, err
				}
				return History{Entries: r.History, Total: r.Total}, nil
			})
	})
	wg.Go(func() {
		d.VoucherQuota = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "customer.voucher_quota", customerParams{Uin: uin},
			func(ctx context.Context) (partnerapi.QueryVoucherAmountByUinItem, error) {
				r, err := c.QueryVoucherAmountByUin(ctx, &partnerapi.QueryVoucherAmountByUinRequest{ClientUins: []uint64{uin}})
				if err != nil {
					return partnerapi.QueryVoucherAmountByUinItem{}, err
				}
				for _, x := range r.Data {
					if uint64(x.ClientUin) == uin {
						return x, nil
					}
				}
				return partnerapi.QueryVoucherAmountByUinItem{ClientUin: int64(uin)}, nil
			})
	})
	wg.Go(func() {
		d.Vouchers = apicache.Read(ctx, s.cache, id, apicache.Customer, mode, "customer.vouchers", customerParams{Uin: uin},
			func(ctx context.Context) (partnerapi.QueryVoucherListByUinItem, error) {
				r, err := c.QueryVoucherListByUin(ctx, &partnerapi.QueryVoucherListByUinRequest{ClientUins: []uint64{uin}})
				if err != nil {
					return partnerapi.QueryVoucherListByUinItem{}, err
				}
				for _, x := range r.Data {
					if uint64(x.ClientUin) == uin {
						return x, nil
					}
				}
				return partnerapi.QueryVoucherListByUinItem{ClientUin: int64(uin)}, nil
			})
	})
	wg.Wait()
	if err := s.noticeCredit(ctx, actor, &d); err != nil {
		return Detail{}, err
	}
	return d, nil
}

// noticeCredit hands the page's read of the customer's credit to the
// low-credit watch, unless the table's row is newer than the (cached)
// read, and fills in where the customer stands.
func (s *Service) noticeCredit(ctx context.Context, actor audit.Actor, d *Detail) error {
	if v := d.Credit.Value; v != nil && !d.Credit.FetchedAt.Before(d.Row.FetchedAt) {
		seen := watch.Seen{Uin: d.Row.Uin, ResellerUin: d.Row.ResellerUin, Credit: v.TotalCredit.String(),
			Remaining: v.RemainingCredit.String(), AsOf: d.Credit.FetchedAt}
		if err := watch.Notice(ctx, s.db, seen, watch.Source{Via: "customer page", Addr: actor.Addr}); err != nil {
			return fmt.Errorf("watch customer %d: %w", d.Row.Uin, err)
		}
	}
	state, err := s.db.WatchState(ctx, d.Row.Uin)
	switch {
	case err == nil:
		d.Watch = &state
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return nil
}

// readAudit fills the customer's latest audit rows the viewer may see: a
// delegated login sees what was done on its reseller's behalf.
func (s *Service) readAudit(ctx context.Context, actor audit.Actor, d *Detail) error {
	limit := AuditRows
	reseller := actor.OnBehalfOf()
	if reseller != 0 {
		limit = store.MaxAuditLimit
	}
	rows, more, err := s.db.QueryAudit(ctx, store.AuditFilter{TargetUin: d.Row.Uin, Limit: limit})
	if err != nil {
		return fmt.Errorf("audit trail of customer %d: %w", d.Row.Uin, err)
	}
	for _, e := range rows {
		if reseller != 0 && e.OnBehalfOf != reseller {
			continue
		}
		if len(d.Audit) == AuditRows {
			d.AuditMore = true
			break
		}
		d.Audit = append(d.Audit, e)
	}
	d.AuditMore = d.AuditMore || (more && reseller == 0)
	return nil
}

// Row returns the customer as the table holds it, if the actor may see it.
func (s *Service) Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error) {
	return s.customer(ctx, actor, uin)
}

// readCredit reads a customer's credit line through the cache.
func readCredit(ctx context.Context, cache *apicache.Cache, c *partnerapi.Client, mode apicache.Mode, uin uint64) apicache.Figure[partnerapi.QueryDirectCustomersCreditData] {
	return apicache.Read(ctx, cache, c.SecretID(), apicache.Customer, mode, "customer.credit", customerParams{Uin: uin},
		func(ctx context.Context) (partnerapi.QueryDirectCustomersCreditData, error) {
			r, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{uin}})
			if err != nil {
				return partnerapi.QueryDirectCustomersCreditData{}, err
			}
			for _, x := range r.Data {
				if x.Uin == uin {
					return x, nil
				}
			}
			return partnerapi.QueryDirectCustomersCreditData{}, &partnerapi.APIError{Action: partnerapi.ActionQueryCreditByUinList,
				Code: "UnauthorizedOperation.NotCustomerUin", RequestId: r.RequestId}
		})
}

// Credit reads the credit line of a customer the actor may see, through
// the cache at mode: the table's row, and the line as the API answers it
// (Blocked when there is no key to read it with).
func (s *Service) Credit(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode) (store.Customer, apicache.Figure[partnerapi.QueryDirectCustomersCreditData], error) {
	var none apicache.Figure[partnerapi.QueryDirectCustomersCreditData]
	row, err := s.customer(ctx, actor, uin)
	if err != nil {
		return store.Customer{}, none, err
	}
	c, err := s.clientFor(ctx, row)
	if err != nil {
		return row, none, err
	}
	return row, readCredit(ctx, s.cache, c, mode, uin), nil
}

// Forget drops the cached reads of a customer after something changed it
// (a credit allocation).
func (s *Service) Forget(uin uint64) { s.forget(uin) }
