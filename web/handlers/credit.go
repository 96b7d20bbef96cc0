package handlers

import (
	"context"
	"net/http"
	"strconv"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/credit"
	"resellerportal/customers"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

// CreditService is what the credit pages need.
type CreditService interface {
	ParseQuery(actor audit.Actor, q customers.Query) (customers.Filters, error)
	Overview(ctx context.Context, actor audit.Actor, mode apicache.Mode, f customers.Filters) (credit.Overview, error)
}

// creditColumns are the credit list's sortable columns, in order.
var creditColumns = []struct {
	sort, label string
	num         bool
}{
	{"uin", "customers.col_uin", false},
	{"name", "customers.col_name", false},
	{"remark", "customers.col_remark", false},
	{"credit", "customers.col_credit", true},
	{"remaining_credit", "customers.col_remaining", true},
}

func (h *Handlers) creditPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	q := customerQuery(r)
	page := templates.CreditPage{Filters: templates.CustomerFilters{Q: q.Text, Reseller: q.Reseller, Watch: q.Watch, Sort: q.Sort, Desc: q.Desc}}
	if a.OnBehalfOf() == 0 {
		resellers, err := h.customers.Resellers(ctx, a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		page.Filters.Resellers = resellerOptions(ctx, resellers)
		if page.Filters.Reseller == "" {
			page.Filters.Reseller = "direct"
		}
	}
	status := http.StatusOK
	f, err := h.credit.ParseQuery(a, q)
	if err == nil {
		var o credit.Overview
		if o, err = h.credit.Overview(ctx, a, apicache.Fresh, f); err == nil {
			h.fillCredit(ctx, a, &page, o)
		}
	}
	if err != nil {
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		page.Filters.Errors = fieldMessages(ctx, err)
		page.InTable = -1
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.CreditResults(page))
		return
	}
	h.render(w, r, status, templates.CreditOverview(h.page(w, r, "credit.title"), page))
}

// fillCredit turns the overview into the page's figures and rows.
func (h *Handlers) fillCredit(ctx context.Context, actor audit.Actor, page *templates.CreditPage, o credit.Overview) {
	if v := o.Partner.Value; v != nil {
		page.Partner = &templates.CreditFigures{Total: formatUSD(v.Total), Allocated: formatUSD(v.Allocated), Remaining: formatUSD(v.Remaining)}
		page.PartnerAsOf = formatTimeSeconds(ctx, o.Partner.FetchedAt)
	}
	page.PartnerProblem = figureProblem(ctx, o.Partner.Err)
	if o.ThroughDistributor {
		page.PoolNote = &templates.APIProblem{Message: tr(ctx, "credit.pool_through_distributor"), Info: true}
	}
	list := o.Listing
	f := list.Filters
	page.CanAllocate = actor.Can(auth.WriteCredit)
	if page.CanAllocate {
		page.BulkKey = credit.NewKey()
	}
	sort, desc := f.Sorted()
	for _, c := range creditColumns {
		col := templates.SortColumn{LabelID: c.label, Num: c.num, Sort: "none", Href: listURL("/credit", f.Query, c.sort, false, 1)}
		if c.sort == sort {
			col.Sort = "ascending"
			if desc {
				col.Sort = "descending"
			}
			col.Href = listURL("/credit", f.Query, c.sort, !desc, 1)
		}
		page.Columns = append(page.Columns, col)
	}
	for i, c := range list.Customers {
		level := o.Levels[i]
		row := templates.CreditRow{Uin: strconv.FormatUint(c.Uin, 10), Name: c.Name, Remark: c.Remark, Credit: decimalUSD(c.Credit),
			Remaining: decimalUSD(c.RemainingCredit), Share: credit.Share(c.Credit, c.RemainingCredit), Past: levelWords(ctx, level),
			Level: int(level.Severity)}
		if page.CanAllocate {
			row.AllocateHref = "/credit/" + row.Uin + "/allocate"
		}
		if level.Past() {
			page.Low++
		}
		page.Rows = append(page.Rows, row)
	}
	page.Total, page.Page, page.Pages, page.InTable = list.Total, f.PageNumber(), list.Pages, list.InTable
	page.AsOf = formatTime(ctx, list.AsOf)
	if page.Page > 1 {
		page.PrevHref = listURL("/credit", f.Query, sort, desc, page.Page-1)
	}
	if page.Page < page.Pages {
		page.NextHref = listURL("/credit", f.Query, sort, desc, page.Page+1)
	}
	page.ExportHref = listURL("/customers.csv", f.Query, sort, desc, 1)
}
