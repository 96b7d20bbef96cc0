package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"resellerportal/apicache"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/resellers"
	"resellerportal/web/templates"
)

// ResellerService is what the second-level resellers pages need.
type ResellerService interface {
	List(ctx context.Context, actor audit.Actor, in resellers.ListInput, mode apicache.Mode) (resellers.List, error)
	Reseller(ctx context.Context, actor audit.Actor, uin, page string, mode apicache.Mode) (resellers.Detail, error)
}

// readMode is a page's read: ?refresh=1 asks the partner API again,
// otherwise what the cache holds while it is fresh.
func readMode(r *http.Request) apicache.Mode {
	if r.URL.Query().Get("refresh") != "" {
		return apicache.Refresh
	}
	return apicache.Fresh
}

// resellersPage lists the distributor's second-level resellers, filtered,
// ordered and paged as the query asks.
func (h *Handlers) resellersPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	q := r.URL.Query()
	in := resellers.ListInput{FilterType: q.Get("filter_type"), Filter: q.Get("filter"), Order: q.Get("order"), Page: q.Get("page")}
	l, err := h.resellers.List(ctx, actor(r), in, readMode(r))
	v := templates.Resellers{Filter: templates.ResellerFilter{FilterType: in.FilterType, Filter: in.Filter, Order: in.Order}}
	if err != nil {
		h.formFailure(w, r, err, func(status int, errs map[string]string) {
			if m, ok := errs["page"]; ok {
				// The page number has no field of its own: the form says it.
				delete(errs, "page")
				errs[""] = m
			}
			v.Filter.Errors, v.Invalid = errs, true
			h.render(w, r, status, templates.ResellersPage(h.page(w, r, "resellers.title"), v))
		})
		return
	}
	v.Filter.Order = l.Query.Order
	v.Loading = l.Result.Pending && l.Result.Value == nil
	v.Problem = figureProblem(ctx, l.Result.Err)
	if res := l.Result.Value; res != nil {
		for _, rs := range res.Rows {
			v.Rows = append(v.Rows, resellerRow(ctx, rs))
		}
		v.Total = res.Total
		v.Pager = pager(l.Query.Page, res.Total, func(page int) string { return resellersURL(l.Query, page) })
	}
	if !l.Result.FetchedAt.IsZero() {
		v.AsOf, v.Age = formatTimeSeconds(ctx, l.Result.FetchedAt), formatAge(ctx, l.Now.Sub(l.Result.FetchedAt))
	}
	v.Query = listQuery(l.Query, l.Query.Page)
	h.render(w, r, http.StatusOK, templates.ResellersPage(h.page(w, r, "resellers.title"), v))
}

// listQuery is the list's query as URL parameters.
func listQuery(q resellers.Query, page int) url.Values {
	v := url.Values{}
	if q.Filter != "" {
		v.Set("filter_type", q.FilterType)
		v.Set("filter", q.Filter)
	}
	if q.Order != resellers.Newest {
		v.Set("order", q.Order)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

func resellersURL(q resellers.Query, page int) string {
	if v := listQuery(q, page); len(v) > 0 {
		return "/resellers?" + v.Encode()
	}
	return "/resellers"
}

// pager links the pages before and after, and says where the reader is.
func pager(page int, total int64, link func(page int) string) templates.Pager {
	pages := int((total + resellers.PageSize - 1) / resellers.PageSize)
	p := templates.Pager{Page: page, Pages: max(pages, 1)}
	if page > 1 {
		p.PrevURL = link(min(page-1, max(pages, 1)))
	}
	if page < pages {
		p.NextURL = link(page + 1)
	}
	return p
}

// resellerRow is one reseller, formatted.
func resellerRow(ctx context.Context, rs resellers.Reseller) templates.ResellerRow {
	row := templates.ResellerRow{
		Uin: strconv.FormatUint(rs.Uin, 10), Name: rs.Name, Remark: rs.Remark, Mobile: rs.Mobile, Email: rs.Email,
		Customers: strconv.FormatInt(rs.Customers, 10), Bound: formatTime(ctx, rs.Bound),
		Credit: formatUSD(rs.Credit), RemainingCredit: formatUSD(rs.RemainingCredit),
		Voucher: formatUSD(rs.Voucher), RemainingVoucher: formatUSD(rs.RemainingVoucher),
	}
	if rs.Bound.IsZero() {
		row.Bound = rs.BoundText
	}
	return row
}

// resellerPage is one reseller: its details, a page of its customers with
// their credit as it sees them, and the administrator's next steps.
func (h *Handlers) resellerPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin := chi.URLParam(r, "uin")
	d, err := h.resellers.Reseller(ctx, actor(r), uin, r.URL.Query().Get("page"), readMode(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(ctx)
	v := templates.ResellerDetail{Reseller: resellerRow(ctx, d.Reseller), Page: d.Page}
	oldest := d.FetchedAt
	older := func(t time.Time) {
		if !t.IsZero() && t.Before(oldest) {
			oldest = t
		}
	}
	v.CustomersLoading = d.Customers.Pending && d.Customers.Value == nil
	v.CustomersProblem = figureProblem(ctx, d.Customers.Err)
	older(d.Customers.FetchedAt)
	if cp := d.Customers.Value; cp != nil {
		for _, cu := range cp.Rows {
			row := templates.ResellerCustomerRow{Uin: strconv.FormatUint(cu.Uin, 10), Name: cu.Name, Bound: formatTime(ctx, cu.Bound)}
			if cu.Bound.IsZero() {
				row.Bound = cu.BoundText
			}
			if cu.Credit != nil {
				row.Credit, row.RemainingCredit = formatUSD(cu.Credit.Total), formatUSD(cu.Credit.Remaining)
			}
			v.Customers = append(v.Customers, row)
		}
		v.Total = cp.Total
		v.Pager = pager(d.Page, cp.Total, func(page int) string {
			if page <= 1 {
				return "/resellers/" + v.Reseller.Uin
			}
			return "/resellers/" + v.Reseller.Uin + "?page=" + strconv.Itoa(page)
		})
	}
	switch {
	case errors.Is(d.Credit.Err, keyring.ErrNoResellerKey):
		v.NoKey = true
	case d.Credit.Err != nil:
		v.CreditProblem = figureProblem(ctx, d.Credit.Err)
	default:
		v.CreditKnown = d.Credit.Value != nil
		older(d.Credit.FetchedAt)
	}
	if p.Can(auth.ManageUsers) {
		expires := h.now().In(zoneOf(ctx)).AddDate(0, 0, resellers.DelegatedLoginDays).Format(time.DateOnly)
		v.LoginURL = "/admin/users/?" + url.Values{"role": {string(auth.RoleSubagent)}, "subagent_uin": {v.Reseller.Uin}, "expires": {expires}}.Encode() + "#add-user"
	}
	if p.Can(auth.WriteSubagents) {
		v.PoolURL = "/resellers/" + v.Reseller.Uin + "/pool"
	}
	if p.Can(auth.ManageCredentials) {
		v.KeyURL = "/admin/credentials/?" + url.Values{"kind": {"subagent"}, "subagent_uin": {v.Reseller.Uin}}.Encode() + "#save-key"
	}
	v.AsOf, v.Age = formatTimeSeconds(ctx, oldest), formatAge(ctx, d.Now.Sub(oldest))
	v.RefreshPage = d.Page
	h.render(w, r, http.StatusOK, templates.ResellerPage(h.page(w, r, "resellers.detail_title"), v))
}
