package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"resellerportal/apicache"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

// dashboard shows the figures the cache holds at once; stale ones are
// refreshed by the page in the background.
func (h *Handlers) dashboard(w http.ResponseWriter, r *http.Request) {
	d, err := h.dashboardView(r, apicache.Cached)
	if err == nil {
		d.Watch, err = h.dashboardWatch(r.Context(), actor(r))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.DashboardPage(h.page(w, r, "dashboard.title"), d))
}

// dashboardCards serves the figures alone: fresh ones for the page's
// background refresh, or newly read ones for the Refresh button.
func (h *Handlers) dashboardCards(w http.ResponseWriter, r *http.Request) {
	mode := apicache.Fresh
	if r.URL.Query().Get("refresh") != "" {
		mode = apicache.Refresh
	}
	d, err := h.dashboardView(r, mode)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.DashboardCards(d))
}

func (h *Handlers) dashboardView(r *http.Request, mode apicache.Mode) (templates.Dashboard, error) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	f, err := h.figures.Figures(ctx, actor(r), mode)
	if err != nil {
		return templates.Dashboard{}, err
	}
	d := templates.Dashboard{ShowResellers: f.ShowResellers, Stale: f.Stale() && mode == apicache.Cached}
	if principal(ctx).Can(auth.WriteCustomers) {
		d.ApplicationsHref = "/applications" // the counts lead to the applications
	}
	var oldest time.Time
	seen := func(t time.Time, pending bool) {
		d.Loading = d.Loading || pending
		if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	if v := f.Credit.Value; v != nil {
		d.Credit = &templates.CreditFigures{Total: formatUSD(v.Total), Allocated: formatUSD(v.Allocated), Remaining: formatUSD(v.Remaining)}
	}
	d.CreditProblem = figureProblem(ctx, f.Credit.Err)
	seen(f.Credit.FetchedAt, f.Credit.Pending)
	if v := f.Vouchers.Value; v != nil {
		d.Vouchers = &templates.VoucherFigures{Total: formatUSD(v.Total), Remaining: formatUSD(v.Remaining)}
		if v.Issued != nil {
			d.Vouchers.Issued = strconv.FormatInt(*v.Issued, 10)
		}
	}
	d.VoucherProblem = figureProblem(ctx, f.Vouchers.Err)
	seen(f.Vouchers.FetchedAt, f.Vouchers.Pending)
	if f.ThroughDistributor {
		d.PendingCustomersProblem = &templates.APIProblem{Message: tr(ctx, "dashboard.needs_own_credential"), Info: true}
	} else {
		d.PendingCustomers, d.PendingCustomersProblem = f.PendingCustomers.Value, figureProblem(ctx, f.PendingCustomers.Err)
		seen(f.PendingCustomers.FetchedAt, f.PendingCustomers.Pending)
	}
	if f.ShowResellers {
		d.PendingResellers, d.PendingResellersProblem = f.PendingResellers.Value, figureProblem(ctx, f.PendingResellers.Err)
		seen(f.PendingResellers.FetchedAt, f.PendingResellers.Pending)
	}
	if !oldest.IsZero() {
		d.AsOf = formatTimeSeconds(ctx, oldest)
		d.Age = formatAge(ctx, f.Now.Sub(oldest))
	}
	return d, nil
}

func figureProblem(ctx context.Context, err error) *templates.APIProblem {
	if err == nil {
		return nil
	}
	return apiProblem(ctx, err)
}
