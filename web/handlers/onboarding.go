package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/keyring"
	"resellerportal/onboarding"
	"resellerportal/partnerapi"
	"resellerportal/web/i18n"
	"resellerportal/web/templates"
)

// OnboardingService is what the onboarding pages need.
type OnboardingService interface {
	List(ctx context.Context, actor audit.Actor, in onboarding.ListInput) (onboarding.Invitations, error)
	Invite(ctx context.Context, actor audit.Actor, in onboarding.InviteInput) (onboarding.InviteResult, error)
	Resend(ctx context.Context, actor audit.Actor, id int64) (onboarding.InviteResult, error)
	Reference(ctx context.Context, actor audit.Actor, lang string) (onboarding.Reference, error)
	SendCode(ctx context.Context, actor audit.Actor, in onboarding.CodeInput) (onboarding.CodeSent, error)
	LastCode(actor audit.Actor, in onboarding.CodeInput, ref onboarding.Reference) (onboarding.CodeSent, bool)
	CreateAccount(ctx context.Context, actor audit.Actor, in onboarding.AccountInput) (onboarding.AccountResult, error)
	AccountCreated(ctx context.Context, actor audit.Actor, jobID int64) (onboarding.AccountResult, error)
	OnSandbox() bool
	Outbox(ctx context.Context, actor audit.Actor) (onboarding.Outbox, error)
	Accept(ctx context.Context, actor audit.Actor, token string) (uint64, error)
}

// invitationsPerPage is how many invitations a page lists; the overview
// shows the latest few.
const (
	invitationsPerPage = 20
	latestInvitations  = 5
)

// onboardingProblem tells why partner data or a form is unavailable: a
// service's sentence (a reseller without its key), the partner API's, or,
// for what people cannot act on, a logged generic one.
func (h *Handlers) onboardingProblem(r *http.Request, err error) *templates.APIProblem {
	ctx := r.Context()
	if err == nil {
		return nil
	}
	var apiErr *partnerapi.APIError
	if e, ok := apperr.As(err); ok && !errors.As(err, &apiErr) {
		return &templates.APIProblem{Message: tr(ctx, e.MessageID, e.Data), Info: e.Kind == apperr.Unavailable}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return apiProblem(ctx, err) // the client went away, or the API was slow: nothing to log
	}
	if _, _, internal := problemOf(ctx, err); internal {
		h.logger.Error("onboarding", "err", err, "request_id", middleware.GetReqID(ctx), "path", r.URL.Path)
		return &templates.APIProblem{Message: tr(ctx, "error.internal")}
	}
	return apiProblem(ctx, err)
}

// localTimes writes the times a service's field errors carry in the
// reader's time zone, before the messages are translated.
func localTimes(ctx context.Context, err error) error {
	for _, e := range apperr.Fields(err) {
		for k, v := range e.Data {
			if t, ok := v.(time.Time); ok {
				e.Data[k] = formatTime(ctx, t)
			}
		}
	}
	return err
}

func roleMessage(role string) string {
	if role == onboarding.RoleSubAgent {
		return "onboarding.role_subagent"
	}
	return "onboarding.role_client"
}

// invitationRows formats invitations with their states.
func invitationRows(ctx context.Context, list []onboarding.Invitation) []templates.InvitationRow {
	rows := make([]templates.InvitationRow, 0, len(list))
	for _, inv := range list {
		row := templates.InvitationRow{
			ID: inv.ID, Email: inv.Email, RoleID: roleMessage(inv.Role), SentAt: formatTime(ctx, inv.CreatedAt), SentBy: inv.SentByName,
			State: string(inv.State), Expires: formatTime(ctx, inv.ExpiresAt), Link: inv.Link, Resend: inv.CanResend(),
		}
		switch inv.State {
		case onboarding.StateUsed:
			row.Detail = tr(ctx, "onboarding.used_by", map[string]any{"Uin": formatUin(inv.ClientUin), "Time": formatTime(ctx, inv.UsedAt)})
			if !inv.BoundAt.IsZero() {
				row.Detail += " " + tr(ctx, "onboarding.bound_at", map[string]any{"Time": formatTime(ctx, inv.BoundAt)})
			}
		case onboarding.StateDeleted:
			row.Detail = tr(ctx, "onboarding.deleted_detail")
		case onboarding.StateExpired:
			row.Detail = tr(ctx, "onboarding.expired_detail")
		}
		rows = append(rows, row)
	}
	return rows
}

