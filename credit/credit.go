// Package credit is the partner's credit as people look after it: the
// partner's own line, and every customer's credit from the customers table
// with those running low marked against their watch thresholds (package
// watch). Allocation builds on it.
package credit

import (
	"context"
	"fmt"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/customers"
	"resellerportal/dashboard"
	"resellerportal/store"
	"resellerportal/watch"
)

// Figures reads the partner's credit line (the dashboard's figures) and
// drops it from the cache after an allocation.
type Figures interface {
	Figures(ctx context.Context, actor audit.Actor, mode apicache.Mode) (dashboard.Figures, error)
	Forget()
}

// Customers lists customers from the table the directory refresh fills.
type Customers interface {
	ParseQuery(actor audit.Actor, q customers.Query) (customers.Filters, error)
	Search(ctx context.Context, actor audit.Actor, f customers.Filters) (customers.Listing, error)
}

// Thresholds reads customers' low-credit watch: their thresholds, and the
// latest read of the credit of those past one.
type Thresholds interface {
	ThresholdsOf(ctx context.Context, uins []uint64) (map[uint64]watch.Thresholds, error)
	StatesOf(ctx context.Context, uins []uint64) (map[uint64]store.WatchState, error)
}

// Service is the credit use cases.
type Service struct {
	figures        Figures
	customers      Customers
	customerCredit CustomerCredit
	pools          Pools
	writes         Writes
	ledger         Ledger
	batches        Batches
	thresholds     Thresholds
	approvals      Approvals
}

// Options are the credit service's dependencies.
type Options struct {
	Figures Figures
	// Customers is the customers service: the list and one customer's
	// credit line.
	Customers interface {
		Customers
		CustomerCredit
	}
	Pools   Pools
	Writes  Writes
	Ledger  Ledger
	Batches Batches
	// Thresholds are the customers' low-credit watch thresholds.
	Thresholds Thresholds
	// Approvals reads what four-eyes approval decides take-backs on; nil
	// when there is no four-eyes approval.
	Approvals Approvals
}

// New returns the credit service.
func New(o Options) *Service {
	return &Service{figures: o.Figures, customers: o.Customers, customerCredit: o.Customers, pools: o.Pools, writes: o.Writes, ledger: o.Ledger, batches: o.Batches, thresholds: o.Thresholds, approvals: o.Approvals}
}

// Level is where a customer's available credit stands against its watch
// thresholds (the defaults, 25 %, 10 % and 0 % of its credit, unless its
// settings switch them off, and its custom ones).
type Level = watch.Level

// LevelOf is the watch level of a credit line given as exact decimal text
// (the customers table's) against the customer's thresholds: "" for either
// is not known, and fine.
func LevelOf(credit, remaining string, t watch.Thresholds) Level {
	return watch.Evaluate(credit, remaining, t)
}

// Share is the part of the credit still available, in per cent with one
// decimal ("12.5"), computed exactly; "" when not known.
func Share(credit, remaining string) string { return watch.Share(credit, remaining) }

// Overview is the credit page: the partner's line and a page of customers
// with their levels.
type Overview struct {
	Partner apicache.Figure[dashboard.Credit]
	// ThroughDistributor: a reseller's login without its own key sees its
	// pool as the distributor sees it.
	ThroughDistributor bool
	Listing            customers.Listing
	Levels             []Level // one per Listing.Customers row
}

// ErrForbidden is the refusal of someone who may not see credit.
var ErrForbidden = apperr.New(apperr.Forbidden, "", "credit.forbidden")

// ParseQuery checks the credit list's form: the customers list's, sorted by
// available credit (the lowest first) unless it says otherwise, and for the
// partner's people its direct customers, whose credit lines it holds.
func (s *Service) ParseQuery(actor audit.Actor, q customers.Query) (customers.Filters, error) {
	if !actor.Can(auth.ViewCredit) {
		return customers.Filters{}, ErrForbidden
	}
	if q.Sort == "" {
		q.Sort = "remaining_credit"
	}
	if q.Reseller == "" && actor.OnBehalfOf() == 0 {
		q.Reseller = "direct"
	}
	return s.customers.ParseQuery(actor, q)
}

// Overview reads the partner's credit line through the cache and a page of
// customers from the table.
func (s *Service) Overview(ctx context.Context, actor audit.Actor, mode apicache.Mode, f customers.Filters) (Overview, error) {
	if !actor.Can(auth.ViewCredit) {
		return Overview{}, ErrForbidden
	}
	figs, err := s.figures.Figures(ctx, actor, mode)
	if err != nil {
		return Overview{}, fmt.Errorf("credit overview: %w", err)
	}
	list, err := s.customers.Search(ctx, actor, f)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{Partner: figs.Credit, ThroughDistributor: figs.ThroughDistributor, Listing: list}
	uins := make([]uint64, len(list.Customers))
	for i, c := range list.Customers {
		uins[i] = c.Uin
	}
	th, err := s.thresholds.ThresholdsOf(ctx, uins)
	if err != nil {
		return Overview{}, fmt.Errorf("credit overview: %w", err)
	}
	states, err := s.thresholds.StatesOf(ctx, uins)
	if err != nil {
		return Overview{}, fmt.Errorf("credit overview: %w", err)
	}
	for i, c := range list.Customers {
		if st, ok := states[c.Uin]; ok && (c.Credit == "" || !st.AsOf.Before(c.FetchedAt)) {
			// The watch read the credit since the table did (the
			// customer's page), or the table cannot know it (a reseller's
			// customer, read with the reseller's key): the newer figures.
			c.Credit, c.RemainingCredit = st.Credit, st.Remaining
			o.Listing.Customers[i] = c
		}
		o.Levels = append(o.Levels, LevelOf(c.Credit, c.RemainingCredit, th[c.Uin]))
	}
	return o, nil
}
