// Package resellers is the distributor's view of its second-level
// resellers: the list with its filters (QuerySubAgentsDetailV2), and one
// reseller with its customers (QueryT1IndirectCustomersDetail) and their
// credit as the reseller itself sees it (QueryDirectCustomersCredit, with
// the reseller's own key). Everything is read through the API cache, so a
// page view spends no partner API call while its data is fresh.
package resellers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
)

// Clients gives the partner API clients the pages read with.
type Clients interface {
	// Distributor acts as the distributor.
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	// ActAs acts as a second-level reseller with its own stored key, or
	// fails with keyring.ErrNoResellerKey.
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// The filters QuerySubAgentsDetailV2 documents.
var FilterTypes = []string{"Name", "SubAgentUin", "Remark", "Mobile", "Email", "ClientUin"}

// The orders by binding time.
const (
	Newest = "desc"
	Oldest = "asc"
)

// Bounds of the pages and their inputs.
const (
	// PageSize is how many resellers, or a reseller's customers, a page shows.
	PageSize = 20
	// MaxPage is the furthest page anyone may ask for.
	MaxPage = 10000
	// MaxFilter is the longest filter text, in characters (an email
	// address may be longer: MaxEmail).
	MaxFilter = 100
	MaxEmail  = 254
	// DelegatedLoginDays is how long the delegated login offered from a
	// reseller's page lasts by default.
	DelegatedLoginDays = 90
)

// Message ids of the service's errors.
const (
	msgForbidden    = "resellers.forbidden"
	msgBadFilter    = "resellers.bad_filter_type"
	msgFilterNeeds  = "resellers.filter_needs_type"
	msgFilterLong   = "resellers.filter_too_long"
	msgFilterBad    = "resellers.filter_invalid"
	msgFilterUin    = "resellers.filter_uin"
	msgBadOrder     = "resellers.bad_order"
	msgBadPage      = "resellers.bad_page"
	msgNotFound     = "resellers.not_found"
	msgStillReading = "resellers.still_reading"
)

// Service reads second-level resellers for the distributor's people.
type Service struct {
	clients Clients
	cache   *apicache.Cache
}

// New returns the resellers service over the shared API cache.
func New(clients Clients, cache *apicache.Cache) *Service {
	return &Service{clients: clients, cache: cache}
}

// may checks that the actor sees resellers: the distributor's own people
// with the permission, never a reseller's login.
func may(actor audit.Actor) error {
	if !actor.Can(auth.ViewSubagents) || actor.OnBehalfOf() != 0 {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// Reseller is one second-level reseller as QuerySubAgentsDetailV2 lists it.
type Reseller struct {
	Uin              uint64
	Name             string
	Remark           string
	Mobile           string
	Email            string
	Customers        int64 // the API's count of its customers
	Bound            time.Time
	BoundText        string // the API's text when it could not be read as a time
	Credit           partnerapi.Amount
	RemainingCredit  partnerapi.Amount
	Voucher          partnerapi.Amount
	RemainingVoucher partnerapi.Amount
}

func fromListing(d partnerapi.QuerySubAgentsDetailV2ResponseData) Reseller {
	at, text := apiTime(d.BindTime)
	return Reseller{Uin: uint64(max(d.SubAgentUin, 0)), Name: d.Name, Remark: d.Remark, Mobile: d.Mobile, Email: d.Email,
		Customers: d.CountOfCustomers, Bound: at, BoundText: text, Credit: d.Credit, RemainingCredit: d.RemainingCredit,
		Voucher: d.Voucher, RemainingVoucher: d.RemainingVoucher}
}

// Query is the list's filter, order and page, checked.
type Query struct {
	FilterType string // one of FilterTypes, or "" for none
	Filter     string
	Order      string // Newest or Oldest
	Page       int
}

// ListInput is the list's query as typed.
type ListInput struct {
	FilterType, Filter, Order, Page string
}

// ListPage is one page of the list.
type ListPage struct {
	Rows  []Reseller
	Total int64
}

// List is the resellers page: the query and what it found, with its age.
type List struct {
	Query  Query
	Result apicache.Figure[ListPage]
	Now    time.Time
}

// checkQuery bounds the list's inputs; every bad field is reported.
func checkQuery(in ListInput) (Query, error) {
	q := Query{FilterType: strings.TrimSpace(in.FilterType), Filter: strings.TrimSpace(in.Filter), Order: strings.TrimSpace(in.Order), Page: 1}
	var errs []error
	if q.FilterType != "" && !contains(FilterTypes, q.FilterType) {
		errs = append(errs, apperr.InvalidField("filter_type", msgBadFilter))
	}
	limit := MaxFilter
	if q.FilterType == "Email" {
		limit = MaxEmail
	}
	switch {
	case !utf8.ValidString(q.Filter) || strings.ContainsFunc(q.Filter, unicode.IsControl):
		errs = append(errs, apperr.InvalidField("filter", msgFilterBad))
	case utf8.RuneCountInString(q.Filter) > limit:
		errs = append(errs, apperr.InvalidField("filter", msgFilterLong).With(map[string]any{"Max": limit}))
	case q.Filter != "" && q.FilterType == "":
		errs = append(errs, apperr.InvalidField("filter_type", msgFilterNeeds))
	case q.Filter != "" && (q.FilterType == "SubAgentUin" || q.FilterType == "ClientUin"):
		if _, ok := ParseUin(q.Filter); !ok {
			errs = append(errs, apperr.InvalidField("filter", msgFilterUin))
		}
	}
	switch q.Order {
	case "":
		q.Order = Newest
	case Newest, Oldest:
	default:
		errs = append(errs, apperr.InvalidField("order", msgBadOrder))
	}
	if p, err := pageNumber(in.Page); err != nil {
		errs = append(errs, err)
	} else {
		q.Page = p
	}
	if len(errs) > 0 {
		return q, errors.Join(errs...)
	}
	if q.Filter == "" {
		q.FilterType = "" // a filter type without a value filters nothing
	}
	return q, nil
}

// pageNumber reads a page number: 1 when empty, else 1 to MaxPage.
func pageNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > MaxPage {
		return 0, apperr.InvalidField("page", msgBadPage).With(map[string]any{"Max": MaxPage})
	}
	return p, nil
}

// ParseUin reads a UIN: 1 to 20 digits, not 0.
func ParseUin(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 20 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	uin, err := strconv.ParseUint(s, 10, 64)
	return uin, err == nil && uin != 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// List reads one page of the distributor's second-level resellers, with
// the filter and order asked for. Bad input is refused before anything is
// read.
func (s *Service) List(ctx context.Context, actor audit.Actor, in ListInput, mode apicache.Mode) (List, error) {
	if err := may(actor); err != nil {
		return List{}, err
	}
	q, err := checkQuery(in)
	if err != nil {
		return List{Query: q}, err
	}
	l := List{Query: q, Now: s.cache.Now()}
	c, err := s.clients.Distributor(ctx)
	if err != nil {
		l.Result = apicache.Failed[ListPage](err)
		return l, nil
	}
	req := partnerapi.QuerySubAgentsDetailV2Request{Page: int64(q.Page), PageSize: PageSize, FilterType: q.FilterType, Filter: q.Filter, Order: q.Order}
	l.Result = apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, partnerapi.ActionQuerySubAgentsDetailV2, req,
		func(ctx context.Context) (ListPage, error) {
			resp, err := c.QuerySubAgentsDetailV2(ctx, &req)
			if err != nil {
				return ListPage{}, err
			}
			p := ListPage{Total: resp.Total, Rows: make([]Reseller, 0, len(resp.Data))}
			for _, d := range resp.Data {
				p.Rows = append(p.Rows, fromListing(d))
			}
			return p, nil
		})
	return l, nil
}

// Customer is one customer of a reseller, with its credit when the
// reseller's own key could tell it.
type Customer struct {
	Uin       uint64
	Name      string
	Bound     time.Time
	BoundText string
	// Credit is nil when not known.
	Credit *CreditLine
}

// CreditLine is a customer's credit as its reseller sees it.
type CreditLine struct {
	Total, Remaining partnerapi.Amount
}

// CustomerPage is one page of a reseller's customers.
type CustomerPage struct {
	Rows  []Customer
	Total int64
}

// Detail is a reseller's page.
type Detail struct {
	Reseller  Reseller
	FetchedAt time.Time // when the reseller's details were read
	Page      int
	Customers apicache.Figure[CustomerPage]
	// Credit is its direct customers' credit, read with its own key; its
	// Err is keyring.ErrNoResellerKey when none is stored.
	Credit apicache.Figure[map[uint64]CreditLine]
	Now    time.Time
}

// Reseller reads one of the distributor's resellers with a page of its
// customers and their credit. A UIN that is not one of them is NotFound.
func (s *Service) Reseller(ctx context.Context, actor audit.Actor, uinText, pageText string, mode apicache.Mode) (Detail, error) {
	if err := may(actor); err != nil {
		return Detail{}, err
	}
	uin, ok := ParseUin(uinText)
	if !ok {
		return Detail{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("reseller %q: not a UIN", uinText))
	}
	page, err := pageNumber(pageText)
	if err != nil {
		return Detail{}, err
	}
	c, err := s.clients.Distributor(ctx)
	if err != nil {
		return Detail{}, fmt.Errorf("reseller %d: %w", uin, err)
	}
	d := Detail{Page: page, Now: s.cache.Now()}
	info := s.find(ctx, c, uin, mode)
	switch {
	case info.Pending:
		return Detail{}, apperr.New(apperr.Busy, "", msgStillReading)
	case info.Err != nil:
		return Detail{}, fmt.Errorf("reseller %d: %w", uin, info.Err)
	case info.Value == nil || *info.Value == nil:
		return Detail{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("%d is not a reseller of the distributor", uin))
	}
	d.Reseller, d.FetchedAt = **info.Value, info.FetchedAt
	var wg sync.WaitGroup
	wg.Go(func() { d.Customers = s.customers(ctx, c, uin, page, mode) })
	wg.Go(func() { d.Credit = s.credit(ctx, uin, mode) })
	wg.Wait()
	if d.Customers.Value != nil && d.Credit.Value != nil {
		// The page's copy: the cached value is shared with other readers.
		rows := make([]Customer, len(d.Customers.Value.Rows))
		for i, cu := range d.Customers.Value.Rows {
			if line, ok := (*d.Credit.Value)[cu.Uin]; ok {
				cu.Credit = &line
			}
			rows[i] = cu
		}
		d.Customers.Value = &CustomerPage{Rows: rows, Total: d.Customers.Value.Total}
	}
	return d, nil
}

// find looks a reseller up by its exact UIN; nil when the distributor has
// no such reseller.
func (s *Service) find(ctx context.Context, c *partnerapi.Client, uin uint64, mode apicache.Mode) apicache.Figure[*Reseller] {
	req := partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 10, FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10)}
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, partnerapi.ActionQuerySubAgentsDetailV2, req,
		func(ctx context.Context) (*Reseller, error) {
			resp, err := c.QuerySubAgentsDetailV2(ctx, &req)
			if err != nil {
				return nil, err
			}
			for _, d := range resp.Data {
				if uint64(max(d.SubAgentUin, 0)) == uin {
					r := fromListing(d)
					return &r, nil
				}
			}
			return nil, nil
		})
}