// onboardingPage is the area's landing page.
func (h *Handlers) onboardingPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	v, err := h.onboarding.List(ctx, actor(r), onboarding.ListInput{Page: 1, Size: latestInvitations})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	o := templates.Onboarding{Latest: invitationRows(ctx, v.Items), Total: v.Total, AsOf: formatTime(ctx, v.AsOf),
		Blocked: h.onboardingProblem(r, v.Blocked), Sandbox: h.onboarding.OnSandbox()}
	if v.Blocked == nil {
		o.Problem = h.onboardingProblem(r, v.Problem)
	}
	h.render(w, r, http.StatusOK, templates.OnboardingPage(h.page(w, r, "onboarding.title"), o))
}

// pageNumber reads a page number, 1 when absent or malformed.
func pageNumber(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}

func (h *Handlers) invitationsPage(w http.ResponseWriter, r *http.Request) {
	h.renderInvitations(w, r, http.StatusOK, templates.InviteForm{Role: onboarding.RoleClient}, pageNumber(r.URL.Query().Get("page")))
}

// renderInvitations shows the invitations page with the form as given.
func (h *Handlers) renderInvitations(w http.ResponseWriter, r *http.Request, status int, form templates.InviteForm, page int) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	v, err := h.onboarding.List(ctx, actor(r), onboarding.ListInput{Page: page, Size: invitationsPerPage})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form.Roles = v.InviteResellers
	view := templates.Invitations{
		Form: form, Blocked: h.onboardingProblem(r, v.Blocked), Rows: invitationRows(ctx, v.Items), Total: v.Total,
		Page: v.Page, Pages: v.Pages, AsOf: formatTimeSeconds(ctx, v.AsOf), Pending: v.Pending, Sandbox: h.onboarding.OnSandbox(),
	}
	if v.Blocked == nil {
		view.Problem = h.onboardingProblem(r, v.Problem)
	}
	if v.Page > 1 {
		view.PrevURL = fmt.Sprintf("/onboarding/invitations?page=%d", v.Page-1)
	}
	if v.Page < v.Pages {
		view.NextURL = fmt.Sprintf("/onboarding/invitations?page=%d", v.Page+1)
	}
	for _, u := range v.Unknown {
		view.Unknown = append(view.Unknown, templates.UnknownInvitationRow{Email: u.Email, RoleID: roleMessage(u.Role), At: formatTime(ctx, u.At), JobID: u.JobID})
	}
	h.render(w, r, status, templates.InvitationsPage(h.page(w, r, "onboarding.invitations_title"), view))
}

// invite sends an invitation; the form comes back with its problems, or
// the browser goes to the list (or, while the mail is still going, to its
// job).
func (h *Handlers) invite(w http.ResponseWriter, r *http.Request) {
	in := onboarding.InviteInput{Email: r.PostFormValue("email"), Role: r.PostFormValue("role")}
	res, err := h.onboarding.Invite(r.Context(), actor(r), in)
	if err != nil {
		h.formFailure(w, r, localTimes(r.Context(), err), func(status int, errs map[string]string) {
			h.renderInvitations(w, r, status, templates.InviteForm{Email: in.Email, Role: in.Role, Errors: errs}, 1)
		})
		return
	}
	h.invited(w, r, res)
}

// invited tells the person what became of an invitation.
func (h *Handlers) invited(w http.ResponseWriter, r *http.Request, res onboarding.InviteResult) {
	ctx := r.Context()
	switch res.Status {
	case onboarding.StatusOK:
		h.flash(w, r, "ok", tr(ctx, "onboarding.invited", map[string]any{"Email": res.Email}))
		redirect(w, r, "/onboarding/invitations")
	case onboarding.StatusUnknown:
		h.flash(w, r, "error", tr(ctx, "onboarding.invite_unknown", map[string]any{"Email": res.Email}))
		redirect(w, r, "/onboarding/invitations")
	default:
		h.flash(w, r, "info", tr(ctx, "onboarding.invite_pending", map[string]any{"Email": res.Email}))
		redirect(w, r, fmt.Sprintf("/jobs/%d", res.JobID))
	}
}

