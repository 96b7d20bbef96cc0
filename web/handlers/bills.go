package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/billing"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// BillingService is what the bills pages need.
type BillingService interface {
	Months() []string
	ParseQuery(actor audit.Actor, q billing.Query) (billing.Filters, error)
	Overview(ctx context.Context, actor audit.Actor, f billing.Filters) (billing.Overview, error)
	Progress(ctx context.Context, actor audit.Actor, month string) (*billing.Progress, error)
	Refresh(ctx context.Context, actor audit.Actor, month string) (store.Job, bool, error)
	ExportOverview(ctx context.Context, actor audit.Actor, f billing.Filters, format, table string, w io.Writer) error
	CustomerMonth(ctx context.Context, actor audit.Actor, uin uint64, month string, mode apicache.Mode, f billing.DetailFilters) (billing.Month, error)
	ExportMonth(ctx context.Context, actor audit.Actor, uin uint64, month string, f billing.DetailFilters, format, table string, w io.Writer) error
}

// billColumns are the overview's sortable columns, in order.
var billColumns = []struct {
	sort, label string
	num         bool
}{
	{"uin", "customers.col_uin", false},
	{"name", "customers.col_name", false},
	{"total", "bills.col_total", true},
	{"previous", "bills.col_previous", true},
	{"change", "bills.col_change", true},
}

func billsQuery(r *http.Request) billing.Query {
	v := r.URL.Query()
	return billing.Query{Month: v.Get("month"), Sort: v.Get("sort"), Desc: v.Get("desc"), Page: v.Get("page")}
}

// billsURL is the overview (or its export) for a month, sorted and paged.
func billsURL(path, month, sort string, desc bool, page int) string {
	v := url.Values{}
	v.Set("month", month)
	if sort != "" {
		v.Set("sort", sort)
		if desc {
			v.Set("desc", "1")
		} else {
			v.Set("desc", "0")
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return path + "?" + v.Encode()
}

func monthOptionsOf(months []string) []templates.Option {
	out := make([]templates.Option, len(months))
	for i, m := range months {
		out[i] = templates.Option{Value: m, Label: m}
	}
	return out
}

// barSize is a value's bar length against the longest, 0 to ChartScale;
// negatives (refunds) draw no bar.
func barSize(v, longest decimal.Decimal) int {
	if !v.IsPositive() || !longest.IsPositive() {
		return 0
	}
	return int(v.Mul(decimal.NewFromInt(templates.ChartScale)).Div(longest).IntPart())
}

func (h *Handlers) billsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actor(r)
	view := templates.BillsOverview{Months: monthOptionsOf(h.billing.Months())}
	f, err := h.billing.ParseQuery(a, billsQuery(r))
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ := problemOf(ctx, err)
		view.Errors = fieldMessages(ctx, err)
		h.render(w, r, status, templates.BillsOverviewPage(h.page(w, r, "bills.title"), view))
		return
	}
	o, err := h.billing.Overview(ctx, a, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.fillBills(ctx, a, &view, o)
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.BillsResults(view))
		return
	}
	h.render(w, r, http.StatusOK, templates.BillsOverviewPage(h.page(w, r, "bills.title"), view))
}