// customers reads a page of a reseller's customers, as the distributor sees them.
func (s *Service) customers(ctx context.Context, c *partnerapi.Client, uin uint64, page int, mode apicache.Mode) apicache.Figure[CustomerPage] {
	req := partnerapi.QueryT1IndirectCustomersDetailRequest{SubAgentUin: int64(uin), Page: int64(page), PageSize: PageSize}
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Directory, mode, partnerapi.ActionQueryT1IndirectCustomersDetail, req,
		func(ctx context.Context) (CustomerPage, error) {
			resp, err := c.QueryT1IndirectCustomersDetail(ctx, &req)
			if err != nil {
				return CustomerPage{}, err
			}
			p := CustomerPage{Total: resp.Total, Rows: make([]Customer, 0, len(resp.Data))}
			for _, d := range resp.Data {
				at, text := apiTime(d.ClientBindTime)
				p.Rows = append(p.Rows, Customer{Uin: uint64(max(d.ClientUin, 0)), Name: d.ClientName, Bound: at, BoundText: text})
			}
			return p, nil
		})
}

// credit reads a reseller's direct customers' credit with its own key:
// the distributor's key cannot.
func (s *Service) credit(ctx context.Context, uin uint64, mode apicache.Mode) apicache.Figure[map[uint64]CreditLine] {
	c, err := s.clients.ActAs(ctx, uin)
	if err != nil {
		return apicache.Failed[map[uint64]CreditLine](err)
	}
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, partnerapi.ActionQueryDirectCustomersCredit, nil,
		func(ctx context.Context) (map[uint64]CreditLine, error) {
			resp, err := c.QueryDirectCustomersCredit(ctx, &partnerapi.QueryDirectCustomersCreditRequest{})
			if err != nil {
				return nil, err
			}
			out := make(map[uint64]CreditLine, len(resp.Data))
			for _, d := range resp.Data {
				out[d.Uin] = CreditLine{Total: d.TotalCredit, Remaining: d.RemainingCredit}
			}
			return out, nil
		})
}

