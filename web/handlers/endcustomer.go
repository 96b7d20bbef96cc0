package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/endcustomer"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

// EndCustomerService is what a customer's own view needs.
type EndCustomerService interface {
	Own(ctx context.Context, actor audit.Actor, mode apicache.Mode, uin string, q endcustomer.Query) (endcustomer.View, error)
}

// ownPage shows what the customer's own API key reads: its billing
// quota, its bill by product, its cost explorer, its detail lines and its
// own vouchers.
func (h *Handlers) ownPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	uin := chi.URLParam(r, "uin")
	q := r.URL.Query()
	eq := endcustomer.Query{Month: q.Get("month"), Page: q.Get("page"), Voucher: q.Get("voucher")}
	status := http.StatusOK
	v, err := h.endcustomer.Own(ctx, a, cachedFirst(r), uin, eq)
	o := templates.OwnView{Uin: uin, Name: v.Customer.Name, Month: v.Month}
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		o.Errors = fieldMessages(ctx, err)
		if len(o.Month) > 32 {
			o.Month = o.Month[:32]
		}
	}
	if o.Name == "" {
		o.Name = uin
	}
	if v.Blocked != nil {
		o.Blocked = blockedProblem(ctx, v.Blocked)
		if a.Can(auth.ManageCredentials) {
			o.KeyHref = "/admin/credentials/?" + url.Values{"kind": {"customer"}, "subagent_uin": {uin}}.Encode() + "#save-key"
		}
	}
	if err == nil && v.Blocked == nil {
		fillOwn(ctx, &o, v, refreshAgain(r, v.Stale(), v.Pending()))
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.OwnResults(o))
		return
	}
	h.render(w, r, status, templates.OwnPage(h.page(w, r, "endcustomer.title"), o))
}

// fillOwn turns the view's reads into the page's figures and rows.
func fillOwn(ctx context.Context, o *templates.OwnView, v endcustomer.View, again bool) {
	base := "/customers/" + o.Uin + "/own"
	link := func(page int, voucher int64, fresh bool) string {
		u := url.Values{"month": {v.Month}}
		if page > 1 {
			u.Set("page", strconv.Itoa(page))
		}
		if voucher != 0 {
			u.Set("voucher", strconv.FormatInt(voucher, 10))
		}
		if fresh {
			u.Set("fresh", "1")
		}
		return base + "?" + u.Encode()
	}
	if o.Stale = again; o.Stale {
		o.RefreshHref = link(v.Page, v.Voucher, true)
	}
	o.AsOf = formatTimeSeconds(ctx, v.Summary.FetchedAt)
	if x := v.Quota.Value; x != nil {
		o.Quota = &templates.OwnQuota{Credit: formatUSD(x.TotalCredit), Remaining: formatUSD(x.RemainingCredit), Voucher: formatUSD(x.RemainingVoucher)}
	}
	o.QuotaProblem = figureProblem(ctx, v.Quota.Err)
	o.SummaryProblem = figureProblem(ctx, v.Summary.Err)
	if s := v.Summary.Value; s != nil {
		o.SummaryLoaded = true
		sum := [3]decimal.Decimal{}
		for _, d := range *s {
			for _, b := range d.Business {
				o.Summary = append(o.Summary, templates.OwnCostRow{Name: b.BusinessCodeName, Original: decimalUSD(b.OriginalCost),
					Voucher: decimalUSD(b.VoucherPayAmount), Total: decimalUSD(b.TotalCost)})
			}
			for i, amount := range []string{d.OriginalCost, d.VoucherPayAmount, d.TotalCost} {
				if x, err := decimal.NewFromString(amount); err == nil {
					sum[i] = sum[i].Add(x)
				}
			}
		}
		if len(o.Summary) > 0 {
			o.SummaryTotal = &templates.OwnCostRow{Original: decimalUSD(sum[0].String()), Voucher: decimalUSD(sum[1].String()), Total: decimalUSD(sum[2].String())}
		}
	}
	o.ExplorerFrom, o.ExplorerTo = v.From, v.To
	o.ExplorerProblem = figureProblem(ctx, v.Explorer.Err)
	if e := v.Explorer.Value; e != nil {
		o.ExplorerLoaded = true
		for _, d := range e.Detail {
			o.Explorer = append(o.Explorer, templates.OwnCostRow{Name: d.Name, Total: decimalUSD(d.SumCost)})
		}
		if e.TotalDetail != nil {
			o.ExplorerTotal = decimalUSD(e.TotalDetail.SumCost)
		}
	}
	o.DetailsProblem = figureProblem(ctx, v.Detail.Err)
	if d := v.Detail.Value; d != nil {
		o.DetailsLoaded = true
		o.DetailTotal = d.Total
		for _, x := range d.DetailSet {
			o.Details = append(o.Details, templates.OwnDetailRow{Time: apiTimeText(ctx, x.TransactionTime), Product: x.ProductName,
				SubProduct: x.SubProductName, Region: x.Region, Instance: x.InstanceId, Component: x.ComponentName,
				Transaction: x.TransactionType, Total: decimalUSD(x.TotalCost)})
		}
		o.Pager = templates.Pager{Page: v.Page, Pages: v.Pages}
		if v.Page > 1 {
			o.Pager.PrevURL = link(v.Page-1, v.Voucher, false)
		}
		if v.Page < v.Pages {
			o.Pager.NextURL = link(v.Page+1, v.Voucher, false)
		}
	}
	o.VouchersProblem = figureProblem(ctx, v.Vouchers.Err)
	if l := v.Vouchers.Value; l != nil {
		o.VouchersLoaded = true
		for _, x := range l.Data {
			o.Vouchers = append(o.Vouchers, templates.OwnVoucherRow{ID: strconv.FormatInt(x.VoucherId, 10),
				StatusID: valueID(ctx, "vouchers.status_", x.VoucherStatus), Total: formatUSD(x.TotalAmount), Remaining: formatUSD(x.RemainingAmount),
				Effective: apiTimeText(ctx, x.EffectiveTime), Expires: apiTimeText(ctx, x.ExpireTime),
				UsageHref: link(v.Page, x.VoucherId, false) + "#own-vouchers-heading", Current: x.VoucherId == v.Voucher})
		}
	}
	if v.Voucher != 0 {
		o.UsageVoucher = strconv.FormatInt(v.Voucher, 10)
		o.UsageProblem = figureProblem(ctx, v.Usage.Err)
		if u := v.Usage.Value; u != nil {
			o.UsageLoaded = true
			for _, x := range u.Data {
				o.Usage = append(o.Usage, templates.UsageRow{ID: strconv.FormatInt(x.Id, 10), Amount: formatUSD(x.Amount),
					Product: x.ProductCodeName, SubProduct: x.SubProductCodeName, Paid: apiTimeText(ctx, x.PayTime)})
			}
		}
	}
}