// fillBills turns the overview into the page's figures, chart and rows.
func (h *Handlers) fillBills(ctx context.Context, a audit.Actor, v *templates.BillsOverview, o billing.Overview) {
	f := o.Filters
	month := f.Month
	v.Month, v.Total = month, usd(o.Total)
	if o.PreviousRead {
		v.Previous, v.Change = usd(o.Previous), signedUSD(o.Total.Sub(o.Previous))
	}
	v.Read, v.Of, v.Stale, v.CanRefresh, v.Reseller = o.Customers, o.Of, o.Stale && o.Customers > 0, o.CanRefresh, a.OnBehalfOf() != 0
	if o.Of > 0 {
		v.Read = o.DirectRead
	}
	v.AsOf = formatTime(ctx, o.AsOf)
	if p := o.Running; p != nil {
		v.Progress = billsProgressView(ctx, month, p)
	}
	longest := decimal.Zero
	for _, m := range o.Months {
		longest = decimal.Max(longest, m.Total)
	}
	v.Chart = templates.Chart{ID: "bills-chart", Label: tr(ctx, "bills.chart_label", map[string]any{"From": o.Months[0].Month, "To": month})}
	for _, m := range o.Months {
		total := usd(m.Total)
		v.Chart.Bars = append(v.Chart.Bars, templates.ChartBar{Label: m.Month[2:], Title: m.Month, Value: total, Size: barSize(m.Total, longest), Mark: m.Month == month})
		v.MonthRows = append(v.MonthRows, templates.MonthTotalRow{Month: m.Month, Total: total, Customers: m.Customers, Current: m.Month == month})
	}
	sort, desc := f.Sorted()
	for _, c := range billColumns {
		col := templates.SortColumn{LabelID: c.label, Num: c.num, Sort: "none", Href: billsURL("/bills", month, c.sort, c.num, 1)}
		if c.sort == sort {
			col.Sort = "ascending"
			if desc {
				col.Sort = "descending"
			}
			col.Href = billsURL("/bills", month, c.sort, !desc, 1)
		}
		v.Columns = append(v.Columns, col)
	}
	for _, row := range o.Rows {
		uin := strconv.FormatUint(row.Uin, 10)
		br := templates.BillRow{Uin: uin, Name: row.Name, Href: "/bills/" + uin + "/" + month, Total: usd(row.Amount), ChangePct: row.ChangePct}
		if row.HasPrevious {
			br.Previous, br.Change, br.Trend = usd(row.PrevAmount), signedUSD(row.Change), row.Change.Sign()
		}
		v.Rows = append(v.Rows, br)
	}
	v.Count, v.Page, v.Pages = o.Customers, f.PageNumber(), o.Pages
	if v.Page > 1 {
		v.PrevHref = billsURL("/bills", month, sort, desc, v.Page-1)
	}
	if v.Page < v.Pages {
		v.NextHref = billsURL("/bills", month, sort, desc, v.Page+1)
	}
	v.CSVHref = billsURL("/bills.csv", month, sort, desc, 1)
	v.XLSXHref = billsURL("/bills.xlsx", month, sort, desc, 1)
	v.MonthsCSV = billsURL("/bills.csv", month, "", false, 1) + "&table=months"
}

func billsProgressView(ctx context.Context, month string, p *billing.Progress) *templates.BillsProgress {
	v := &templates.BillsProgress{Month: month, JobID: p.JobID, Done: p.Done, Total: p.Total, Planning: p.Planning}
	if p.Left > 0 {
		v.ETA = formatLeft(ctx, p.Left)
	}
	return v
}

// billsProgress is the progress bar's poll: the refresh's progress, or
// once the job it watched has ended, a note to reload the figures.
func (h *Handlers) billsProgress(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	month := r.URL.Query().Get("month")
	p, err := h.billing.Progress(ctx, actor(r), month)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var v *templates.BillsProgress
	switch {
	case p != nil:
		v = billsProgressView(ctx, month, p)
	case r.URL.Query().Get("job") != "":
		v = &templates.BillsProgress{Month: month, Finished: true}
	}
	h.render(w, r, http.StatusOK, templates.BillsRefreshState(v))
}

// refreshBills starts the month's bills refresh from the overview.
func (h *Handlers) refreshBills(w http.ResponseWriter, r *http.Request) {
	month := r.PostFormValue("month")
	job, joined, err := h.billing.Refresh(r.Context(), actor(r), month)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := strconv.FormatInt(job.ID, 10)
	if joined {
		h.flash(w, r, "info", tr(r.Context(), "bills.refresh_joined", map[string]any{"ID": id}))
	} else {
		h.flash(w, r, "ok", tr(r.Context(), "bills.refresh_started", map[string]any{"ID": id}))
	}
	redirect(w, r, "/bills?month="+url.QueryEscape(month))
}

func (h *Handlers) billsCSV(w http.ResponseWriter, r *http.Request) { h.billsExport(w, r, billing.CSV) }
func (h *Handlers) billsXLSX(w http.ResponseWriter, r *http.Request) {
	h.billsExport(w, r, billing.XLSX)
}