// apiTime reads a time the API wrote ("2006-01-02 15:04:05", UTC+8); when
// it cannot, the text is kept to be shown as it was.
func apiTime(s string) (time.Time, string) {
	t, err := partnerapi.ParseTime(s)
	if err != nil {
		return time.Time{}, s
	}
	return t, ""
}

// Pool reads one of the distributor's resellers with its credit pool,
// through the cache at mode; NotFound when the UIN is not one of them.
func (s *Service) Pool(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode) (Reseller, time.Time, error) {
	if err := may(actor); err != nil {
		return Reseller{}, time.Time{}, err
	}
	c, err := s.clients.Distributor(ctx)
	if err != nil {
		return Reseller{}, time.Time{}, fmt.Errorf("reseller %d: %w", uin, err)
	}
	info := s.find(ctx, c, uin, mode)
	switch {
	case info.Pending:
		return Reseller{}, time.Time{}, apperr.New(apperr.Busy, "", msgStillReading)
	case info.Err != nil:
		return Reseller{}, time.Time{}, fmt.Errorf("reseller %d: %w", uin, info.Err)
	case info.Value == nil || *info.Value == nil:
		return Reseller{}, time.Time{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("%d is not a reseller of the distributor", uin))
	}
	return **info.Value, info.FetchedAt, nil
}

// Forget drops every cached read of the resellers list, after a pool
// changed.
func (s *Service) Forget() {
	s.cache.Invalidate(func(k apicache.Key) bool { return k.Action == partnerapi.ActionQuerySubAgentsDetailV2 })
}
