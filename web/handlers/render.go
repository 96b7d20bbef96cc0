package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/auth"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/i18n"
	"resellerportal/web/templates"
)

// page builds the shell of a full page for the current request, and takes
// the pending flash message out of the session.
func (h *Handlers) page(w http.ResponseWriter, r *http.Request, titleID string) templates.Page {
	ctx := r.Context()
	p := templates.Page{
		TitleID: titleID,
		Lang:    i18n.From(ctx).Lang(),
		Assets: templates.Assets{
			Pico:   h.Assets.Path("vendor/pico/pico.min.css"),
			AppCSS: h.Assets.Path("app.css"),
			HTMX:   h.Assets.Path("vendor/htmx/htmx.min.js"),
			AppJS:  h.Assets.Path("app.js"),
		},
		Sandbox:   h.Sandbox,
		RequestID: middleware.GetReqID(ctx),
		Languages: i18n.Languages(),
	}
	if u, ok := currentUser(ctx); ok {
		name := u.DisplayName
		if name == "" {
			name = u.Username
		}
		p.User = &templates.SignedIn{Username: u.Username, DisplayName: name, Role: u.Role}
		p.Nav = navigation(principal(ctx), r.URL.Path)
	}
	if sess := currentSession(ctx); sess != nil {
		if msg, ok := sess.Values["flash"].(string); ok {
			kind, _ := sess.Values["flash_kind"].(string)
			p.Flash = &templates.Flash{Kind: kind, Message: msg}
			delete(sess.Values, "flash")
			delete(sess.Values, "flash_kind")
			if err := sess.Save(r, w); err != nil {
				h.Logger.Error("clear flash", "err", err)
			}
		}
	}
	return p
}

// navigation lists the areas the principal may open, and the areas still
// to come as plain entries.
func navigation(p auth.Principal, path string) []templates.NavItem {
	type entry struct {
		label, href, group string
		perm               auth.Permission
	}
	entries := []entry{
		{"nav.dashboard", "/", "", auth.ViewDashboard},
		{"nav.customers", "", "nav.group.business", auth.ViewCustomers},
		{"nav.onboarding", "", "", auth.WriteCustomers},
		{"nav.subagents", "", "", auth.ViewSubagents},
		{"nav.credit", "", "", auth.ViewCredit},
		{"nav.bills", "", "nav.group.money", auth.ViewBills},
		{"nav.vouchers", "", "", auth.ViewVouchers},
		{"nav.commission", "", "", auth.ViewCommission},
		{"nav.jobs", "/jobs", "nav.group.control", auth.ViewJobs},
		{"nav.audit", "/audit", "", auth.ViewAudit},
		{"nav.users", "/admin/users", "nav.group.admin", auth.ManageUsers},
		{"nav.credentials", "/admin/credentials", "", auth.ManageCredentials},
		{"nav.apistatus", "/admin/api-status", "", auth.ViewAPIStatus},
	}
	var out []templates.NavItem
	pendingGroup := ""
	for _, e := range entries {
		if e.group != "" {
			pendingGroup = e.group
		}
		if !p.Can(e.perm) {
			continue
		}
		item := templates.NavItem{LabelID: e.label, Href: e.href, GroupID: pendingGroup}
		pendingGroup = ""
		if e.href != "" && (path == e.href || (e.href != "/" && strings.HasPrefix(path, e.href+"/"))) {
			item.Current = true
		}
		out = append(out, item)
	}
	return out
}

// render writes a component with a status. It renders into a buffer first,
// so a failure never leaves half a page behind.
func (h *Handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.fail(w, r, fmt.Errorf("render %s: %w", r.URL.Path, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Add("Vary", "HX-Request")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// isHTMX reports whether htmx asked for a fragment.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// flash leaves a message for the next page.
func (h *Handlers) flash(w http.ResponseWriter, r *http.Request, kind, message string) {
	sess := currentSession(r.Context())
	if sess == nil {
		return
	}
	sess.Values["flash"] = message
	sess.Values["flash_kind"] = kind
	if err := sess.Save(r, w); err != nil {
		h.Logger.Error("save flash", "err", err)
	}
}

// redirect sends the browser on after a successful form, htmx included.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// errorPage answers with the 403/404/500 page, or for htmx with a short
// message fragment.
func (h *Handlers) errorPage(w http.ResponseWriter, r *http.Request, status int, messageID string) {
	if isHTMX(r) {
		msg := i18n.T(r.Context(), messageID)
		h.render(w, r, status, templates.ProblemBox(&templates.APIProblem{Message: msg}))
		return
	}
	titles := map[int]string{
		http.StatusForbidden:        "error.title_403",
		http.StatusNotFound:         "error.title_404",
		http.StatusMethodNotAllowed: "error.title_405",
	}
	title, ok := titles[status]
	if !ok {
		title = "error.title_500"
	}
	h.render(w, r, status, templates.ErrorPage(h.page(w, r, title), status, messageID))
}

func (h *Handlers) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "error.not_found")
}

func (h *Handlers) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusMethodNotAllowed, "error.method")
}

// fail is the one path for unexpected errors: the details go to the log
// with the request id; people see a plain page with that id.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, auth.ErrForbidden):
		h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	h.Logger.Error("request failed", "err", err, "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path)
	h.errorPage(w, r, http.StatusInternalServerError, "error.internal")
}

// apiProblem tells a partner API failure in plain words, with the API's
// RequestId when it gave one.
func apiProblem(ctx context.Context, err error) *templates.APIProblem {
	if err == nil {
		return nil
	}
	var apiErr *partnerapi.APIError
	switch {
	case errors.As(err, &apiErr):
		// The most specific sentence we have: for the code, for its family
		// (AuthFailure, UnauthorizedOperation, ...), or a general one.
		family := strings.SplitN(apiErr.Code, ".", 2)[0]
		for _, id := range []string{"apierror." + apiErr.Code, "apierror." + family} {
			if msg := i18n.T(ctx, id); msg != id {
				return &templates.APIProblem{Message: msg, RequestID: apiErr.RequestId}
			}
		}
		msg := i18n.T(ctx, "apierror.other", map[string]any{"Code": apiErr.Code, "Message": apiErr.Message})
		return &templates.APIProblem{Message: msg, RequestID: apiErr.RequestId}
	case errors.Is(err, keyring.ErrNoCredential):
		return &templates.APIProblem{Message: i18n.T(ctx, "apierror.no_credential")}
	case errors.Is(err, partnerapi.ErrOutcomeUnknown):
		return &templates.APIProblem{Message: i18n.T(ctx, "apierror.unknown_outcome")}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &templates.APIProblem{Message: i18n.T(ctx, "apierror.timeout")}
	}
	return &templates.APIProblem{Message: i18n.T(ctx, "apierror.unreachable")}
}

// tr translates in the request's language.
func tr(ctx context.Context, id string, data ...map[string]any) string {
	return i18n.T(ctx, id, data...)
}

// apiLanguage is the partner API language matching the request's.
func apiLanguage(ctx context.Context) string { return i18n.From(ctx).APILanguage() }

// apiProblemText is apiProblem as one sentence, for flash messages.
func apiProblemText(ctx context.Context, err error) string {
	p := apiProblem(ctx, err)
	if p.RequestID == "" {
		return p.Message
	}
	return p.Message + " (" + i18n.T(ctx, "error.request_id_api") + ": " + p.RequestID + ")"
}
