// Package dashboard is the partner's figures at a glance: credit, the
// voucher pool and the applications waiting for a decision. Every figure is
// read through the API cache, so a dashboard view spends no partner API
// call while its figures are fresh, and fifty people opening it at once
// share one call per figure.
package dashboard

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"resellerportal/apicache"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
)

// Clients gives partner API clients for the people the dashboard serves.
type Clients interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	ForSubagent(ctx context.Context, subagentUin uint64) (c *partnerapi.Client, own bool, err error)
}

// Figure is one value on the dashboard with its age.
type Figure[T any] = apicache.Figure[T]

// Credit is the partner's credit.
type Credit struct {
	Total, Allocated, Remaining partnerapi.Amount
}

// Vouchers is the partner's voucher pool.
type Vouchers struct {
	Total, Remaining partnerapi.Amount
	Issued           *int64 // nil when the API does not tell (a reseller seen through the distributor)
}

// Figures is the whole dashboard.
type Figures struct {
	Credit           Figure[Credit]
	Vouchers         Figure[Vouchers]
	PendingCustomers Figure[int64]
	// PendingResellers is shown only to people who see resellers.
	PendingResellers Figure[int64]
	ShowResellers    bool
	// ThroughDistributor: a reseller login without its own key sees its
	// figures through the distributor's view of it; its applications cannot
	// be counted that way.
	ThroughDistributor bool
	Now                time.Time
}

// Stale reports whether any shown figure is stale or still pending, so the
// page asks for fresh ones in the background.
func (f Figures) Stale() bool {
	const k = apicache.Figures
	s := f.Credit.Stale(k, f.Now) || f.Vouchers.Stale(k, f.Now) || f.Credit.Pending || f.Vouchers.Pending
	if !f.ThroughDistributor {
		s = s || f.PendingCustomers.Pending || (f.PendingCustomers.Stale(k, f.Now) && !unavailable(f.PendingCustomers.Err))
	}
	if f.ShowResellers {
		s = s || f.PendingResellers.Pending || f.PendingResellers.Stale(k, f.Now)
	}
	return s
}

func unavailable(err error) bool {
	return partnerapi.NotAllowlisted(partnerapi.ActionQueryPendingClientsV2, err)
}

// Service reads the figures.
type Service struct {
	clients Clients
	cache   *apicache.Cache
}

// New returns the dashboard service over the shared API cache.
func New(clients Clients, cache *apicache.Cache) *Service {
	return &Service{clients: clients, cache: cache}
}

// ErrForbidden is returned to someone who may not see the dashboard.
var ErrForbidden = errors.New("may not view the dashboard")

// Figures reads the dashboard for actor; each figure carries its own age
// and failure.
func (s *Service) Figures(ctx context.Context, actor audit.Actor, mode apicache.Mode) (Figures, error) {
	if !actor.Can(auth.ViewDashboard) {
		return Figures{}, ErrForbidden
	}
	f := Figures{ShowResellers: actor.Can(auth.ViewSubagents), Now: s.cache.Now()}
	var client *partnerapi.Client
	var err error
	own := true
	if actor.Role == auth.RoleSubagent {
		client, own, err = s.clients.ForSubagent(ctx, actor.SubagentUin)
	} else {
		client, err = s.clients.Distributor(ctx)
	}
	if err != nil {
		f.Credit.Err, f.Vouchers.Err, f.PendingCustomers.Err, f.PendingResellers.Err = err, err, err, err
		return f, nil
	}
	if !own {
		f.ThroughDistributor = true
		s.resellerFigures(ctx, client, actor.SubagentUin, mode, &f)
		return f, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		f.Credit = read(ctx, s, client, mode, partnerapi.ActionQueryPartnerCredit, nil, func(ctx context.Context) (Credit, error) {
			r, err := client.QueryPartnerCredit(ctx, nil)
			if err != nil {
				return Credit{}, err
			}
			return Credit{Total: r.TotalCredit, Allocated: r.AllocatedCredit, Remaining: r.RemainingCredit}, nil
		})
	})
	wg.Go(func() {
		f.Vouchers = read(ctx, s, client, mode, partnerapi.ActionQueryVoucherPool, nil, func(ctx context.Context) (Vouchers, error) {
			r, err := client.QueryVoucherPool(ctx, nil)
			if err != nil {
				return Vouchers{}, err
			}
			issued := r.IssuedNum
			return Vouchers{Total: r.TotalQuota, Remaining: r.RemainingQuota, Issued: &issued}, nil
		})
	})
	wg.Go(func() {
		req := &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 1}
		f.PendingCustomers = read(ctx, s, client, mode, partnerapi.ActionQueryPendingClientsV2, req, func(ctx context.Context) (int64, error) {
			r, err := client.QueryPendingClientsV2(ctx, req)
			if err != nil {
				return 0, err
			}
			return r.Total, nil
		})
	})
	if f.ShowResellers {
		wg.Go(func() {
			req := &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 1}
			f.PendingResellers = read(ctx, s, client, mode, partnerapi.ActionQueryPendingSubAgentsV2, req, func(ctx context.Context) (int64, error) {
				r, err := client.QueryPendingSubAgentsV2(ctx, req)
				if err != nil {
					return 0, err
				}
				return r.Total, nil
			})
		})
	}
	wg.Wait()
	return f, nil
}

// resellerFigures reads a reseller's credit and vouchers from the
// distributor's list of its resellers.
func (s *Service) resellerFigures(ctx context.Context, client *partnerapi.Client, uin uint64, mode apicache.Mode, f *Figures) {
	req := &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 1, FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10)}
	type reseller struct {
		Credit   Credit
		Vouchers Vouchers
	}
	r := read(ctx, s, client, mode, partnerapi.ActionQuerySubAgentsDetailV2, req, func(ctx context.Context) (reseller, error) {
		resp, err := client.QuerySubAgentsDetailV2(ctx, req)
		if err != nil {
			return reseller{}, err
		}
		for _, d := range resp.Data {
			if uint64(d.SubAgentUin) != uin {
				continue
			}
			allocated := partnerapi.AmountFromDecimal(d.Credit.Decimal().Sub(d.RemainingCredit.Decimal()))
			return reseller{
				Credit:   Credit{Total: d.Credit, Allocated: allocated, Remaining: d.RemainingCredit},
				Vouchers: Vouchers{Total: d.Voucher, Remaining: d.RemainingVoucher},
			}, nil
		}
		return reseller{}, &partnerapi.APIError{Code: "FailedOperation.InvalidSubAgentUin", RequestId: resp.RequestId}
	})
	f.Credit = Figure[Credit]{FetchedAt: r.FetchedAt, Err: r.Err, Pending: r.Pending}
	f.Vouchers = Figure[Vouchers]{FetchedAt: r.FetchedAt, Err: r.Err, Pending: r.Pending}
	if r.Value != nil {
		f.Credit.Value, f.Vouchers.Value = &r.Value.Credit, &r.Value.Vouchers
	}
}

// read reads one figure through the cache with the client's credential.
func read[T any](ctx context.Context, s *Service, c *partnerapi.Client, mode apicache.Mode, action string, params any, call func(context.Context) (T, error)) Figure[T] {
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, action, params, call)
}

// Forget drops the cached credit figures, after an allocation changed them.
func (s *Service) Forget() {
	s.cache.Invalidate(func(k apicache.Key) bool {
		return k.Action == partnerapi.ActionQueryPartnerCredit || k.Action == partnerapi.ActionQuerySubAgentsDetailV2
	})
}
