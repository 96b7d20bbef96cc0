package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/billfiles"
	"resellerportal/commission"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

// CommissionService is what the commission page needs.
type CommissionService interface {
	ParseQuery(actor audit.Actor, q commission.Query) (commission.Filters, error)
	Search(ctx context.Context, actor audit.Actor, mode apicache.Mode, f commission.Filters) (commission.Products, error)
	Export(ctx context.Context, actor audit.Actor, f commission.Filters, format string, w io.Writer) (int, error)
}

// commissionExport sends the policy range matching the search as
// ?format=csv or xlsx.
func (h *Handlers) commissionExport(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	q := r.URL.Query()
	f, err := h.commission.ParseQuery(a, commission.Query{Policy: q.Get("policy"), Product: q.Get("product"), SubProduct: q.Get("sub_product")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if _, err := h.commission.Export(ctx, a, f, q.Get("format"), &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	sendFile(w, "policy-"+f.Policy, q.Get("format"), buf.Bytes())
}

func (h *Handlers) commissionPage(w http.ResponseWriter, r *http.Request) {
	month := r.URL.Query().Get("month")
	if month == "" || len(month) > 32 {
		month = h.now().UTC().AddDate(0, -1, 0).Format("2006-01")
	}
	h.renderCommission(w, r, http.StatusOK, month, nil)
}

// renderCommission renders the page: the policy search from the query, and
// the commission file form with its month and problems.
func (h *Handlers) renderCommission(w http.ResponseWriter, r *http.Request, status int, month string, fileErrs map[string]string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	q := r.URL.Query()
	cq := commission.Query{Policy: q.Get("policy"), Product: q.Get("product"), SubProduct: q.Get("sub_product"), Page: q.Get("page")}
	c := templates.Commission{FileMonth: month, FileErrors: fileErrs, Files: fileViews(ctx, h.billfiles.Mine(a, billfiles.KindCommission)),
		Search: templates.CommissionSearch{Policy: cq.Policy, Product: cq.Product, SubProduct: cq.SubProduct}}
	f, err := h.commission.ParseQuery(a, cq)
	if err == nil {
		var p commission.Products
		if p, err = h.commission.Search(ctx, a, apicache.Fresh, f); err == nil {
			fillCommission(ctx, &c, p)
		}
	}
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		if status == http.StatusOK {
			status, _, _ = problemOf(ctx, err)
		}
		c.Search.Errors = fieldMessages(ctx, err)
	}
	h.render(w, r, status, templates.CommissionPage(h.page(w, r, "commission.title"), c))
}

func fillCommission(ctx context.Context, c *templates.Commission, p commission.Products) {
	f := p.Filters
	c.Problem = figureProblem(ctx, p.List.Err)
	if c.Stale = p.List.Pending; c.Stale {
		// Still asking Tencent Cloud: the region asks again in a moment.
		c.RefreshHref = "/commission?" + url.Values{"policy": {f.Policy}, "product": {f.Product}, "sub_product": {f.SubProduct},
			"page": {strconv.Itoa(f.PageNumber())}}.Encode()
	}
	v := p.List.Value
	if v == nil {
		return
	}
	c.Searched = true
	c.Total = v.Total
	c.AsOf = formatTimeSeconds(ctx, p.List.FetchedAt)
	for _, x := range v.ProductList {
		c.Rows = append(c.Rows, templates.PolicyProductRow{Product: x.ProductName, ProductCode: x.ProductCode, SubProduct: x.SubProductName,
			SubProductCode: x.SubProductCode, Component: x.ComponentName, ComponentType: x.ComponentTypeName,
			Start: dateOf(x.StartDate), End: dateOf(x.EndDate)})
	}
	if len(c.Rows) > 0 {
		q := url.Values{"policy": {f.Policy}, "format": {commission.CSV}}
		if f.Product != "" {
			q.Set("product", f.Product)
		}
		if f.SubProduct != "" {
			q.Set("sub_product", f.SubProduct)
		}
		c.CSVHref = "/commission/export?" + q.Encode()
		q.Set("format", commission.XLSX)
		c.XLSXHref = "/commission/export?" + q.Encode()
	}
	pageURL := func(page int) string {
		q := url.Values{"policy": {f.Policy}}
		if f.Product != "" {
			q.Set("product", f.Product)
		}
		if f.SubProduct != "" {
			q.Set("sub_product", f.SubProduct)
		}
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		return "/commission?" + q.Encode()
	}
	c.Pager = templates.Pager{Page: f.PageNumber(), Pages: p.Pages}
	if f.PageNumber() > 1 {
		c.Pager.PrevURL = pageURL(f.PageNumber() - 1)
	}
	if f.PageNumber() < p.Pages {
		c.Pager.NextURL = pageURL(f.PageNumber() + 1)
	}
}

// dateOf is the date of an API time ("2024-01-01 00:00:00").
func dateOf(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}
