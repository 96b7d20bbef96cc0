package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/customers"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// CustomerService is what the customers pages need.
type CustomerService interface {
	ParseQuery(actor audit.Actor, q customers.Query) (customers.Filters, error)
	Search(ctx context.Context, actor audit.Actor, f customers.Filters) (customers.Listing, error)
	Resellers(ctx context.Context, actor audit.Actor) ([]store.ResellerCount, error)
	Export(ctx context.Context, actor audit.Actor, f customers.Filters, w io.Writer) (int, error)
	RefreshAll(ctx context.Context, actor audit.Actor) (store.Job, bool, error)
	Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
	Customer(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode, historyPage int) (customers.Detail, error)
	Refresh(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
	SetRemark(ctx context.Context, actor audit.Actor, uin uint64, remark string) (customers.Write, error)
	SetSuspended(ctx context.Context, actor audit.Actor, uin uint64, suspend bool) (customers.Write, error)
	WriteStatus(ctx context.Context, actor audit.Actor, uin uint64, id int64) (customers.Write, error)
	CheckWrite(ctx context.Context, actor audit.Actor, uin uint64, id int64) (customers.Write, error)
}

// customerColumns are the list's sortable columns, in order.
var customerColumns = []struct {
	sort, label string
	num         bool
}{
	{"uin", "customers.col_uin", false},
	{"name", "customers.col_name", false},
	{"email", "customers.col_email", false},
	{"remark", "customers.col_remark", false},
	{"credit", "customers.col_credit", true},
	{"remaining_credit", "customers.col_remaining", true},
	{"spend", "customers.col_spend", true},
	{"reseller_uin", "customers.col_reseller", false},
	{"bind_time", "customers.col_bind_time", false},
}

// customerQuery reads the list's form from the URL.
func customerQuery(r *http.Request) customers.Query {
	q := r.URL.Query()
	return customers.Query{Text: q.Get("q"), Verified: q.Get("verified"), Suspended: q.Get("suspended"), Reseller: q.Get("reseller"),
		Spend: q.Get("spend"), Watch: q.Get("watch"), Sort: q.Get("sort"), Desc: q.Get("desc"), Page: q.Get("page")}
}

// listURL is the list with the filters, a sort and a page.
func listURL(path string, q customers.Query, sort string, desc bool, page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Text, "verified": q.Verified, "suspended": q.Suspended, "reseller": q.Reseller,
		"spend": q.Spend, "watch": q.Watch} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if sort != "" {
		v.Set("sort", sort)
		if desc {
			v.Set("desc", "1")
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (h *Handlers) customersPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actor(r)
	q := customerQuery(r)
	form := templates.CustomerFilters{Q: q.Text, Verified: q.Verified, Suspended: q.Suspended, Reseller: q.Reseller, Spend: q.Spend,
		Sort: q.Sort, Desc: q.Desc}
	if a.OnBehalfOf() == 0 {
		resellers, err := h.customers.Resellers(ctx, a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		form.Resellers = resellerOptions(ctx, resellers)
	}
	l := templates.CustomerList{Filters: form, CanRefresh: a.Can(auth.RunJobs)}
	status := http.StatusOK
	f, err := h.customers.ParseQuery(a, q)
	if err == nil {
		var list customers.Listing
		if list, err = h.customers.Search(ctx, a, f); err == nil {
			h.fillList(ctx, &l, list)
		}
	}
	if err != nil {
		if _, ok := apperr.As(err); !ok {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		l.Filters.Errors = fieldMessages(ctx, err)
		l.InTable = -1 // neither empty nor listed: the form says what is wrong
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.CustomerResults(l))
		return
	}
	h.render(w, r, status, templates.CustomersPage(h.page(w, r, "customers.title"), l))
}

func resellerOptions(ctx context.Context, resellers []store.ResellerCount) []templates.Option {
	out := []templates.Option{{Value: "", LabelID: "customers.any"}, {Value: "direct", LabelID: "customers.reseller_direct"}}
	for _, r := range resellers {
		out = append(out, templates.Option{Value: strconv.FormatUint(r.Uin, 10),
			Label: tr(ctx, "customers.reseller_option", map[string]any{"Uin": r.Uin, "Count": r.Customers})})
	}
	return out
}

// fillList turns a page of the table into the list's rows and links.
func (h *Handlers) fillList(ctx context.Context, l *templates.CustomerList, list customers.Listing) {
	f := list.Filters
	sort, desc := f.Sorted()
	for _, c := range customerColumns {
		col := templates.SortColumn{LabelID: c.label, Num: c.num, Sort: "none", Href: listURL("/customers", f.Query, c.sort, false, 1)}
		if c.sort == sort {
			col.Sort = "ascending"
			if desc {
				col.Sort = "descending"
			}
			col.Href = listURL("/customers", f.Query, c.sort, !desc, 1)
		}
		l.Columns = append(l.Columns, col)
	}
	for _, c := range list.Customers {
		l.Rows = append(l.Rows, customerRow(ctx, c, list.Month))
	}
	l.Total, l.Page, l.Pages, l.InTable, l.Stale, l.Refreshing = list.Total, f.PageNumber(), list.Pages, list.InTable, list.Stale, list.Refreshing
	l.AsOf = formatTime(ctx, list.AsOf)
	l.Month = list.Month
	if l.Page > 1 {
		l.PrevHref = listURL("/customers", f.Query, f.Sort, f.Desc == "1", l.Page-1)
	}
	if l.Page < l.Pages {
		l.NextHref = listURL("/customers", f.Query, f.Sort, f.Desc == "1", l.Page+1)
	}
	l.ExportHref = listURL("/customers.csv", f.Query, f.Sort, f.Desc == "1", 1)
}

func customerRow(ctx context.Context, c store.Customer, month string) templates.CustomerRow {
	row := templates.CustomerRow{Uin: strconv.FormatUint(c.Uin, 10), Name: c.Name, Email: c.Email, Phone: c.Phone, Country: c.Country,
		Remark: c.Remark, Credit: decimalUSD(c.Credit), Remaining: decimalUSD(c.RemainingCredit), Reseller: formatUin(c.ResellerUin),
		BindTime: formatTime(ctx, c.BindTime), Suspended: c.Suspended(), Verification: authStatusID(c.AuthStatus)}
	if c.SpendMonth == month {
		row.Spend = decimalUSD(c.Spend)
	}
	return row
}

// authStatusID names DescribeCustomerInfo's AuthStatus.
func authStatusID(s string) string {
	switch s {
	case "":
		return ""
	case "3":
		return "customers.auth_passed"
	case "0", "1":
		return "customers.auth_pending"
	case "2":
		return "customers.auth_rejected"
	}
	return "customers.auth_none"
}

// customersCSV downloads every customer the filters select.
func (h *Handlers) customersCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actor(r)
	f, err := h.customers.ParseQuery(a, customerQuery(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customers-%s.csv"`, h.now().UTC().Format("2006-01-02")))
	// Streamed: fifty thousand rows need not sit in memory. A failure
	// after the first bytes cannot change the status; it is logged.
	if _, err := h.customers.Export(ctx, a, f, w); err != nil && ctx.Err() == nil {
		h.logger.Error("export customers", "err", err, "request_id", middleware.GetReqID(ctx))
	}
}

// refreshCustomers starts the directory refresh from the list.
func (h *Handlers) refreshCustomers(w http.ResponseWriter, r *http.Request) {
	job, joined, err := h.customers.RefreshAll(r.Context(), actor(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := strconv.FormatInt(job.ID, 10)
	if joined {
		h.flash(w, r, "info", tr(r.Context(), "customers.refresh_joined", map[string]any{"ID": id}))
	} else {
		h.flash(w, r, "ok", tr(r.Context(), "customers.refresh_started", map[string]any{"ID": id}))
	}
	redirect(w, r, "/customers")
}

// customerUin reads the customer's UIN from the path; a malformed one is
// no customer at all.
func customerUin(r *http.Request) (uint64, bool) {
	uin, err := strconv.ParseUint(chi.URLParam(r, "uin"), 10, 64)
	return uin, err == nil && uin > 0
}

func (h *Handlers) customerPage(w http.ResponseWriter, r *http.Request) {
	if isHTMX(r) {
		h.renderCustomerDetails(w, r, apicache.Cached)
		return
	}
	h.renderCustomer(w, r, apicache.Cached)
}

// customerDetails is the figures region alone, for htmx's background
// refresh: fresh=1 asks the API for what is stale.
func (h *Handlers) customerDetails(w http.ResponseWriter, r *http.Request) {
	mode := apicache.Cached
	if r.URL.Query().Get("fresh") == "1" {
		mode = apicache.Fresh
	}
	h.renderCustomerDetails(w, r, mode)
}

func (h *Handlers) renderCustomerDetails(w http.ResponseWriter, r *http.Request, mode apicache.Mode) {
	d, ok := h.customerView(w, r, mode)
	if ok {
		h.render(w, r, http.StatusOK, templates.CustomerDetails(d))
	}
}

func (h *Handlers) renderCustomer(w http.ResponseWriter, r *http.Request, mode apicache.Mode) {
	d, ok := h.customerView(w, r, mode)
	if !ok {
		return
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("write"), 10, 64); err == nil && id > 0 {
		uin, _ := customerUin(r)
		wr, err := h.customers.WriteStatus(r.Context(), actor(r), uin, id)
		if err == nil {
			d.Write = h.writeView(r.Context(), actor(r), wr)
		}
	}
	h.render(w, r, http.StatusOK, templates.CustomerPage(h.page(w, r, "customers.customer_title"), d))
}

// customerView reads the customer for its page; on failure it has answered.
func (h *Handlers) customerView(w http.ResponseWriter, r *http.Request, mode apicache.Mode) (templates.CustomerDetail, bool) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return templates.CustomerDetail{}, false
	}
	hpage := 0
	if s := r.URL.Query().Get("hpage"); s != "" {
		var err error
		if hpage, err = strconv.Atoi(s); err != nil {
			hpage = -1
		}
	}
	a := actor(r)
	d, err := h.customers.Customer(ctx, a, uin, mode, hpage)
	if err != nil {
		h.fail(w, r, err)
		return templates.CustomerDetail{}, false
	}
	return h.customerDetail(ctx, a, d), true
}

func (h *Handlers) customerDetail(ctx context.Context, a audit.Actor, d customers.Detail) templates.CustomerDetail {
	row := d.Row
	uin := strconv.FormatUint(row.Uin, 10)
	v := templates.CustomerDetail{
		Uin: uin, Name: displayName(row), Email: row.Email, Phone: row.Phone, Country: row.Country, Reseller: formatUin(row.ResellerUin),
		BindTime: formatTime(ctx, row.BindTime), FetchedAt: formatTime(ctx, row.FetchedAt), Suspended: row.Suspended(),
		PartnerSuspended: row.Force == 2, Month: d.Month, CanWrite: d.CanWrite,
		Remark: templates.RemarkView{Uin: uin, Remark: row.Remark, CanEdit: d.CanWrite && d.Blocked == nil},
	}
	if row.ResellerUin != 0 && a.Can(auth.ViewSubagents) {
		v.ResellerHref = "/resellers/" + v.Reseller
	}
	if row.SpendMonth == d.Month {
		v.Spend = decimalUSD(row.Spend)
	}
	if a.Can(auth.ViewCredit) {
		v.CreditHref = "/credit?q=" + uin + "&reseller=" + creditReseller(row.ResellerUin, a)
		v.WatchHref = "/credit/" + uin + "/watch"
		if d.Watch != nil {
			v.WatchPast = stateWords(ctx, *d.Watch)
		}
	}
	if a.Can(auth.WriteCredit) && d.Blocked == nil {
		v.AllocateHref = "/credit/" + uin + "/allocate"
	}
	if a.Can(auth.ViewBills) {
		v.BillsHref = "/bills/" + uin + "/" + d.Month
	}
	if a.Can(auth.ViewBills) {
		v.OwnHref = "/customers/" + uin + "/own"
	}
	if d.Blocked != nil {
		_, msg, _ := problemOf(ctx, d.Blocked)
		if p := apiProblem(ctx, d.Blocked); errors.As(d.Blocked, new(*partnerapi.APIError)) {
			msg = p.Message
		}
		v.Blocked = &templates.APIProblem{Message: msg, Info: true}
	}
	var oldest time.Time
	seen := func(t time.Time, pending bool) {
		v.Loading = v.Loading || pending
		if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	if x := d.Info.Value; x != nil {
		v.Info = &templates.CustomerInfo{Email: x.Email, Phone: x.Phone, BindTime: apiTimeText(ctx, x.BindTime),
			Registered: apiTimeText(ctx, x.UinRegisterTime), AccountStatusID: accountStatusID(x.AccountStatus),
			AuthStatusID: authStatusID(x.AuthStatus), AuthTypeID: authTypeID(x.AuthType), HasExpense: x.HasExpense == 1}
		if v.Info.AuthStatusID == "" {
			v.Info.AuthStatusID = "customers.auth_none"
		}
		v.Remark.Remark = x.Mark
	}
	v.InfoProblem = figureProblem(ctx, d.Info.Err)
	seen(d.Info.FetchedAt, d.Info.Pending)
	v.Verified, v.VerifiedProblem = d.Verified.Value, figureProblem(ctx, d.Verified.Err)
	seen(d.Verified.FetchedAt, d.Verified.Pending)
	if x := d.Credit.Value; x != nil {
		v.Credit = &templates.CreditFigures{Total: formatUSD(x.TotalCredit), Remaining: formatUSD(x.RemainingCredit)}
	}
	v.CreditProblem = figureProblem(ctx, d.Credit.Err)
	seen(d.Credit.FetchedAt, d.Credit.Pending)
	if x := d.History.Value; x != nil {
		v.HistoryLoaded, v.HistoryTotal = true, int(x.Total)
		for _, e := range x.Entries {
			v.History = append(v.History, templates.HistoryRow{Time: apiTimeText(ctx, e.AllocatedTime), Operator: e.Operator,
				Added: formatUSD(e.AllocatedCredit), Before: formatUSD(e.Credit), After: formatUSD(e.ClientCreditAfter), Remark: e.Remark})
		}
		if d.HistoryPage > 1 {
			v.HistoryPrev = historyURL(uin, d.HistoryPage-1)
		}
		if uint64(d.HistoryPage*customers.HistoryPageSize) < x.Total && d.HistoryPage < customers.MaxHistoryPage {
			v.HistoryNext = historyURL(uin, d.HistoryPage+1)
		}
	}
	v.HistoryProblem = figureProblem(ctx, d.History.Err)
	seen(d.History.FetchedAt, d.History.Pending)
	if x := d.VoucherQuota.Value; x != nil {
		v.VoucherTotal, v.VoucherRemaining = formatUSD(x.TotalAmount), formatUSD(x.RemainAmount)
	}
	v.VoucherProblem = figureProblem(ctx, d.VoucherQuota.Err)
	seen(d.VoucherQuota.FetchedAt, d.VoucherQuota.Pending)
	if x := d.Vouchers.Value; x != nil {
		v.VouchersLoaded, v.VoucherCount = true, x.TotalCount
		for _, vo := range x.Data {
			v.Vouchers = append(v.Vouchers, templates.VoucherRow{ID: vo.VoucherId, StatusID: voucherStatusID(vo.VoucherStatus),
				Total: formatUSD(vo.TotalAmount), Remaining: formatUSD(vo.RemainAmount)})
		}
	}
	v.VouchersProblem = figureProblem(ctx, d.Vouchers.Err)
	seen(d.Vouchers.FetchedAt, d.Vouchers.Pending)
	if !oldest.IsZero() {
		v.AsOf = formatTimeSeconds(ctx, oldest)
	}
	v.Stale = d.Stale() && !v.Loading
	for _, e := range d.Audit {
		line := templates.AuditLine{Time: formatTimeSeconds(ctx, e.Time), Actor: e.Actor,
			Action: translated(ctx, "auditaction."+e.Action, e.Action), OutcomeID: "outcome." + e.Outcome}
		if phase := e.Params["phase"]; phase != "" {
			line.Action += " (" + translated(ctx, "auditphase."+phase, phase) + ")"
		}
		if a.Can(auth.ViewAudit) {
			line.Href = "/audit/" + strconv.FormatInt(e.ID, 10)
		}
		v.Audit = append(v.Audit, line)
	}
	v.AuditMore = d.AuditMore
	if a.Can(auth.ViewAudit) {
		v.AuditHref = "/audit?customer=" + uin
	}
	return v
}

func historyURL(uin string, page int) string {
	return "/customers/" + uin + "?hpage=" + strconv.Itoa(page)
}

// displayName is what a customer is called on its page: its name, else
// its email, else its UIN.
func displayName(c store.Customer) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	}
	return strconv.FormatUint(c.Uin, 10)
}

// apiTimeText shows a time the API wrote as "2006-01-02 15:04:05" (UTC+8)
// in the reader's zone; text it cannot read is shown as it came.
func apiTimeText(ctx context.Context, s string) string {
	t, err := partnerapi.ParseTime(s)
	if err != nil {
		return s
	}
	return formatTime(ctx, t)
}

func accountStatusID(s string) string {
	switch s {
	case "0":
		return "customers.account_normal"
	case "1":
		return "customers.account_forced"
	case "2":
		return "customers.account_arrears"
	}
	return "customers.account_other"
}

func authTypeID(t int64) string {
	switch t {
	case 0:
		return "customers.auth_personal"
	case 1:
		return "customers.auth_company"
	}
	return ""
}

func voucherStatusID(s string) string {
	switch s {
	case "Unused":
		return "customers.voucher_unused"
	case "Used":
		return "customers.voucher_used"
	case "Expired":
		return "customers.voucher_expired"
	}
	return "customers.voucher_other"
}

// refreshCustomer reads one customer again, then shows its page.
func (h *Handlers) refreshCustomer(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.customers.Refresh(ctx, actor(r), uin); err != nil {
		var apiErr *partnerapi.APIError
		if errors.As(err, &apiErr) || errors.Is(err, context.DeadlineExceeded) {
			h.flash(w, r, "error", apiProblemText(ctx, err))
			redirect(w, r, "/customers/"+chi.URLParam(r, "uin"))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "customers.refreshed"))
	redirect(w, r, "/customers/"+chi.URLParam(r, "uin"))
}

// writeView tells where a write on a customer stands.
func (h *Handlers) writeView(ctx context.Context, a audit.Actor, wr customers.Write) *templates.WriteView {
	v := &templates.WriteView{JobID: wr.Job.ID, Uin: strconv.FormatUint(wr.Intent.ClientUin, 10), State: wr.State(),
		CanCheck: a.Can(auth.WriteCustomers)}
	switch {
	case wr.Intent.Action == partnerapi.ActionModifyClientRemark:
		v.What = "remark"
	case wr.Suspending():
		v.What = "suspend"
	default:
		v.What = "restore"
	}
	if v.State == customers.WriteFailed || v.State == customers.WriteUnknown {
		v.Problem = itemProblem(ctx, wr.Item)
	}
	return v
}

// remarkView reads the customer's remark region.
func (h *Handlers) remarkView(w http.ResponseWriter, r *http.Request) (templates.RemarkView, store.Customer, bool) {
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return templates.RemarkView{}, store.Customer{}, false
	}
	row, err := h.customers.Row(r.Context(), actor(r), uin)
	if err != nil {
		h.fail(w, r, err)
		return templates.RemarkView{}, store.Customer{}, false
	}
	return templates.RemarkView{Uin: strconv.FormatUint(uin, 10), Remark: row.Remark, Value: row.Remark,
		CanEdit: actor(r).Can(auth.WriteCustomers)}, row, true
}

// remarkEditor shows the remark editor: a fragment for htmx (or the remark
// alone with view=1), a page of its own without script.
func (h *Handlers) remarkEditor(w http.ResponseWriter, r *http.Request) {
	v, row, ok := h.remarkView(w, r)
	if !ok {
		return
	}
	v.Editing = v.CanEdit && r.URL.Query().Get("view") != "1"
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.CustomerRemark(v))
		return
	}
	h.render(w, r, http.StatusOK, templates.CustomerRemarkPage(h.page(w, r, "customers.remark_edit"), displayName(row), v))
}