// resendInvitation sends a new invitation like an earlier one.
func (h *Handlers) resendInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	res, err := h.onboarding.Resend(r.Context(), actor(r), id)
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Invalid || k == apperr.Conflict || k == apperr.Unavailable {
			msgs := fieldMessages(r.Context(), localTimes(r.Context(), err))
			var parts []string
			for _, f := range []string{"", "email", "role"} {
				if m, ok := msgs[f]; ok {
					parts = append(parts, m)
				}
			}
			h.flash(w, r, "error", strings.Join(parts, " "))
			redirect(w, r, "/onboarding/invitations")
			return
		}
		h.fail(w, r, err)
		return
	}
	h.invited(w, r, res)
}

// refreshInvitations reads the states of a page of invitations again.
func (h *Handlers) refreshInvitations(w http.ResponseWriter, r *http.Request) {
	page := pageNumber(r.PostFormValue("page"))
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	if _, err := h.onboarding.List(ctx, actor(r), onboarding.ListInput{Page: page, Size: invitationsPerPage, Refresh: true}); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/onboarding/invitations?page=%d", page))
}

// accountDraft is what the new account form keeps between its steps
// without script: never a password or a code.
type accountDraft struct {
	AccountType, Email, CustomerName, Country, TradeOne, TradeTwo, Phone string
}

// draftKey is the session value holding the form's draft.
const draftKey = "account_draft"

// maxDraftField bounds what a draft keeps of a field: more than any rule
// allows; a longer value is not kept at all.
const maxDraftField = 300

// draftOf reads the form's fields as typed.
func draftOf(r *http.Request) accountDraft {
	return accountDraft{
		AccountType: r.PostFormValue("account_type"), Email: r.PostFormValue("email"),
		CustomerName: r.PostFormValue("customer_name"), Country: r.PostFormValue("country"),
		TradeOne: r.PostFormValue("trade_one"), TradeTwo: r.PostFormValue("trade_two"), Phone: r.PostFormValue("phone"),
	}
}

// saveDraft keeps the draft in the session, each field within bounds.
func (h *Handlers) saveDraft(w http.ResponseWriter, r *http.Request, d accountDraft) {
	sess := currentSession(r.Context())
	if sess == nil {
		return
	}
	for _, f := range []*string{&d.AccountType, &d.Email, &d.CustomerName, &d.Country, &d.TradeOne, &d.TradeTwo, &d.Phone} {
		if len(*f) > maxDraftField {
			*f = ""
		}
	}
	b, _ := json.Marshal(d)
	sess.Values[draftKey] = string(b)
	h.saveSession(w, r)
}

func (h *Handlers) loadDraft(r *http.Request) accountDraft {
	var d accountDraft
	if sess := currentSession(r.Context()); sess != nil {
		if s, ok := sess.Values[draftKey].(string); ok {
			_ = json.Unmarshal([]byte(s), &d)
		}
	}
	return d
}

func (h *Handlers) dropDraft(w http.ResponseWriter, r *http.Request) {
	if sess := currentSession(r.Context()); sess != nil {
		if _, ok := sess.Values[draftKey]; ok {
			delete(sess.Values, draftKey)
			h.saveSession(w, r)
		}
	}
}

