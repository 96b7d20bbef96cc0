// Package commission is the partner's commission: the products a
// commission policy covers (QueryPolicyProductListByCode), searched and
// paged, read through the API cache. The commission file itself is a bill
// file (package billfiles). Only the partner's people see commission: a
// second-level reseller's login has no ViewCommission.
package commission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API client to act as a partner with.
type Clients interface {
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Service is the commission use cases.
type Service struct {
	db      *store.DB
	clients Clients
	cache   *apicache.Cache
	now     func() time.Time
}

// New returns the commission service; now is time.Now when nil.
func New(db *store.DB, clients Clients, cache *apicache.Cache, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, clients: clients, cache: cache, now: now}
}

// Limits of the search form.
const (
	PerPage    = 50
	MaxPage    = 1000
	MaxText    = 64
	maxCodeLen = 64
)

// Message ids of the service's errors.
const (
	msgForbidden = "commission.forbidden"
	msgBadCode   = "commission.bad_policy"
	msgBadText   = "commission.bad_text"
	msgBadPage   = "commission.bad_page"
	msgNeedCode  = "commission.need_policy"
)

// Query is the policy product search as typed.
type Query struct {
	Policy     string // the policy code, from the partner agreement
	Product    string // the bill's ProductName, or its code
	SubProduct string // the bill's SubProductName, or its code
	Page       string
}

// Filters is a checked Query.
type Filters struct {
	Query
	page int
}

// PageNumber is the page the filters ask for, from 1.
func (f Filters) PageNumber() int { return f.page }

