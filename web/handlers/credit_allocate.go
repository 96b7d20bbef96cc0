package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/credit"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// AllocationService is what the allocation pages need.
type AllocationService interface {
	Current(ctx context.Context, actor audit.Actor, target string, uin uint64) (credit.Preview, error)
	Prepare(ctx context.Context, actor audit.Actor, r credit.Request) (credit.Preview, error)
	Allocate(ctx context.Context, actor audit.Actor, r credit.Request) (credit.Allocation, error)
	Allocation(ctx context.Context, actor audit.Actor, id int64) (credit.Allocation, error)
	CheckAgain(ctx context.Context, actor audit.Actor, id int64) (credit.Allocation, error)
	Resolve(ctx context.Context, actor audit.Actor, id int64, applied bool, note string) (credit.Allocation, error)
	ParseLedger(actor audit.Actor, f credit.LedgerFilter) (credit.LedgerQuery, error)
	Ledger(ctx context.Context, actor audit.Actor, q credit.LedgerQuery) (credit.LedgerPage, error)
	ExportLedger(ctx context.Context, actor audit.Actor, q credit.LedgerQuery, format string, w io.Writer) (int, error)
}

func allocatePaths(target string, uin uint64) (action, back string) {
	u := strconv.FormatUint(uin, 10)
	if target == store.AllocationToPool {
		return "/resellers/" + u + "/pool", "/resellers/" + u
	}
	return "/credit/" + u + "/allocate", "/customers/" + u
}

// allocateForm is the form with the figures now.
func (h *Handlers) allocateForm(ctx context.Context, p credit.Preview, target string, uin uint64) templates.AllocateForm {
	action, back := allocatePaths(target, uin)
	f := templates.AllocateForm{Pool: target == store.AllocationToPool, Uin: strconv.FormatUint(uin, 10), Name: p.Name,
		BackHref: back, Action: action, Key: p.Request.Key, Amount: p.Request.Amount, Remark: p.Request.Remark,
		Credit: usd(p.Credit), Remaining: usd(p.Remaining), AsOf: formatTimeSeconds(ctx, p.AsOf)}
	if p.AllocableKnown {
		f.Allocable = usd(p.Allocable)
	}
	if p.InFlight != nil {
		f.InFlight = "/credit/allocations/" + strconv.FormatInt(p.InFlight.ID, 10)
	}
	return f
}

// allocateTitle is the allocation page's title for its target.
func allocateTitle(target string) string {
	if target == store.AllocationToPool {
		return "credit.pool"
	}
	return "credit.allocate"
}

// formAsTyped is the form with the figures now and what was typed in it,
// to show again with why it was refused.
func (h *Handlers) formAsTyped(ctx context.Context, a audit.Actor, req credit.Request) (templates.AllocateForm, error) {
	cur, err := h.allocations.Current(ctx, a, req.Target, req.Uin)
	if err != nil {
		return templates.AllocateForm{}, err
	}
	cur.Request = req
	return h.allocateForm(ctx, cur, req.Target, req.Uin), nil
}

// allocatePage shows the allocation form, or with step=review its
// confirmation. Both are reads: nothing is sent before the POST.
func (h *Handlers) allocatePage(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.showAllocate(w, r, target) }
}

func (h *Handlers) showAllocate(w http.ResponseWriter, r *http.Request, target string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r) // a customer's, or a reseller's for its pool
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	q := r.URL.Query()
	req := credit.Request{Key: q.Get("key"), Target: target, Uin: uin, Amount: q.Get("amount"), Remark: q.Get("remark")}
	if req.Key == "" || len(req.Key) > credit.MaxKey {
		// A form shown afresh gets its key: sending it twice is then
		// recognised as the same allocation.
		req.Key = credit.NewKey()
	}
	title := allocateTitle(target)
	if q.Get("step") != "review" {
		f, err := h.formAsTyped(ctx, a, req)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.render(w, r, http.StatusOK, templates.AllocatePage(h.page(w, r, title), f))
		return
	}
	p, err := h.allocations.Prepare(ctx, a, req)
	if err != nil {
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		// Show the form again with what was typed and why it is refused.
		f, ferr := h.formAsTyped(ctx, a, req)
		if ferr != nil {
			h.fail(w, r, ferr)
			return
		}
		f.Errors = fieldMessages(ctx, err)
		h.render(w, r, http.StatusUnprocessableEntity, templates.AllocatePage(h.page(w, r, title), f))
		return
	}
	f := h.allocateForm(ctx, p, target, uin)
	amount, _ := decimal.NewFromString(p.Request.Amount)
	f.Review = &templates.AllocateReview{Amount: signedUSD(amount), TakeBack: amount.IsNegative(), CreditAfter: usd(p.CreditAfter),
		RemainingAfter: usd(p.RemainingAfter), ToZero: p.ToZero, WarningID: p.Warning}
	if p.AllocableKnown {
		f.Review.AllocableAfter = usd(p.AllocableAfter)
	}
	f.ChangeHref = f.Action + "?" + url.Values{"key": {p.Request.Key}, "amount": {p.Request.Amount}, "remark": {p.Request.Remark}}.Encode()
	h.render(w, r, http.StatusOK, templates.AllocatePage(h.page(w, r, title), f))
}

