package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/apperr"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
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
			Pico:   h.assets.Path("vendor/pico/pico.min.css"),
			AppCSS: h.assets.Path("app.css"),
			HTMX:   h.assets.Path("vendor/htmx/htmx.min.js"),
			AppJS:  h.assets.Path("app.js"),
		},
		Sandbox:   h.keys.Target() == keyring.Sandbox,
		RequestID: middleware.GetReqID(ctx),
		Languages: i18n.Languages(),
	}
	if u, ok := currentUser(ctx); ok {
		name := u.DisplayName
		switch {
		case name == "" && u.Username == "admin" && u.Role == string(auth.RoleAdmin):
			// The first administrator, made before anyone chose a language,
			// is named in the reader's.
			name = tr(ctx, "users.first_admin")
		case name == "":
			name = u.Username
		}
		p.User = &templates.SignedIn{Username: u.Username, DisplayName: name, Role: u.Role}
		p.Nav = navigation(principal(ctx), r.URL.Path)
		h.pendingApprovals(ctx, p.Nav)
	}
	if sess := currentSession(ctx); sess != nil {
		if msg, ok := sess.Values["flash"].(string); ok {
			kind, _ := sess.Values["flash_kind"].(string)
			p.Flash = &templates.Flash{Kind: kind, Message: msg}
			delete(sess.Values, "flash")
			delete(sess.Values, "flash_kind")
			h.saveSession(w, r)
		}
	}
	return p
}

// navigation lists the areas the principal may open, in their groups.
func navigation(p auth.Principal, path string) []templates.NavItem {
	type entry struct {
		label, href, group string
		perm               auth.Permission
	}
	// Only what the principal may open is listed: an entry one cannot use
	// is noise.
	entries := []entry{
		{"nav.dashboard", "/", "", auth.ViewDashboard},
		{"nav.customers", "/customers", "nav.group.business", auth.ViewCustomers},
		{"nav.onboarding", "/onboarding", "", auth.WriteCustomers},
		{"nav.applications", "/applications", "", auth.WriteCustomers},
		{"nav.subagents", "/resellers", "", auth.ViewSubagents},
		{"nav.credit", "/credit", "nav.group.money", auth.ViewCredit},
		{"nav.ledger", "/credit/ledger", "", auth.ViewCredit},
		{"nav.bulk", "/credit/bulk", "", auth.WriteCredit},
		{"approvals.nav", approvalsPath, "", auth.WriteCustomers},
		{"nav.bills", "/bills", "", auth.ViewBills},
		{"nav.vouchers", "/vouchers", "", auth.ViewVouchers},
		{"nav.commission", "/commission", "", auth.ViewCommission},
		{"nav.jobs", "/jobs", "nav.group.operations", auth.ViewJobs},
		{"nav.audit", "/audit", "", auth.ViewAudit},
		{"nav.users", "/admin/users", "nav.group.admin", auth.ManageUsers},
		{"nav.credentials", "/admin/credentials", "", auth.ManageCredentials},
		{"approvals.nav_settings", "/admin/four-eyes", "", auth.ManageSettings},
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
		out = append(out, item)
	}
	// The current entry is the one whose address is the longest start of
	// the path: /credit/ledger is the ledger's, not Credit's.
	best := -1
	for i, item := range out {
		if path == item.Href || (item.Href != "/" && strings.HasPrefix(path, item.Href+"/")) {
			if best < 0 || len(item.Href) > len(out[best].Href) {
				best = i
			}
		}
	}
	if best >= 0 {
		out[best].Current = true
	}
	return out
}

// render writes a component with a status. It renders into a buffer first,
// so a failure never leaves half a page behind, and with a context the
// client's departure cannot cancel: rendering is local work. A request
// whose client has gone is dropped quietly.
func (h *Handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if r.Context().Err() != nil {
		h.dropped(r)
		return
	}
	var buf bytes.Buffer
	if err := c.Render(context.WithoutCancel(r.Context()), &buf); err != nil {
		// A broken template; the error page is a different template, but
		// to be safe from loops the answer here is plain text.
		h.logger.Error("render", "err", err, "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path)
		plainError(w, r, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Add("Vary", "HX-Request")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client may have gone; nothing to do about it
}

// dropped logs, once and quietly, a request whose client went away.
func (h *Handlers) dropped(r *http.Request) {
	h.logger.Debug("client went away", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path)
}

// plainError is the last resort: a one-line text answer that cannot fail.
func plainError(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(http.StatusText(status) + " (request " + middleware.GetReqID(r.Context()) + ")\n")) //nolint:errcheck
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
	h.saveSession(w, r)
}

// saveSession writes the request's session; one ended meanwhile stays ended.
func (h *Handlers) saveSession(w http.ResponseWriter, r *http.Request) {
	sess := currentSession(r.Context())
	if sess == nil {
		return
	}
	if err := sess.Save(r, w); err != nil && !errors.Is(err, session.ErrEnded) {
		h.logger.Error("save session", "err", err, "request_id", middleware.GetReqID(r.Context()))
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

// titles name each status's error page.
var titles = map[int]string{
	http.StatusBadRequest:            "error.title_400",
	http.StatusForbidden:             "error.title_403",
	http.StatusNotFound:              "error.title_404",
	http.StatusMethodNotAllowed:      "error.title_405",
	http.StatusConflict:              "error.title_409",
	http.StatusRequestEntityTooLarge: "error.title_413",
	http.StatusUnprocessableEntity:   "error.title_422",
	http.StatusTooManyRequests:       "error.title_429",
	http.StatusBadGateway:            "error.title_502",
	http.StatusServiceUnavailable:    "error.title_503",
}

// errorPage answers with an error page, or for htmx with a short message
// fragment. It never calls fail, so no error path can call itself.
func (h *Handlers) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	if isHTMX(r) {
		h.render(w, r, status, templates.ProblemBox(&templates.APIProblem{Message: message}))
		return
	}
	title, ok := titles[status]
	if !ok {
		title = "error.title_500"
	}
	h.render(w, r, status, templates.ErrorPage(h.page(w, r, title), status, message))
}

func (h *Handlers) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, tr(r.Context(), "error.not_found"))
}

func (h *Handlers) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusMethodNotAllowed, tr(r.Context(), "error.method"))
}

