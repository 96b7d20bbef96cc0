package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/foureyes"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// ApprovalService is what the four-eyes pages need: the settings and the
// approval requests.
type ApprovalService interface {
	Settings(ctx context.Context) (foureyes.Settings, error)
	SetSettings(ctx context.Context, actor audit.Actor, in foureyes.SettingsInput) (foureyes.Settings, error)
	Requests(ctx context.Context, actor audit.Actor, list foureyes.List, page int) (foureyes.Listing, error)
	Pending(ctx context.Context, actor audit.Actor) (int, error)
	Request(ctx context.Context, actor audit.Actor, id int64) (foureyes.Request, error)
	Approve(ctx context.Context, actor audit.Actor, id int64) (foureyes.Decision, error)
	Reject(ctx context.Context, actor audit.Actor, id int64, reason string) (foureyes.Request, error)
}

// approvalsPath is the Approvals page, the navigation's entry.
const approvalsPath = "/approvals"

// pendingApprovals puts the number of waiting requests beside the
// navigation's Approvals entry; a failure to count leaves it out.
func (h *Handlers) pendingApprovals(ctx context.Context, nav []templates.NavItem) {
	for i := range nav {
		if nav[i].Href != approvalsPath {
			continue
		}
		u, _ := currentUser(ctx)
		n, err := h.approvals.Pending(ctx, audit.UserActor(u, clientAddr(ctx)))
		if err != nil {
			h.logger.Warn("count pending approvals", "err", err, "request_id", middleware.GetReqID(ctx))
			return
		}
		nav[i].Count = n
	}
}

func approvalID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

// approvalsPage lists the requests: waiting, decided, or the viewer's own.
func (h *Handlers) approvalsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	list, ok := foureyes.ParseList(q.Get("list"))
	if !ok {
		h.notFound(w, r)
		return
	}
	page := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			h.notFound(w, r)
			return
		}
		page = n
	}
	a := actor(r)
	l, err := h.approvals.Requests(ctx, a, list, page)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	set, err := h.approvals.Settings(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.ApprovalsList{List: string(list), Enabled: set.Enabled, Total: l.Total, Page: l.Page, Pages: l.Pages,
		CanSettings: a.Can(auth.ManageSettings)}
	for _, t := range []foureyes.List{foureyes.ListPending, foureyes.ListDecided, foureyes.ListMine} {
		v.Tabs = append(v.Tabs, templates.ApprovalTab{LabelID: "approvals.list_" + string(t), Href: approvalsURL(t, 1), Current: t == list,
			TestID: "approvals-tab-" + string(t)})
	}
	for _, req := range l.Requests {
		v.Rows = append(v.Rows, h.approvalRow(ctx, req))
	}
	if l.Page > 1 {
		v.PrevHref = approvalsURL(list, l.Page-1)
	}
	if l.Page < l.Pages {
		v.NextHref = approvalsURL(list, l.Page+1)
	}
	h.render(w, r, http.StatusOK, templates.ApprovalsPage(h.page(w, r, "approvals.title"), v))
}

func approvalsURL(list foureyes.List, page int) string {
	v := url.Values{}
	if list != foureyes.ListPending {
		v.Set("list", string(list))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return approvalsPath
	}
	return approvalsPath + "?" + v.Encode()
}

// approvalRow is a request as lists show it.
func (h *Handlers) approvalRow(ctx context.Context, req foureyes.Request) templates.ApprovalRow {
	row := templates.ApprovalRow{
		ID: strconv.FormatInt(req.ID, 10), Href: approvalsPath + "/" + strconv.FormatInt(req.ID, 10),
		Created: formatTime(ctx, req.CreatedAt), Requester: req.RequestedByName, Title: approvalWhat(ctx, req),
		Customer: customerLabel(req.CustomerName, req.CustomerUin), Amount: decimalUSD(req.Amount), Writes: req.Writes,
		State: req.State, StateID: "approvals.state_" + req.State, Expires: formatTime(ctx, req.ExpiresAt),
		DecidedBy: req.DecidedByName, Reseller: formatUin(req.OnBehalfOf), Own: req.Own, MayDecide: req.MayDecide,
	}
	for _, why := range req.HoldReasons() {
		row.HoldIDs = append(row.HoldIDs, "approvals.hold_"+why)
	}
	if !req.DecidedAt.IsZero() {
		row.DecidedAt = formatTime(ctx, req.DecidedAt)
	}
	return row
}

// approvalWhat says what a request asks for in the reader's language: its
// first write's kind (the stored title is the job's, in English).
func approvalWhat(ctx context.Context, req foureyes.Request) string {
	if len(req.Intents) == 0 {
		return req.Title
	}
	w := approvalWrite(req.Intents[0])
	return tr(ctx, w.ActionID, map[string]any{"Action": w.Action})
}

// customerLabel names a customer by name and UIN, or by UIN alone.
func customerLabel(name string, uin uint64) string {
	if uin == 0 {
		return ""
	}
	u := strconv.FormatUint(uin, 10)
	if name == "" {
		return u
	}
	return name + " (" + u + ")"
}

// approvalPage shows one request, with the approve and reject forms for
// a person who may decide it.
func (h *Handlers) approvalPage(w http.ResponseWriter, r *http.Request) {
	id, ok := approvalID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	h.showApproval(w, r, id, http.StatusOK, "", nil)
}