// saveRemark changes the remark and shows the outcome: in place for htmx,
// after a redirect otherwise.
func (h *Handlers) saveRemark(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	typed := r.PostFormValue("remark")
	wr, err := h.customers.SetRemark(ctx, a, uin, typed)
	if err != nil {
		if fields := apperr.Fields(err); len(fields) > 0 && fields["remark"] != nil {
			h.remarkProblem(w, r, uin, typed, fieldMessages(ctx, err), nil)
			return
		}
		h.fail(w, r, err)
		return
	}
	view := h.writeView(ctx, a, wr)
	switch wr.State() {
	case customers.WriteOK:
		if isHTMX(r) {
			h.render(w, r, http.StatusOK, templates.CustomerRemark(templates.RemarkView{Uin: view.Uin, Remark: wr.Intent.Remark, CanEdit: true, Saved: true}))
			return
		}
		h.flash(w, r, "ok", tr(ctx, "customers.remark_saved"))
		redirect(w, r, "/customers/"+view.Uin)
	case customers.WriteFailed:
		h.remarkProblem(w, r, uin, typed, nil, view.Problem)
	default:
		if isHTMX(r) {
			v, _, ok := h.remarkView(w, r)
			if ok {
				v.Write = view
				h.render(w, r, http.StatusAccepted, templates.CustomerRemark(v))
			}
			return
		}
		redirect(w, r, fmt.Sprintf("/customers/%s?write=%d", view.Uin, wr.Job.ID))
	}
}

