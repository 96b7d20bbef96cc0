package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/vouchers"
	"resellerportal/web/templates"
)

// VoucherService is what the vouchers pages need.
type VoucherService interface {
	ParseQuery(ctx context.Context, actor audit.Actor, q vouchers.Query) (vouchers.Filters, error)
	List(ctx context.Context, actor audit.Actor, mode apicache.Mode, f vouchers.Filters) (vouchers.List, error)
	UsageOf(ctx context.Context, actor audit.Actor, mode apicache.Mode, uin, id, month, page string) (vouchers.Usage, error)
	Export(ctx context.Context, actor audit.Actor, f vouchers.Filters, format string, w io.Writer) (int, error)
	ExportUsage(ctx context.Context, actor audit.Actor, uin, id, month, format string, w io.Writer) (int, error)
}

// voucherQuery reads the vouchers list's form from the URL.
func voucherQuery(r *http.Request) vouchers.Query {
	q := r.URL.Query()
	return vouchers.Query{Customer: q.Get("customer"), Status: q.Get("status"), PaymentMode: q.Get("payment_mode"),
		Usage: q.Get("usage"), Scope: q.Get("scope"), Page: q.Get("page")}
}

// voucherURL is a path with the list's filters, a page and extra members.
func voucherURL(path string, q vouchers.Query, page int, extra url.Values) string {
	v := url.Values{}
	for k, s := range map[string]string{"customer": q.Customer, "status": q.Status, "payment_mode": q.PaymentMode, "usage": q.Usage, "scope": q.Scope} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	for k, s := range extra {
		v[k] = s
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// cachedFirst is how fresh a vouchers page's reads must be: what the cache
// holds, unless the page's background refresh asks for fresh ones.
func cachedFirst(r *http.Request) apicache.Mode {
	if r.URL.Query().Get("fresh") == "1" {
		return apicache.Fresh
	}
	return apicache.Cached
}

// refreshAgain decides whether a region asks for itself again in the
// background: a page shown from the cache, when something is stale; its
// background answer (fresh=1) only while a read is still under way, so a
// read that keeps failing is shown with its problem rather than asked for
// every second.
func refreshAgain(r *http.Request, stale, pending bool) bool {
	if r.URL.Query().Get("fresh") == "1" {
		return pending
	}
	return stale
}

// blockedProblem tells why nothing could be read, as a note.
func blockedProblem(ctx context.Context, err error) *templates.APIProblem {
	if err == nil {
		return nil
	}
	_, msg, _ := problemOf(ctx, err)
	return &templates.APIProblem{Message: msg, Info: true}
}

// valueID names an API value by its message id; a value the catalogue
// does not know is passed on as the API said it, which the template's
// translation shows unchanged.
func valueID(ctx context.Context, prefix, value string) string {
	if value == "" {
		return "state.unknown"
	}
	if id := prefix + value; tr(ctx, id) != id {
		return id
	}
	return value
}

func (h *Handlers) vouchersPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	q := voucherQuery(r)
	v := templates.Vouchers{BillFilesHref: "/bills/files",
		Filters: templates.VoucherFilters{Customer: q.Customer, Status: q.Status, PaymentMode: q.PaymentMode, Usage: q.Usage, Scope: q.Scope}}
	status := http.StatusOK
	f, err := h.vouchers.ParseQuery(ctx, a, q)
	if err == nil {
		var l vouchers.List
		if l, err = h.vouchers.List(ctx, a, cachedFirst(r), f); err == nil {
			fillVouchers(ctx, &v, l, refreshAgain(r, l.Stale(), l.Pending()))
		}
	}
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		v.Filters.Errors = fieldMessages(ctx, err)
		v.Invalid = true
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.VoucherResults(v))
		return
	}
	h.render(w, r, status, templates.VouchersPage(h.page(w, r, "vouchers.title"), v))
}