// accountForm builds the form's view from what was typed and the lists.
func (h *Handlers) accountForm(r *http.Request, d accountDraft, verifyCode string, errs map[string]string) templates.AccountForm {
	ctx := r.Context()
	a := actor(r)
	f := templates.AccountForm{
		AccountType: d.AccountType, Email: d.Email, CustomerName: d.CustomerName, Country: d.Country,
		TradeOne: d.TradeOne, TradeTwo: d.TradeTwo, Phone: d.Phone, VerifyCode: verifyCode, Errors: errs,
		Sandbox: h.onboarding.OnSandbox(),
	}
	ref, err := h.onboarding.Reference(ctx, a, apiLanguage(ctx))
	if err != nil {
		f.Problem = h.onboardingProblem(r, err)
		return f
	}
	if e, ok := apperr.As(ref.Problem); ok && e.Kind == apperr.Unavailable {
		f.Blocked = h.onboardingProblem(r, ref.Problem)
		return f
	}
	if !ref.Ready() {
		f.Problem = h.onboardingProblem(r, ref.Problem)
		if f.Problem == nil {
			f.Problem = &templates.APIProblem{Message: tr(ctx, "onboarding.lists_loading"), Info: true}
		}
	}
	zh := i18n.From(ctx).Lang() == i18n.Chinese
	name := func(c onboarding.Country) string {
		if zh && c.NameZh != "" {
			return c.NameZh
		}
		return c.Name
	}
	for _, c := range ref.Countries {
		f.Countries = append(f.Countries, templates.Option{Value: c.ISO2, Label: name(c) + " (+" + c.Code + ")"})
	}
	var refused []string
	for _, c := range ref.Refused {
		refused = append(refused, "+"+c.Code)
	}
	f.Refused = strings.Join(slices.Compact(refused), ", ")
	for _, in := range ref.Industries {
		f.Industries = append(f.Industries, templates.Option{Value: in.ID, Label: in.Name})
		if in.ID == d.TradeOne {
			for _, ch := range in.Children {
				f.Subs = append(f.Subs, templates.Option{Value: ch.ID, Label: ch.Name})
			}
		}
	}
	if sent, ok := h.onboarding.LastCode(a, onboarding.CodeInput{Country: d.Country, Phone: d.Phone}, ref); ok {
		f.Code = h.codeStatus(ctx, sent)
	}
	return f
}

// codeStatus words the last code sent and its countdown.
func (h *Handlers) codeStatus(ctx context.Context, sent onboarding.CodeSent) *templates.CodeStatus {
	wait := sent.Wait(h.now())
	c := &templates.CodeStatus{
		Seconds:  int((wait + time.Second - 1) / time.Second),
		Template: tr(ctx, "onboarding.code_countdown", map[string]any{"Seconds": "{s}", "Time": formatTimeSeconds(ctx, sent.NextAt)}),
		Done:     tr(ctx, "onboarding.code_again"),
		Unknown:  sent.Unknown,
	}
	if !sent.Unknown {
		c.Message = tr(ctx, "onboarding.code_sent", map[string]any{"To": sent.To, "Time": formatTimeSeconds(ctx, sent.SentAt)})
	}
	return c
}

func (h *Handlers) renderNewAccount(w http.ResponseWriter, r *http.Request, status int, f templates.AccountForm) {
	h.render(w, r, status, templates.NewAccountPage(h.page(w, r, "onboarding.account_title"), f))
}

// newAccountPage shows the new account form, filled in with the draft its
// steps left without script.
func (h *Handlers) newAccountPage(w http.ResponseWriter, r *http.Request) {
	h.renderNewAccount(w, r, http.StatusOK, h.accountForm(r, h.loadDraft(r), "", nil))
}

// chooseIndustry is the form's industry step without script: it keeps
// what was typed (never the passwords) and shows the form again with the
// second level to choose from.
func (h *Handlers) chooseIndustry(w http.ResponseWriter, r *http.Request) {
	h.saveDraft(w, r, draftOf(r))
	redirect(w, r, "/onboarding/accounts/new")
}

// industries serves the second-level industries of the chosen first level.
func (h *Handlers) industries(w http.ResponseWriter, r *http.Request) {
	one := r.URL.Query().Get("trade_one")
	if len(one) > maxDraftField {
		one = ""
	}
	f := h.accountForm(r, accountDraft{TradeOne: one}, "", nil)
	h.render(w, r, http.StatusOK, templates.TradeTwoField(f))
}

// sendCode sends the SMS code: for htmx it answers the phone step alone,
// without script it keeps the draft and shows the form again.
func (h *Handlers) sendCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := draftOf(r)
	sent, err := h.onboarding.SendCode(ctx, actor(r), onboarding.CodeInput{Country: d.Country, Phone: d.Phone, Lang: apiLanguage(ctx)})
	if isHTMX(r) {
		status := http.StatusOK
		var errs map[string]string
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || !slices.Contains([]apperr.Kind{apperr.Invalid, apperr.Conflict, apperr.Unavailable}, e.Kind) {
				h.fail(w, r, err)
				return
			}
			status, _, _ = problemOf(ctx, err)
			errs = fieldMessages(ctx, localTimes(ctx, err))
		}
		f := h.accountForm(r, d, "", errs)
		f.PhoneOnly = true
		h.render(w, r, status, templates.PhoneStep(f))
		return
	}
	h.saveDraft(w, r, d)
	if err != nil {
		h.formFailure(w, r, localTimes(ctx, err), func(status int, errs map[string]string) {
			h.renderNewAccount(w, r, status, h.accountForm(r, d, "", errs))
		})
		return
	}
	h.flash(w, r, "ok", tr(ctx, "onboarding.code_sent", map[string]any{"To": sent.To, "Time": formatTimeSeconds(ctx, sent.SentAt)}))
	redirect(w, r, "/onboarding/accounts/new")
}