// remarkProblem shows the remark editor again with what was typed and why
// it was not saved.
func (h *Handlers) remarkProblem(w http.ResponseWriter, r *http.Request, uin uint64, typed string, errs map[string]string, problem *templates.APIProblem) {
	v, row, ok := h.remarkView(w, r)
	if !ok {
		return
	}
	v.Editing, v.Value, v.Errors, v.Problem = true, typed, errs, problem
	status := http.StatusUnprocessableEntity
	if problem != nil {
		status = http.StatusBadGateway
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.CustomerRemark(v))
		return
	}
	h.render(w, r, status, templates.CustomerRemarkPage(h.page(w, r, "customers.remark_edit"), displayName(row), v))
}

func (h *Handlers) suspendPage(w http.ResponseWriter, r *http.Request) { h.confirmSuspend(w, r, true) }
func (h *Handlers) restorePage(w http.ResponseWriter, r *http.Request) { h.confirmSuspend(w, r, false) }

// confirmSuspend names the customer and says what suspending or restoring
// does, before anything is sent.
func (h *Handlers) confirmSuspend(w http.ResponseWriter, r *http.Request, suspend bool) {
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	row, err := h.customers.Row(r.Context(), actor(r), uin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.SuspendPage(h.page(w, r, suspendTitle(suspend)), suspendConfirm(row, suspend)))
}