func mayView(actor audit.Actor) error {
	if !actor.Can(auth.ViewCommission) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// ParseQuery checks the form: a policy code of letters, digits, hyphens and
// underscores; search words of at most MaxText characters; a page in range.
func (s *Service) ParseQuery(actor audit.Actor, q Query) (Filters, error) {
	q.Policy, q.Product, q.SubProduct = strings.TrimSpace(q.Policy), strings.TrimSpace(q.Product), strings.TrimSpace(q.SubProduct)
	f := Filters{Query: q, page: 1}
	if err := mayView(actor); err != nil {
		return f, err
	}
	var errs []error
	if len(q.Policy) > maxCodeLen || strings.ContainsFunc(q.Policy, notCode) {
		errs = append(errs, apperr.InvalidField("policy", msgBadCode))
	}
	for field, v := range map[string]string{"product": q.Product, "sub_product": q.SubProduct} {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxText || strings.ContainsFunc(v, isControl) {
			errs = append(errs, apperr.InvalidField(field, msgBadText).With(map[string]any{"Max": MaxText}))
		}
	}
	if q.Page != "" {
		p, err := strconv.Atoi(q.Page)
		if err != nil || p < 1 || p > MaxPage {
			errs = append(errs, apperr.New(apperr.Invalid, "", msgBadPage).With(map[string]any{"Max": MaxPage}))
		} else {
			f.page = p
		}
	}
	return f, errors.Join(errs...)
}

func notCode(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Products is a page of a policy's product range.
type Products struct {
	Filters Filters
	List    apicache.Figure[partnerapi.QueryPolicyProductListByCodeResponse]
	Pages   int
	Now     time.Time
}

// Stale reports whether the read is older than its freshness or pending.
func (p Products) Stale() bool {
	return p.Filters.Policy != "" && (p.List.Stale(apicache.Reference, p.Now) || p.List.Pending)
}

// searchParams keys a page of a policy's products in the cache.
type searchParams struct {
	Policy, Product, SubProduct string
	Page, PageSize              int
}

// isCode tells a product code ("p_cvm", "sp_cvm_s5") from a name.
func isCode(s string) bool { return strings.HasPrefix(s, "p_") || strings.HasPrefix(s, "sp_") }

// Search reads a page of the policy's products through the cache (policy
// ranges change rarely: the Reference freshness). No policy code, no call.
func (s *Service) Search(ctx context.Context, actor audit.Actor, mode apicache.Mode, f Filters) (Products, error) {
	return s.search(ctx, actor, mode, f, PerPage)
}

func (s *Service) search(ctx context.Context, actor audit.Actor, mode apicache.Mode, f Filters, size int) (Products, error) {
	if err := mayView(actor); err != nil {
		return Products{}, err
	}
	p := Products{Filters: f, Pages: 1, Now: s.now()}
	if f.Policy == "" {
		return p, nil
	}
	c, err := s.clients.ActAs(ctx, actor.OnBehalfOf())
	if err != nil {
		return Products{}, err
	}
	req := &partnerapi.QueryPolicyProductListByCodeRequest{PolicyCode: f.Policy, Page: uint64(f.page), PageSize: uint64(size)}
	if isCode(f.Product) {
		req.ProductCode = f.Product
	} else {
		req.ProductName = f.Product
	}
	if isCode(f.SubProduct) {
		req.SubProductCode = f.SubProduct
	} else {
		req.SubProductName = f.SubProduct
	}
	p.List = apicache.Read(ctx, s.cache, c.SecretID(), apicache.Reference, mode, "commission.products",
		searchParams{f.Policy, f.Product, f.SubProduct, f.page, size},
		func(ctx context.Context) (partnerapi.QueryPolicyProductListByCodeResponse, error) {
			r, err := c.QueryPolicyProductListByCode(ctx, req)
			if err != nil {
				return partnerapi.QueryPolicyProductListByCodeResponse{}, err
			}
			return *r, nil
		})
	if v := p.List.Value; v != nil {
		p.Pages = max(1, int((v.Total+uint64(size)-1)/uint64(size)))
	}
	return p, nil
}

// Formats of the export.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// exportPageSize is the largest page the API gives.
const exportPageSize = 200

// columns are the export's columns.
var columns = []export.Column{
	{Header: "policy_code", Kind: export.Text}, {Header: "product_code", Kind: export.Text}, {Header: "product", Kind: export.Text},
	{Header: "sub_product_code", Kind: export.Text}, {Header: "sub_product", Kind: export.Text},
	{Header: "component_type_code", Kind: export.Text}, {Header: "component_type", Kind: export.Text},
	{Header: "component_code", Kind: export.Text}, {Header: "component", Kind: export.Text},
	{Header: "start_date", Kind: export.Text}, {Header: "end_date", Kind: export.Text},
}

// Export writes every line of the policy's range matching the search as
// CSV or XLSX, through the cache, and audits the export.
func (s *Service) Export(ctx context.Context, actor audit.Actor, f Filters, format string, w io.Writer) (int, error) {
	if err := mayView(actor); err != nil {
		return 0, err
	}
	if format != CSV && format != XLSX {
		return 0, apperr.InvalidField("format", "vouchers.bad_format")
	}
	if f.Policy == "" {
		return 0, apperr.InvalidField("policy", msgNeedCode)
	}
	var rows [][]string
	var err error
	for page := 1; page <= MaxPage; page++ {
		f.page = page
		var p Products
		if p, err = s.search(ctx, actor, apicache.Fresh, f, exportPageSize); err != nil {
			break
		}
		if p.List.Err != nil {
			err = p.List.Err
			break
		}
		if p.List.Value == nil {
			err = apperr.New(apperr.Busy, "", "vouchers.export_busy").Because(apicache.ErrPending)
			break
		}
		for _, x := range p.List.Value.ProductList {
			rows = append(rows, []string{x.PolicyCode, x.ProductCode, x.ProductName, x.SubProductCode, x.SubProductName,
				x.ComponentTypeCode, x.ComponentTypeName, x.ComponentCode, x.ComponentName, x.StartDate, x.EndDate})
		}
		if page >= p.Pages || len(p.List.Value.ProductList) == 0 {
			break
		}
	}
	if err == nil {
		t := export.Table{Name: "policy products", Columns: columns, Rows: rows}
		if format == CSV {
			err = export.WriteCSV(w, t)
		} else {
			err = export.WriteXLSX(w, t)
		}
	}
	params := map[string]string{"format": format, "rows": strconv.Itoa(len(rows)), "policy": f.Policy}
	for k, v := range map[string]string{"product": f.Product, "sub_product": f.SubProduct} {
		if v != "" {
			params[k] = v
		}
	}
	entry := actor.Entry("commission.export", 0, params)
	if err != nil {
		entry.Outcome, entry.Code, entry.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
	}
	if _, aerr := s.db.AppendAudit(ctx, entry); aerr != nil {
		return len(rows), errors.Join(err, aerr)
	}
	if err != nil {
		return len(rows), fmt.Errorf("export policy products: %w", err)
	}
	return len(rows), nil
}