// fillVouchers turns the list into the page's figures and rows.
func fillVouchers(ctx context.Context, v *templates.Vouchers, l vouchers.List, again bool) {
	f := l.Filters
	v.Blocked = blockedProblem(ctx, l.Blocked)
	if p := l.Pool.Value; p != nil {
		v.Pool = &templates.VoucherPool{Name: p.AgentName, Total: formatUSD(p.TotalQuota), Remaining: formatUSD(p.RemainingQuota), Issued: p.IssuedNum}
		v.PoolAsOf = formatTimeSeconds(ctx, l.Pool.FetchedAt)
	}
	v.PoolProblem = figureProblem(ctx, l.Pool.Err)
	v.Problem = figureProblem(ctx, l.Vouchers.Err)
	v.QuotaProblem = figureProblem(ctx, l.Quotas.Err)
	v.Stale = again
	if v.Stale {
		v.RefreshHref = voucherURL("/vouchers", f.Query, f.PageNumber(), url.Values{"fresh": {"1"}})
	}
	page := l.Vouchers.Value
	if page == nil {
		return
	}
	v.Loaded = true
	v.AsOf = formatTimeSeconds(ctx, l.Vouchers.FetchedAt)
	v.Total = page.Total
	var quotas map[int64]partnerapi.QueryVoucherAmountByUinItem
	if l.Quotas.Value != nil {
		quotas = *l.Quotas.Value
	}
	for _, it := range page.Items {
		uin := strconv.FormatInt(it.CustomerUin, 10)
		row := templates.CustomerVoucherRow{ID: strconv.FormatInt(it.VoucherId, 10), Uin: uin,
			StatusID: valueID(ctx, "vouchers.status_", it.VoucherStatus), Total: formatUSD(it.TotalAmount), Remaining: formatUSD(it.RemainingAmount),
			UsageID: valueID(ctx, "vouchers.usage_", it.Usage), PaymentModeID: valueID(ctx, "vouchers.mode_", it.PaymentMode),
			ScopeID: valueID(ctx, "vouchers.scope_", it.ProductScope), Effective: apiTimeText(ctx, it.EffectiveTime),
			Expires: apiTimeText(ctx, it.ExpireTime), Reason: it.ApplyReason,
			UsageHref: "/vouchers/" + uin + "/" + strconv.FormatInt(it.VoucherId, 10)}
		if q, ok := quotas[it.CustomerUin]; ok {
			row.QuotaTotal, row.QuotaRemaining = formatUSD(q.TotalAmount), formatUSD(q.RemainAmount)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Pager = templates.Pager{Page: f.PageNumber(), Pages: l.Pages}
	if f.PageNumber() > 1 {
		v.Pager.PrevURL = voucherURL("/vouchers", f.Query, f.PageNumber()-1, nil)
	}
	if f.PageNumber() < l.Pages {
		v.Pager.NextURL = voucherURL("/vouchers", f.Query, f.PageNumber()+1, nil)
	}
	v.CSVHref = voucherURL("/vouchers.csv", f.Query, 1, nil)
	v.XLSXHref = voucherURL("/vouchers.xlsx", f.Query, 1, nil)
}

func (h *Handlers) vouchersCSV(w http.ResponseWriter, r *http.Request) {
	h.vouchersExport(w, r, vouchers.CSV)
}

func (h *Handlers) vouchersXLSX(w http.ResponseWriter, r *http.Request) {
	h.vouchersExport(w, r, vouchers.XLSX)
}

// vouchersExport sends every voucher matching the filters as a file. The
// file is built in memory first (the list is bounded), so a failure is an
// error page rather than half a file.
func (h *Handlers) vouchersExport(w http.ResponseWriter, r *http.Request, format string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	f, err := h.vouchers.ParseQuery(ctx, a, voucherQuery(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if _, err := h.vouchers.Export(ctx, a, f, format, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	sendFile(w, "vouchers-"+h.now().UTC().Format("2006-01-02"), format, buf.Bytes())
}

// voucherUsageExport sends a voucher's usage (of the month asked, or all)
// as ?format=csv or xlsx.
func (h *Handlers) voucherUsageExport(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, id, format := chi.URLParam(r, "uin"), chi.URLParam(r, "id"), r.URL.Query().Get("format")
	var buf bytes.Buffer
	if _, err := h.vouchers.ExportUsage(ctx, actor(r), uin, id, r.URL.Query().Get("month"), format, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	n, _ := strconv.ParseInt(id, 10, 64) // the service checked it
	sendFile(w, "voucher-"+strconv.FormatInt(n, 10)+"-usage", format, buf.Bytes())
}

func (h *Handlers) voucherUsagePage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	uinText, idText := chi.URLParam(r, "uin"), chi.URLParam(r, "id")
	month, pageText := r.URL.Query().Get("month"), r.URL.Query().Get("page")
	status := http.StatusOK
	u, err := h.vouchers.UsageOf(ctx, a, cachedFirst(r), uinText, idText, month, pageText)
	v := templates.VoucherUsage{Uin: uinText, Voucher: idText, Month: month}
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		v.Errors = fieldMessages(ctx, err)
	}
	v.Name = u.Customer.Name
	v.Blocked = blockedProblem(ctx, u.Blocked)
	v.Problem = figureProblem(ctx, u.Detail.Err)
	base := "/vouchers/" + uinText + "/" + idText
	query := func(page int, fresh bool) string {
		q := url.Values{}
		if month != "" {
			q.Set("month", month)
		}
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		if fresh {
			q.Set("fresh", "1")
		}
		if len(q) == 0 {
			return base
		}
		return base + "?" + q.Encode()
	}
	if err == nil && refreshAgain(r, u.Stale(), u.Pending()) {
		v.Stale, v.RefreshHref = true, query(u.Page, true)
	}
	if d := u.Detail.Value; d != nil {
		v.Loaded = true
		v.AsOf = formatTimeSeconds(ctx, u.Detail.FetchedAt)
		v.Total, v.Remaining = formatUSD(d.TotalAmount), formatUSD(d.RemainAmount)
		v.Records = d.TotalRecordsCount
		if month != "" {
			v.Records = d.RecordsCountByMonth
		}
		for _, x := range d.Data {
			v.Rows = append(v.Rows, templates.UsageRow{ID: strconv.FormatInt(x.Id, 10), Deal: x.DealName, Bill: x.BillId, Amount: formatUSD(x.Amount),
				PayModeID: valueID(ctx, "vouchers.mode_", x.PayMode), Product: x.ProductCodeName, SubProduct: x.SubProductCodeName, Paid: apiTimeText(ctx, x.PayTime)})
		}
		if len(d.Data) > 0 {
			q := url.Values{}
			if month != "" {
				q.Set("month", month)
			}
			q.Set("format", vouchers.CSV)
			v.CSVHref = base + "/export?" + q.Encode()
			q.Set("format", vouchers.XLSX)
			v.XLSXHref = base + "/export?" + q.Encode()
		}
		v.Pager = templates.Pager{Page: u.Page, Pages: u.Pages}
		if u.Page > 1 {
			v.Pager.PrevURL = query(u.Page-1, false)
		}
		if u.Page < u.Pages {
			v.Pager.NextURL = query(u.Page+1, false)
		}
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.VoucherUsageResults(v))
		return
	}
	h.render(w, r, status, templates.VoucherUsagePage(h.page(w, r, "vouchers.usage_page"), v))
}