// allocate makes the allocation confirmed, once, and shows where it stands
// on its own page (post/redirect/get).
func (h *Handlers) allocate(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.sendAllocation(w, r, target) }
}

func (h *Handlers) sendAllocation(w http.ResponseWriter, r *http.Request, target string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r) // a customer's, or a reseller's for its pool
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	req := credit.Request{Key: r.PostFormValue("key"), Target: target, Uin: uin, Amount: r.PostFormValue("amount"), Remark: r.PostFormValue("remark")}
	got, err := h.allocations.Allocate(ctx, a, req)
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || (e.Kind != apperr.Invalid && e.Kind != apperr.Conflict) {
			h.fail(w, r, err)
			return
		}
		f, ferr := h.formAsTyped(ctx, a, req)
		if ferr != nil {
			h.fail(w, r, ferr)
			return
		}
		status, msg, _ := problemOf(ctx, err)
		if e.Kind == apperr.Invalid {
			f.Errors = fieldMessages(ctx, err)
			if m, ok := f.Errors["key"]; ok {
				// The key has no field of its own: the form is stale.
				f.Problem, f.Key = &templates.APIProblem{Message: m}, credit.NewKey()
			}
		} else {
			f.Problem = &templates.APIProblem{Message: msg}
			// A new key: this one is spent or refused.
			f.Key = credit.NewKey()
		}
		h.render(w, r, status, templates.AllocatePage(h.page(w, r, allocateTitle(target)), f))
		return
	}
	to := "/credit/allocations/" + strconv.FormatInt(got.ID, 10)
	if got.Replayed {
		to += "?replayed=1"
	}
	redirect(w, r, to)
}

// allocationView is an allocation as its page shows it.
func (h *Handlers) allocationView(ctx context.Context, a audit.Actor, al credit.Allocation) templates.AllocationView {
	amount, _ := decimal.NewFromString(al.Amount)
	action, back := allocatePaths(al.Target, al.Uin)
	v := templates.AllocationView{ID: strconv.FormatInt(al.ID, 10), Pool: al.Target == store.AllocationToPool, Uin: strconv.FormatUint(al.Uin, 10),
		TargetHref: back, Amount: signedUSD(amount), Remark: al.Remark, State: al.State, CreditBefore: decimalUSD(al.CreditBefore),
		CreditAfter: decimalUSD(al.CreditAfter), RemainingAfter: decimalUSD(al.RemainingAfter), Actor: al.Actor,
		When: formatTimeSeconds(ctx, al.CreatedAt), RequestID: al.RequestId, Replayed: al.Replayed,
		CanCheck:   al.State == credit.AllocationUnknown && (a.UserID == al.UserID || a.Role == auth.RoleAdmin),
		CanResolve: al.State == credit.AllocationUnknown && a.Role == auth.RoleAdmin}
	if al.JobID != 0 {
		v.JobID = strconv.FormatInt(al.JobID, 10)
	}
	if al.Approval != 0 {
		v.Approval = strconv.FormatInt(al.Approval, 10)
	}
	if al.State == credit.AllocationFailed && al.Code != "" {
		v.Problem = apiProblem(ctx, &partnerapi.APIError{Action: partnerapi.ActionAllocateCustomerCredit, Code: al.Code, RequestId: al.RequestId})
	}
	if (al.Target == store.AllocationToPool && a.Can(auth.WriteSubagents)) || (al.Target == store.AllocationToCustomer && a.Can(auth.WriteCredit)) {
		v.AgainHref = action
	}
	return v
}

// allocationPage shows one allocation; htmx polls its result while it is
// on its way.
func (h *Handlers) allocationPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	al, err := h.allocations.Allocation(ctx, a, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	al.Replayed = r.URL.Query().Get("replayed") == "1"
	v := h.allocationView(ctx, a, al)
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.AllocationResult(v))
		return
	}
	h.render(w, r, http.StatusOK, templates.AllocationPage(h.page(w, r, "credit.allocation"), v))
}