func (h *Handlers) showApproval(w http.ResponseWriter, r *http.Request, id int64, status int, reason string, errs map[string]string) {
	ctx := r.Context()
	a := actor(r)
	req, err := h.approvals.Request(ctx, a, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.ApprovalDetail{ApprovalRow: h.approvalRow(ctx, req), Reason: req.Reason, ReasonValue: reason, Errors: errs,
		MaxReason: foureyes.MaxReason, Outcome: req.Outcome}
	if req.State == store.ApprovalPending {
		v.ExpiresLeft = formatLeft(ctx, req.ExpiresAt.Sub(h.now()))
	}
	if req.JobID != 0 && (req.Own || a.Can(auth.ManageAllJobs)) {
		v.JobHref = "/jobs/" + strconv.FormatInt(req.JobID, 10)
	}
	v.JobID = req.JobID
	for _, in := range req.Intents {
		v.Writes = append(v.Writes, approvalWrite(in))
	}
	v.ApproveLabel = tr(ctx, "approvals.approve_do", map[string]any{"Title": v.Title, "Customer": v.Customer})
	if v.Amount != "" {
		v.ApproveLabel = tr(ctx, "approvals.approve_do_amount", map[string]any{"Title": v.Title, "Customer": v.Customer, "Amount": v.Amount})
	}
	h.render(w, r, status, templates.ApprovalPage(h.page(w, r, "approvals.request_title"), v))
}

// approvalWrite is one held write in words.
func approvalWrite(in jobs.WriteIntent) templates.ApprovalWrite {
	wr := templates.ApprovalWrite{ActionID: "approvals.action_other", Action: in.Action, Uin: formatUin(in.ClientUin), Amount: decimalUSD(in.AddedCredit),
		Remark: in.Remark}
	switch in.Action {
	case partnerapi.ActionForceQN:
		wr.ActionID = "approvals.action_restore"
		if in.Type != nil && *in.Type == 2 {
			wr.ActionID = "approvals.action_suspend"
		}
	case partnerapi.ActionAllocateCustomerCredit:
		wr.ActionID = "approvals.action_allocate"
	case partnerapi.ActionAllocateCreditPool:
		wr.ActionID = "approvals.action_pool"
	case partnerapi.ActionModifyClientRemark:
		wr.ActionID = "approvals.action_remark"
	}
	return wr
}

// approve approves a request and submits its writes; the page then shows
// the request (post/redirect/get) with what became of them.
func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	id, ok := approvalID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	d, err := h.approvals.Approve(ctx, actor(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	failed, unknown := 0, d.Outcome.Unknown()
	for _, it := range d.Outcome.Items {
		if it.Status == store.ItemFailed || it.Status == store.ItemSkipped {
			failed++
		}
	}
	switch {
	case d.Outcome.Ended && failed == 0 && unknown == 0:
		h.flash(w, r, "ok", tr(ctx, "approvals.approved_done", map[string]any{"ID": id}))
	case failed > 0:
		h.flash(w, r, "error", tr(ctx, "approvals.approved_failed", map[string]any{"ID": id, "Failed": failed}))
	default:
		h.flash(w, r, "info", tr(ctx, "approvals.approved_running", map[string]any{"ID": id}))
	}
	redirect(w, r, approvalsPath+"/"+strconv.FormatInt(id, 10))
}

// reject refuses a request with a reason; a missing reason is shown
// beside its field.
func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := approvalID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	reason := r.PostFormValue("reason")
	if _, err := h.approvals.Reject(ctx, actor(r), id, reason); err != nil {
		if apperr.KindOf(err) == apperr.Invalid {
			errs := fieldMessages(ctx, err)
			if len(reason) > 4*foureyes.MaxReason {
				reason = ""
			}
			h.showApproval(w, r, id, http.StatusUnprocessableEntity, reason, errs)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "approvals.rejected", map[string]any{"ID": id}))
	redirect(w, r, approvalsPath+"/"+strconv.FormatInt(id, 10))
}

// fourEyesPage is the admin's four-eyes settings.
func (h *Handlers) fourEyesPage(w http.ResponseWriter, r *http.Request) {
	set, err := h.approvals.Settings(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.FourEyesSettings{Enabled: set.Enabled, Threshold: set.Threshold.StringFixed(2),
		ExpiryHours: strconv.Itoa(int(set.Expiry / time.Hour)), MinHours: foureyes.MinExpiryHours, MaxHours: foureyes.MaxExpiryHours}
	h.render(w, r, http.StatusOK, templates.FourEyesPage(h.page(w, r, "approvals.settings_title"), v))
}

// saveFourEyes saves the settings, or shows the form with its problems.
func (h *Handlers) saveFourEyes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := foureyes.SettingsInput{Enabled: r.PostFormValue("enabled") == "on", Threshold: r.PostFormValue("threshold"),
		ExpiryHours: r.PostFormValue("expiry")}
	if _, err := h.approvals.SetSettings(ctx, actor(r), in); err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		errs := fieldMessages(ctx, err)
		v := templates.FourEyesSettings{Enabled: in.Enabled, Threshold: bounded(in.Threshold, 32), ExpiryHours: bounded(in.ExpiryHours, 16),
			MinHours: foureyes.MinExpiryHours, MaxHours: foureyes.MaxExpiryHours, Errors: errs}
		h.render(w, r, http.StatusUnprocessableEntity, templates.FourEyesPage(h.page(w, r, "approvals.settings_title"), v))
		return
	}
	h.flash(w, r, "ok", tr(ctx, "approvals.settings_saved"))
	redirect(w, r, "/admin/four-eyes")
}

// bounded keeps what a form shows back to a sensible length.
func bounded(s string, n int) string {
	if len(s) > n {
		return ""
	}
	return s
}

// heldMessage is what a person is told when their writes wait for a
// second person: no error, the request's number.
func heldMessage(ctx context.Context, err error) (string, bool) {
	var held *jobs.HeldError
	if !errors.As(err, &held) {
		return "", false
	}
	return tr(ctx, "approvals.held", map[string]any{"ID": held.Request}), true
}