func suspendTitle(suspend bool) string {
	if suspend {
		return "customers.suspend"
	}
	return "customers.restore"
}

func suspendConfirm(row store.Customer, suspend bool) templates.SuspendConfirm {
	return templates.SuspendConfirm{Uin: strconv.FormatUint(row.Uin, 10), Name: displayName(row), Suspend: suspend, Reseller: formatUin(row.ResellerUin)}
}

func (h *Handlers) suspend(w http.ResponseWriter, r *http.Request) { h.setSuspended(w, r, true) }
func (h *Handlers) restore(w http.ResponseWriter, r *http.Request) { h.setSuspended(w, r, false) }

// setSuspended suspends or restores, then shows the customer with the
// outcome; a refusal is shown on the confirmation page.
func (h *Handlers) setSuspended(w http.ResponseWriter, r *http.Request, suspend bool) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	wr, err := h.customers.SetSuspended(ctx, a, uin, suspend)
	if msg, held := heldMessage(ctx, err); held {
		// Four-eyes: nothing was sent; a second person decides.
		h.flash(w, r, "info", msg)
		redirect(w, r, "/customers/"+strconv.FormatUint(uin, 10))
		return
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Conflict {
			h.flash(w, r, "info", tr(ctx, e.MessageID))
			redirect(w, r, "/customers/"+strconv.FormatUint(uin, 10))
			return
		}
		h.fail(w, r, err)
		return
	}
	view := h.writeView(ctx, a, wr)
	switch wr.State() {
	case customers.WriteOK:
		h.flash(w, r, "ok", tr(ctx, "customers.write_ok_"+view.What))
		redirect(w, r, "/customers/"+view.Uin)
	case customers.WriteFailed:
		row, err := h.customers.Row(ctx, a, uin)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		c := suspendConfirm(row, suspend)
		c.Write = view
		h.render(w, r, http.StatusBadGateway, templates.SuspendPage(h.page(w, r, suspendTitle(suspend)), c))
	default:
		redirect(w, r, fmt.Sprintf("/customers/%s?write=%d", view.Uin, wr.Job.ID))
	}
}