// checkAllocation reads an allocation of unknown outcome back again.
func (h *Handlers) checkAllocation(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	if _, err := h.allocations.CheckAgain(ctx, actor(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/credit/allocations/"+strconv.FormatInt(id, 10))
}

// resolveAllocation settles an unknown allocation by hand, as an
// administrator found it in Tencent Cloud's console.
func (h *Handlers) resolveAllocation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	outcome := r.PostFormValue("outcome")
	if outcome != "applied" && outcome != "not_applied" {
		h.fail(w, r, apperr.InvalidField("outcome", "error.bad_request"))
		return
	}
	to := "/credit/allocations/" + strconv.FormatInt(id, 10)
	if _, err := h.allocations.Resolve(ctx, actor(r), id, outcome == "applied", r.PostFormValue("note")); err != nil {
		if e, ok := apperr.As(err); ok && (e.Kind == apperr.Invalid || e.Kind == apperr.Conflict) {
			_, msg, _ := problemOf(ctx, err)
			h.flash(w, r, "error", msg)
			redirect(w, r, to)
			return
		}
		h.fail(w, r, err)
		return
	}
	redirect(w, r, to)
}

// ledgerFilter reads the ledger's filter from the query.
func ledgerFilter(r *http.Request) credit.LedgerFilter {
	q := r.URL.Query()
	return credit.LedgerFilter{From: q.Get("from"), To: q.Get("to"), Uin: q.Get("uin"), Actor: q.Get("actor"),
		Target: q.Get("target"), State: q.Get("state"), Page: q.Get("page")}
}

func ledgerURL(path string, f credit.LedgerFilter, page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "uin": f.Uin, "actor": f.Actor, "target": f.Target, "state": f.State} {
		if s != "" {
			v.Set(k, s)
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

// ledgerStateIDs name the allocation states.
var ledgerStateIDs = map[string]string{
	credit.AllocationOK: "credit.state_ok", credit.AllocationFailed: "credit.state_failed", credit.AllocationUnknown: "credit.state_unknown",
	credit.AllocationChecking: "credit.state_checking", credit.AllocationHeld: "credit.state_held",
}

// ledgerPage shows the allocations made through the portal.
func (h *Handlers) ledgerPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actor(r)
	f := ledgerFilter(r)
	v := templates.LedgerView{From: f.From, To: f.To, Uin: f.Uin, Actor: f.Actor, Target: f.Target, State: f.State}
	status := http.StatusOK
	q, err := h.allocations.ParseLedger(a, f)
	if err == nil {
		var page credit.LedgerPage
		if page, err = h.allocations.Ledger(ctx, a, q); err == nil {
			for _, al := range page.Rows {
				amount, _ := decimal.NewFromString(al.Amount)
				_, back := allocatePaths(al.Target, al.Uin)
				v.Rows = append(v.Rows, templates.LedgerRow{ID: strconv.FormatInt(al.ID, 10), When: formatTime(ctx, al.CreatedAt), Actor: al.Actor,
					Target: al.Target, Pool: al.Target == store.AllocationToPool, Uin: strconv.FormatUint(al.Uin, 10), TargetHref: back,
					Amount: signedUSD(amount), CreditBefore: decimalUSD(al.CreditBefore), CreditAfter: decimalUSD(al.CreditAfter),
					State: al.State, StateID: ledgerStateIDs[al.State], RequestID: al.RequestId, JobID: strconv.FormatInt(al.JobID, 10)})
			}
			v.Total, v.Page, v.Pages = page.Total, q.PageNumber(), page.Pages
			if v.Page > 1 {
				v.PrevHref = ledgerURL("/credit/ledger", f, v.Page-1)
			}
			if v.Page < v.Pages {
				v.NextHref = ledgerURL("/credit/ledger", f, v.Page+1)
			}
			v.CSVHref, v.XLSXHref = ledgerURL("/credit/ledger.csv", f, 1), ledgerURL("/credit/ledger.xlsx", f, 1)
		}
	}
	if err != nil {
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ = problemOf(ctx, err)
		v.Errors = fieldMessages(ctx, err)
	}
	if isHTMX(r) {
		h.render(w, r, status, templates.LedgerResults(v))
		return
	}
	h.render(w, r, status, templates.LedgerPage(h.page(w, r, "credit.ledger_title"), v))
}

// ledgerFile sends the ledger as CSV or XLSX. The file is built in memory
// first so a failure is an error page, not half a file.
func (h *Handlers) ledgerFile(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a := actor(r)
		q, err := h.allocations.ParseLedger(a, ledgerFilter(r))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if _, err := h.allocations.ExportLedger(ctx, a, q, format, &buf); err != nil {
			if ctx.Err() == nil {
				h.logger.Error("export ledger", "err", err, "request_id", middleware.GetReqID(ctx))
			}
			h.fail(w, r, err)
			return
		}
		sendFile(w, "credit-ledger-"+h.now().UTC().Format("2006-01-02"), format, buf.Bytes())
	}
}