// createAccount creates the account; on failure the form comes back with
// what was typed except the passwords.
func (h *Handlers) createAccount(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := draftOf(r)
	in := onboarding.AccountInput{
		AccountType: d.AccountType, Email: d.Email, CustomerName: d.CustomerName, Country: d.Country,
		TradeOne: d.TradeOne, TradeTwo: d.TradeTwo, Phone: d.Phone, Lang: apiLanguage(ctx),
		Password: r.PostFormValue("password"), ConfirmPassword: r.PostFormValue("confirm_password"), VerifyCode: r.PostFormValue("verify_code"),
	}
	res, err := h.onboarding.CreateAccount(ctx, actor(r), in)
	if err != nil {
		h.formFailure(w, r, localTimes(ctx, err), func(status int, errs map[string]string) {
			code := in.VerifyCode
			if len(code) > 16 {
				code = ""
			}
			h.renderNewAccount(w, r, status, h.accountForm(r, d, code, errs))
		})
		return
	}
	h.dropDraft(w, r)
	redirect(w, r, fmt.Sprintf("/onboarding/accounts/created/%d", res.JobID))
}

// accountCreatedPage shows a new account's outcome.
func (h *Handlers) accountCreatedPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	res, err := h.onboarding.AccountCreated(ctx, actor(r), id)
	v := templates.AccountCreated{Status: res.Status, Email: res.Email, Uin: formatUin(res.Uin), JobID: res.JobID}
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		// Why, in the API's words when it refused.
		var apiErr *partnerapi.APIError
		if e, _ := apperr.As(err); errors.As(err, &apiErr) {
			v.Message = apiProblemText(ctx, err)
		} else {
			v.Message = tr(ctx, e.MessageID, e.Data)
		}
	}
	h.render(w, r, http.StatusOK, templates.AccountCreatedPage(h.page(w, r, "onboarding.created_title"), v))
}

// onSandbox refuses the sandbox's pages anywhere but on the sandbox.
func (h *Handlers) onSandbox(w http.ResponseWriter, r *http.Request) bool {
	if h.keys.Target() != keyring.Sandbox || !h.onboarding.OnSandbox() {
		h.notFound(w, r)
		return false
	}
	return true
}

// outboxPage lists what the built-in sandbox sent.
func (h *Handlers) outboxPage(w http.ResponseWriter, r *http.Request) {
	if !h.onSandbox(w, r) {
		return
	}
	ctx := r.Context()
	o, err := h.onboarding.Outbox(ctx, actor(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.Outbox{Total: o.Total, Own: o.Own}
	for i, m := range o.Entries {
		v.Rows = append(v.Rows, templates.OutboxRow{Kind: m.Kind, To: m.To, Time: formatTimeSeconds(ctx, m.Time), Code: m.Code,
			Link: m.Link, Token: m.Token, Accepted: m.Accepted, Index: i})
	}
	h.render(w, r, http.StatusOK, templates.OutboxPage(h.page(w, r, "onboarding.outbox_title"), v))
}

// acceptInvitation uses an invitation as the invited party (sandbox only).
func (h *Handlers) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	if !h.onSandbox(w, r) {
		return
	}
	ctx := r.Context()
	uin, err := h.onboarding.Accept(ctx, actor(r), r.PostFormValue("token"))
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.Forbidden {
			h.fail(w, r, err)
			return
		}
		h.flash(w, r, "error", tr(ctx, e.MessageID, e.Data))
		redirect(w, r, "/sandbox/outbox")
		return
	}
	h.flash(w, r, "ok", tr(ctx, "onboarding.accepted", map[string]any{"Uin": formatUin(uin)}))
	redirect(w, r, "/sandbox/outbox")
}
