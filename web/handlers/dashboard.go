package handlers

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

func (h *Handlers) dashboard(w http.ResponseWriter, r *http.Request) {
	d := h.dashboardFigures(r.Context())
	h.render(w, r, http.StatusOK, templates.DashboardPage(h.page(w, r, "dashboard.title"), d))
}

// dashboardCards serves the figures alone, for the refresh button.
func (h *Handlers) dashboardCards(w http.ResponseWriter, r *http.Request) {
	d := h.dashboardFigures(r.Context())
	h.render(w, r, http.StatusOK, templates.DashboardCards(d))
}

// dashboardFigures reads the partner's figures live, the four calls at
// once; each card shows its own failure.
func (h *Handlers) dashboardFigures(ctx context.Context) templates.Dashboard {
	p := principal(ctx)
	ctx = partnerapi.WithLanguage(ctx, apiLanguage(ctx))
	d := templates.Dashboard{AsOf: formatTime(h.Now()), ShowResellers: p.Can(auth.ViewSubagents)}

	var client *partnerapi.Client
	var err error
	ownCredential := true
	if p.Role == auth.RoleSubagent {
		client, ownCredential, err = h.Partner.ForSubagent(ctx, p.SubagentUin)
	} else {
		client, err = h.Partner.Distributor(ctx)
	}
	if err != nil {
		problem := apiProblem(ctx, err)
		d.CreditProblem, d.VoucherProblem, d.PendingCustomersProblem, d.PendingResellersProblem = problem, problem, problem, problem
		return d
	}
	if !ownCredential {
		// A reseller login without its own key sees its figures through the
		// distributor's view of it; applications cannot be scoped that way.
		h.subagentFigures(ctx, client, p.SubagentUin, &d)
		return d
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := client.QueryPartnerCredit(ctx, nil)
		if err != nil {
			d.CreditProblem = apiProblem(ctx, err)
			return
		}
		d.Credit = &templates.CreditFigures{Total: formatUSD(c.TotalCredit), Allocated: formatUSD(c.AllocatedCredit), Remaining: formatUSD(c.RemainingCredit)}
	})
	wg.Go(func() {
		v, err := client.QueryVoucherPool(ctx, nil)
		if err != nil {
			d.VoucherProblem = apiProblem(ctx, err)
			return
		}
		d.Vouchers = &templates.VoucherFigures{Total: formatUSD(v.TotalQuota), Remaining: formatUSD(v.RemainingQuota), Issued: v.IssuedNum}
	})
	wg.Go(func() {
		pc, err := client.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 1})
		if err != nil {
			d.PendingCustomersProblem = apiProblem(ctx, err)
			return
		}
		d.PendingCustomers = &pc.Total
	})
	if d.ShowResellers {
		wg.Go(func() {
			ps, err := client.QueryPendingSubAgentsV2(ctx, &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 1})
			if err != nil {
				d.PendingResellersProblem = apiProblem(ctx, err)
				return
			}
			d.PendingResellers = &ps.Total
		})
	}
	wg.Wait()
	return d
}

func (h *Handlers) subagentFigures(ctx context.Context, client *partnerapi.Client, uin uint64, d *templates.Dashboard) {
	resp, err := client.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{
		Page: 1, PageSize: 1, FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10),
	})
	if err == nil && len(resp.Data) == 0 {
		d.CreditProblem = apiProblem(ctx, &partnerapi.APIError{Code: "FailedOperation.InvalidSubAgentUin", RequestId: resp.RequestId})
		d.VoucherProblem = d.CreditProblem
		return
	}
	if err != nil {
		d.CreditProblem = apiProblem(ctx, err)
		d.VoucherProblem = d.CreditProblem
		return
	}
	s := resp.Data[0]
	allocated := partnerapi.AmountFromDecimal(s.Credit.Decimal().Sub(s.RemainingCredit.Decimal()))
	d.Credit = &templates.CreditFigures{Total: formatUSD(s.Credit), Allocated: formatUSD(allocated), Remaining: formatUSD(s.RemainingCredit)}
	d.Vouchers = &templates.VoucherFigures{Total: formatUSD(s.Voucher), Remaining: formatUSD(s.RemainingVoucher)}
	d.PendingCustomersProblem = &templates.APIProblem{Message: tr(ctx, "dashboard.needs_own_credential")}
}