// kindStatus maps each kind of service error to its HTTP status.
var kindStatus = map[apperr.Kind]int{
	apperr.Invalid:     http.StatusUnprocessableEntity,
	apperr.Conflict:    http.StatusConflict,
	apperr.NotFound:    http.StatusNotFound,
	apperr.Forbidden:   http.StatusForbidden,
	apperr.Throttled:   http.StatusTooManyRequests,
	apperr.Busy:        http.StatusServiceUnavailable,
	apperr.Unavailable: http.StatusForbidden,
}

// problemOf is the one mapping of errors to a status and a sentence for
// people: service errors by kind, store and authorization sentinels, the
// partner API's errors in plain words with its RequestId; internal is true
// for what people cannot act on (logged, shown as a generic sentence).
func problemOf(ctx context.Context, err error) (status int, message string, internal bool) {
	var apiErr *partnerapi.APIError
	switch {
	case errors.As(err, &apiErr), errors.Is(err, partnerapi.ErrOutcomeUnknown), errors.Is(err, keyring.ErrNoCredential):
		// A service error wrapping an API answer is told by the API's answer.
		status := http.StatusBadGateway
		if e, ok := apperr.As(err); ok {
			status = kindStatus[e.Kind]
		}
		return status, apiProblemText(ctx, err), false
	}
	if e, ok := apperr.As(err); ok {
		if s, ok := kindStatus[e.Kind]; ok {
			return s, tr(ctx, e.MessageID, e.Data), false
		}
	}
	switch {
	case errors.Is(err, auth.ErrForbidden):
		return http.StatusForbidden, tr(ctx, "error.forbidden"), false
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, tr(ctx, "error.not_found"), false
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, tr(ctx, "error.conflict"), false
	}
	return http.StatusInternalServerError, tr(ctx, "error.internal"), true
}

// fail is the one path for errors a handler cannot show in its own page:
// it picks the status and sentence, logs internals with the request id, and
// drops requests whose client has gone.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		h.dropped(r)
		return
	}
	status, message, internal := problemOf(r.Context(), err)
	if internal {
		h.logger.Error("request failed", "err", err, "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path)
	}
	h.errorPage(w, r, status, message)
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
		if apiErr.Action != "" && partnerapi.NotAllowlisted(apiErr.Action, err) {
			return &templates.APIProblem{Message: tr(ctx, "apierror.not_allowlisted"), RequestID: apiErr.RequestId, Info: true}
		}
		// The most specific sentence we have: for the code, for its family
		// (AuthFailure, UnauthorizedOperation, ...), or a general one.
		family := strings.SplitN(apiErr.Code, ".", 2)[0]
		for _, id := range []string{"apierror." + apiErr.Code, "apierror." + family} {
			if msg := tr(ctx, id); msg != id {
				return &templates.APIProblem{Message: msg, RequestID: apiErr.RequestId}
			}
		}
		msg := tr(ctx, "apierror.other", map[string]any{"Code": apiErr.Code, "Message": apiErr.Message})
		return &templates.APIProblem{Message: msg, RequestID: apiErr.RequestId}
	case errors.Is(err, keyring.ErrNoCredential):
		return &templates.APIProblem{Message: tr(ctx, "apierror.no_credential")}
	case errors.Is(err, partnerapi.ErrOutcomeUnknown):
		return &templates.APIProblem{Message: tr(ctx, "apierror.unknown_outcome")}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &templates.APIProblem{Message: tr(ctx, "apierror.timeout")}
	}
	return &templates.APIProblem{Message: tr(ctx, "apierror.unreachable")}
}

// tr translates in the request's language.
func tr(ctx context.Context, id string, data ...map[string]any) string {
	var d []map[string]any
	for _, m := range data {
		if m != nil {
			d = append(d, m)
		}
	}
	return i18n.T(ctx, id, d...)
}

// apiLanguage is the partner API language matching the request's.
func apiLanguage(ctx context.Context) string { return i18n.From(ctx).APILanguage() }

// apiProblemText is apiProblem as one sentence, for flash messages.
func apiProblemText(ctx context.Context, err error) string {
	p := apiProblem(ctx, err)
	if p.RequestID == "" {
		return p.Message
	}
	return p.Message + " (" + tr(ctx, "error.request_id_api") + ": " + p.RequestID + ")"
}

// fieldMessages translates a service's field errors for a form: field name
// → sentence. Errors that name no field come under "".
func fieldMessages(ctx context.Context, err error) map[string]string {
	out := map[string]string{}
	for field, e := range apperr.Fields(err) {
		msg := tr(ctx, e.MessageID, e.Data)
		var apiErr *partnerapi.APIError
		if errors.As(e, &apiErr) {
			msg += " " + apiProblemText(ctx, e)
		}
		out[field] = msg
	}
	return out
}

// sendFile answers with an export built in memory, as an attachment named
// name.format; format is "csv" or "xlsx".
func sendFile(w http.ResponseWriter, name, format string, data []byte) {
	contentType := export.CSVContentType
	if format == "xlsx" {
		contentType = export.XLSXContentType
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data) // the client may have gone; nothing to do
}
