package handlers

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"resellerportal/web/session"
	"resellerportal/web/templates"
)

func (h *Handlers) accountPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccount(w, r, http.StatusOK, nil)
}

func (h *Handlers) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	h.renderAccountWith(w, r, status, errs, nil)
}

func (h *Handlers) renderAccountWith(w http.ResponseWriter, r *http.Request, status int, errs, zoneErrs map[string]string) {
	ctx := r.Context()
	u, _ := currentUser(ctx)
	rows, err := h.sessionRows(r, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.now().In(zoneOf(ctx))
	a := templates.Account{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, MustChange: u.MustChangePassword,
		Errors: errs, Sessions: rows, TimeZone: u.TimeZone, Zones: timeZones(u.TimeZone, zoneOf(ctx).String()),
		ZoneNow: zoneOf(ctx).String() + " (" + zoneLabel(now) + ")", ZoneErr: zoneErrs}
	h.render(w, r, status, templates.AccountPage(h.page(w, r, "account.title"), a))
}

// commonZones are the time zones offered first: where a Tencent Cloud
// International partner's people are likely to work.
var commonZones = []string{
	"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Jakarta",
	"Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Manila", "Asia/Tokyo", "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai",
	"Asia/Riyadh", "Europe/Istanbul", "Europe/Moscow", "Europe/Berlin", "Europe/Paris", "Europe/London",
	"Africa/Johannesburg", "America/Sao_Paulo", "America/Mexico_City", "America/New_York", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "Australia/Sydney", "Pacific/Auckland",
}

// timeZones is the list to choose from, with the user's own and the
// browser's zone added when they are not among the common ones.
func timeZones(extra ...string) []string {
	out := append([]string{}, commonZones...)
	for _, z := range extra {
		if z != "" && !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

// setTimeZone records the signed-in user's time zone.
func (h *Handlers) setTimeZone(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := h.users.SetTimeZone(ctx, actor(r), r.PostFormValue("time_zone")); err != nil {
		h.formFailure(w, r, err, func(status int, errs map[string]string) { h.renderAccountWith(w, r, status, nil, errs) })
		return
	}
	h.flash(w, r, "ok", tr(ctx, "account.zone_saved"))
	redirect(w, r, "/account")
}

// sessionRows lists a user's sessions, marking the one making this request.
func (h *Handlers) sessionRows(r *http.Request, userID int64) ([]templates.SessionRow, error) {
	list, err := h.users.Sessions(r.Context(), actor(r), userID)
	if err != nil {
		return nil, err
	}
	current := session.StoreID(currentSession(r.Context()))
	rows := make([]templates.SessionRow, 0, len(list))
	for _, s := range list {
		rows = append(rows, templates.SessionRow{
			ID: s.ID, Current: s.ID == current, Created: formatTime(r.Context(), s.CreatedAt), LastSeen: formatTime(r.Context(), s.LastSeen),
			ClientAddr: s.ClientAddr, UserAgent: s.UserAgent, Browser: describeBrowser(s.UserAgent),
		})
	}
	return rows, nil
}

// changePassword changes the signed-in user's password; the service checks
// the current one (throttled like a sign-in) and ends the other sessions.
func (h *Handlers) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := h.users.ChangeOwnPassword(ctx, actor(r), r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm"),
		session.StoreID(currentSession(ctx)))
	if err != nil {
		h.formFailureOr429(w, r, err, func(status int, errs map[string]string) { h.renderAccount(w, r, status, errs) })
		return
	}
	h.flash(w, r, "ok", tr(ctx, "account.password_changed"))
	redirect(w, r, "/account")
}

// endOwnSession ends one of the user's own sessions, never another user's.
func (h *Handlers) endOwnSession(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	if err := h.users.EndSession(r.Context(), a, a.UserID, chi.URLParam(r, "sid")); err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(r.Context(), "sessions.ended"))
	redirect(w, r, "/account")
}
