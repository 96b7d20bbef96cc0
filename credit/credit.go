// Package credit is the partner's credit as people look after it: the
// partner's own line, and every customer's credit from the customers table
// with those running low marked against the watch thresholds. Allocation
// builds on it.
package credit

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/customers"
	"resellerportal/dashboard"
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

// Service is the credit use cases.
type Service struct {
	figures        Figures
	customers      Customers
	customerCredit CustomerCredit
	pools          Pools
	writes         Writes
	ledger         Ledger
	batches        Batches
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
}

// New returns the credit service.
func New(o Options) *Service {
	return &Service{figures: o.Figures, customers: o.Customers, customerCredit: o.Customers, pools: o.Pools, writes: o.Writes, ledger: o.Ledger, batches: o.Batches}
}

// Level is how far a customer's available credit has run down.
type Level int

// The watch levels, from the default thresholds: 25 %, 10 % and 0 % of the
// customer's credit left.
const (
	LevelOK    Level = iota // more than 25 % left, or no credit line known
	Level25                 // 25 % or less left
	Level10                 // 10 % or less left
	LevelEmpty              // nothing left: services stop when it is set to 0
)

var (
	quarter = decimal.RequireFromString("0.25")
	tenth   = decimal.RequireFromString("0.10")
)

// LevelOf is the watch level of a credit line given as exact decimal text
// (the customers table's): "" for either is not known, LevelOK.
func LevelOf(credit, remaining string) Level {
	if credit == "" || remaining == "" {
		return LevelOK
	}
	c, err1 := decimal.NewFromString(credit)
	r, err2 := decimal.NewFromString(remaining)
	if err1 != nil || err2 != nil || !c.IsPositive() {
		return LevelOK
	}
	switch {
	case !r.IsPositive():
		return LevelEmpty
	case r.LessThanOrEqual(c.Mul(tenth)):
		return Level10
	case r.LessThanOrEqual(c.Mul(quarter)):
		return Level25
	}
	return LevelOK
}

// Share is the part of the credit still available, in per cent with one
// decimal ("12.5"), computed exactly; "" when not known.
func Share(credit, remaining string) string {
	c, err1 := decimal.NewFromString(credit)
	r, err2 := decimal.NewFromString(remaining)
	if credit == "" || remaining == "" || err1 != nil || err2 != nil || !c.IsPositive() {
		return ""
	}
	return r.Mul(decimal.NewFromInt(100)).DivRound(c, 1).StringFixed(1)
}

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
	for _, c := range list.Customers {
		o.Levels = append(o.Levels, LevelOf(c.Credit, c.RemainingCredit))
	}
	return o, nil
}