// billsExport downloads the overview's tables. The file is made in memory
// first (a month's rows are one per customer), so a failure is an error
// page rather than half a file.
func (h *Handlers) billsExport(w http.ResponseWriter, r *http.Request, format string) {
	ctx := r.Context()
	a := actor(r)
	f, err := h.billing.ParseQuery(a, billsQuery(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	table := r.URL.Query().Get("table")
	if err := h.billing.ExportOverview(ctx, a, f, format, table, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	name := "bills-" + f.Month
	if table == "months" {
		name += "-months"
	}
	sendFile(w, name, format, buf.Bytes())
}

// billsCustomer turns the customer month form's choice into its page.
func (h *Handlers) billsCustomer(w http.ResponseWriter, r *http.Request) {
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		month = h.billing.Months()[0]
	}
	redirect(w, r, "/bills/"+strconv.FormatUint(uin, 10)+"/"+url.PathEscape(month))
}

func detailQuery(r *http.Request) billing.DetailQuery {
	v := r.URL.Query()
	return billing.DetailQuery{PayMode: v.Get("paymode"), ActionType: v.Get("action"), IsConfirmed: v.Get("paid"), Page: v.Get("page")}
}

// monthURL is a customer's month with the detail filters, or one of its
// exports.
func monthURL(uin, month, suffix string, q billing.DetailQuery, page int, extra ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"paymode": q.PayMode, "action": q.ActionType, "paid": q.IsConfirmed} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	u := "/bills/" + uin + "/" + month + suffix
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// monthParam reads the month of a customer month's path, without the
// export suffix the routes cut off.
func monthParam(r *http.Request) string { return chi.URLParam(r, "month") }

func (h *Handlers) billsMonthPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	a := actor(r)
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	status := http.StatusOK
	var errs map[string]string
	f, err := billing.ParseDetail(detailQuery(r))
	if err != nil {
		status, _, _ = problemOf(ctx, err)
		errs = fieldMessages(ctx, err)
		f, _ = billing.ParseDetail(billing.DetailQuery{})
	}
	m, err := h.billing.CustomerMonth(ctx, a, uin, monthParam(r), apicache.Fresh, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := h.monthView(ctx, m)
	v.DetailFilters.Errors = errs
	if isHTMX(r) {
		h.render(w, r, status, templates.BillsMonthBody(v))
		return
	}
	h.render(w, r, status, templates.BillsMonthPage(h.page(w, r, "bills.customer_page"), v))
}

// partRows formats breakdown lines.
func partRows(ps []store.BillPart, sub bool) []templates.BillPartRow {
	out := make([]templates.BillPartRow, 0, len(ps))
	for _, p := range ps {
		out = append(out, templates.BillPartRow{Code: p.Code, Name: p.Name, Original: decimalUSD(p.OriginalCost), Voucher: decimalUSD(p.VoucherAmount), Cost: decimalUSD(p.Total), Sub: sub})
	}
	return out
}

// partsChart draws a breakdown's lines as bars.
func partsChart(id, label string, ps []store.BillPart) templates.Chart {
	longest := decimal.Zero
	values := make([]decimal.Decimal, len(ps))
	for i, p := range ps {
		values[i], _ = decimal.NewFromString(p.Total)
		longest = decimal.Max(longest, values[i])
	}
	c := templates.Chart{ID: id, Label: label}
	for i, p := range ps {
		name := p.Name
		if name == "" {
			name = p.Code
		}
		c.Bars = append(c.Bars, templates.ChartBar{Label: name, Title: name, Value: decimalUSD(p.Total), Size: barSize(values[i], longest)})
	}
	return c
}

// breakdown builds one breakdown's view: rows, chart, sum and whether the
// sum differs from the month's total.
func breakdown(ctx context.Context, m billing.Month, id, titleID string, rows []templates.BillPartRow, parts []store.BillPart, fig apicache.Figure[[]store.BillPart]) templates.BillBreakdown {
	b := templates.BillBreakdown{ID: id, TitleID: titleID, Rows: rows, CSVHref: monthURL(strconv.FormatUint(m.Row.Uin, 10), m.Month, ".csv", m.Filters.DetailQuery, 0, "table", id)}
	b.Problem = figureProblem(ctx, fig.Err)
	b.Loading = fig.Value == nil && fig.Err == nil
	if fig.Value == nil {
		return b
	}
	b.Chart = partsChart("bills-chart-"+id, tr(ctx, titleID), parts)
	sum, ok := billing.Sum(parts)
	b.Sum = usd(sum)
	if m.Total.Value != nil && (!ok || !sum.Equal(m.Total.Value.Decimal())) {
		b.Mismatch = tr(ctx, "bills.mismatch", map[string]any{"Sum": sum.String(), "Total": m.Total.Value.String()})
	}
	return b
}

func (h *Handlers) monthView(ctx context.Context, m billing.Month) templates.BillsMonth {
	uin := strconv.FormatUint(m.Row.Uin, 10)
	f := m.Filters
	v := templates.BillsMonth{Uin: uin, Name: displayName(m.Row), Month: m.Month, Months: monthOptionsOf(h.billing.Months()),
		CustomerHref: "/customers/" + uin, OverviewHref: "/bills?month=" + m.Month,
		FilesHref: "/bills/files?" + url.Values{"uin": {uin}, "month": {m.Month}}.Encode(),
		XLSXHref:  monthURL(uin, m.Month, ".xlsx", f.DetailQuery, 0), Pending: m.Pending(),
		RefreshHref: monthURL(uin, m.Month, "", f.DetailQuery, f.PageNumber()),
		DailyCSV:    monthURL(uin, m.Month, ".csv", f.DetailQuery, 0, "table", "daily"),
		DetailsCSV:  monthURL(uin, m.Month, ".csv", f.DetailQuery, 0, "table", "details"),
		DetailFilters: templates.BillDetailFilters{PayMode: f.PayMode, ActionType: f.ActionType, IsConfirmed: f.IsConfirmed,
			PayModes: filterOptions(ctx, billing.PayModes, "bills.paymode_"), ActionTypes: filterOptions(ctx, billing.ActionTypes, ""),
			Paid: filterOptions(ctx, billing.Confirmed, "bills.paid_")},
		LinesPage: f.PageNumber(),
	}
	if m.Blocked != nil {
		_, msg, _ := problemOf(ctx, m.Blocked)
		v.Blocked = &templates.APIProblem{Message: msg, Info: true}
		return v
	}
	if m.Total.Value != nil {
		v.Total = formatUSD(*m.Total.Value)
	}
	v.TotalProblem = figureProblem(ctx, m.Total.Err)

	// Pay modes, each followed by its transaction types.
	pm := templates.BillBreakdown{ID: "paymodes", TitleID: "bills.by_paymode", CSVHref: monthURL(uin, m.Month, ".csv", f.DetailQuery, 0, "table", "paymodes")}
	pm.Problem = figureProblem(ctx, m.PayModes.Err)
	pm.Loading = m.PayModes.Value == nil && m.PayModes.Err == nil
	if m.PayModes.Value != nil {
		var parts []store.BillPart
		for _, mode := range *m.PayModes.Value {
			parts = append(parts, mode.BillPart)
			pm.Rows = append(pm.Rows, partRows([]store.BillPart{mode.BillPart}, false)...)
			pm.Rows = append(pm.Rows, partRows(mode.Actions, true)...)
			if sum, ok := billing.Sum(mode.Actions); len(mode.Actions) > 0 && (!ok || sum.String() != decimalOf(mode.Total).String()) {
				pm.Mismatch = tr(ctx, "bills.mismatch_types", map[string]any{"Mode": mode.Name, "Sum": sum.String(), "Total": mode.Total})
			}
		}
		b := breakdown(ctx, m, "paymodes", "bills.by_paymode", pm.Rows, parts, apicache.Figure[[]store.BillPart]{Value: &parts})
		pm.Chart, pm.Sum = b.Chart, b.Sum
		if b.Mismatch != "" {
			pm.Mismatch = b.Mismatch
		}
	}
	v.Breakdowns = append(v.Breakdowns, pm)
	if m.Products.Value != nil {
		v.Breakdowns = append(v.Breakdowns, breakdown(ctx, m, "products", "bills.by_product", partRows(*m.Products.Value, false), *m.Products.Value, m.Products))
	} else {
		v.Breakdowns = append(v.Breakdowns, breakdown(ctx, m, "products", "bills.by_product", nil, nil, m.Products))
	}
	if m.Regions.Value != nil {
		v.Breakdowns = append(v.Breakdowns, breakdown(ctx, m, "regions", "bills.by_region", partRows(*m.Regions.Value, false), *m.Regions.Value, m.Regions))
	} else {
		v.Breakdowns = append(v.Breakdowns, breakdown(ctx, m, "regions", "bills.by_region", nil, nil, m.Regions))
	}

	// Daily spend.
	v.DailyProblem = figureProblem(ctx, m.Daily.Err)
	v.DailyFrom = m.DailyFrom
	if m.Daily.Value != nil {
		longest := decimal.Zero
		for _, d := range *m.Daily.Value {
			longest = decimal.Max(longest, decimalOf(d.Total))
		}
		v.Daily = templates.Chart{ID: "bills-chart-daily", Label: tr(ctx, "bills.daily_label", map[string]any{"Month": m.Month})}
		for _, d := range *m.Daily.Value {
			total := decimalUSD(d.Total)
			v.Days = append(v.Days, templates.BillDay{Date: d.Date, Total: total})
			v.Daily.Bars = append(v.Daily.Bars, templates.ChartBar{Label: d.Date[8:], Title: d.Date, Value: total, Size: barSize(decimalOf(d.Total), longest)})
		}
		v.DailySum = usd(billing.DailySum(*m.Daily.Value))
	}

	// Detail lines.
	v.LinesProblem = figureProblem(ctx, m.Details.Err)
	if d := m.Details.Value; d != nil {
		v.LinesTotal = d.Total
		for _, l := range d.Lines {
			v.Lines = append(v.Lines, templates.BillLine{Time: l.TransactionTime, Product: l.ProductName, SubProduct: l.SubProductName,
				Mode: l.BillingMode, Type: l.TransactionType, Region: l.Region, Instance: l.InstanceId, Component: l.ComponentName,
				Original: decimalUSD(l.OriginalCost), Voucher: decimalUSD(l.VoucherDeduction), Cost: decimalUSD(l.TotalCost)})
		}
		page := f.PageNumber()
		if page > 1 {
			v.PrevHref = monthURL(uin, m.Month, "", f.DetailQuery, page-1)
		}
		if int64(page*billing.DetailPageSize) < d.Total {
			v.NextHref = monthURL(uin, m.Month, "", f.DetailQuery, page+1)
		}
	}
	return v
}

// filterOptions lists a filter's values with "any" first; labelPrefix ""
// shows the values as they are (the API's transaction type codes).
func filterOptions(ctx context.Context, values []string, labelPrefix string) []templates.Option {
	out := []templates.Option{{Value: "", LabelID: "customers.any"}}
	for _, v := range values {
		o := templates.Option{Value: v, Label: v}
		if labelPrefix != "" {
			o = templates.Option{Value: v, LabelID: labelPrefix + v}
		}
		out = append(out, o)
	}
	return out
}

func (h *Handlers) billsMonthCSV(w http.ResponseWriter, r *http.Request) {
	h.billsMonthExport(w, r, billing.CSV)
}

func (h *Handlers) billsMonthXLSX(w http.ResponseWriter, r *http.Request) {
	h.billsMonthExport(w, r, billing.XLSX)
}

// billsMonthExport downloads a customer month's tables, made in memory
// first (the detail lines are bounded by billing.MaxExportLines).
func (h *Handlers) billsMonthExport(w http.ResponseWriter, r *http.Request, format string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	f, err := billing.ParseDetail(detailQuery(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	table := r.URL.Query().Get("table")
	month := monthParam(r)
	if err := h.billing.ExportMonth(ctx, actor(r), uin, month, f, format, table, &buf); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = apperr.New(apperr.Busy, "", "bills.still_reading").Because(err)
		}
		h.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("bills-%d-%s", uin, month)
	if table != "" && format == billing.CSV {
		name += "-" + table
	}
	sendFile(w, name, format, buf.Bytes())
}