func writeID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id
}

// writeStatus shows where a write stands: the fragment htmx polls, or the
// customer's page.
func (h *Handlers) writeStatus(w http.ResponseWriter, r *http.Request) {
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	wr, err := h.customers.WriteStatus(r.Context(), a, uin, writeID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showWrite(w, r, a, wr)
}

// checkWrite reads a write with an unknown outcome back again.
func (h *Handlers) checkWrite(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	wr, err := h.customers.CheckWrite(ctx, a, uin, writeID(r))
	if err != nil && wr.Job.ID == 0 {
		h.fail(w, r, err)
		return
	}
	if err != nil {
		h.logger.Warn("check write", "err", err, "request_id", middleware.GetReqID(ctx))
	}
	h.showWrite(w, r, a, wr)
}

func (h *Handlers) showWrite(w http.ResponseWriter, r *http.Request, a audit.Actor, wr customers.Write) {
	view := h.writeView(r.Context(), a, wr)
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.CustomerWrite(*view))
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%s?write=%d", view.Uin, wr.Job.ID))
}

// creditReseller is the credit list's reseller filter that shows a
// customer: its reseller's, or the direct customers; a reseller's login
// has its own already.
func creditReseller(reseller uint64, a audit.Actor) string {
	switch {
	case a.OnBehalfOf() != 0:
		return strconv.FormatUint(a.OnBehalfOf(), 10)
	case reseller != 0:
		return strconv.FormatUint(reseller, 10)
	}
	return "direct"
}
