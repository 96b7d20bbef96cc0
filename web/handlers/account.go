package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"resellerportal/web/session"
	"resellerportal/web/templates"
)

func (h *Handlers) accountPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccount(w, r, http.StatusOK, nil)
}

func (h *Handlers) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	ctx := r.Context()
	u, _ := currentUser(ctx)
	rows, err := h.sessionRows(r, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a := templates.Account{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Errors: errs, Sessions: rows}
	h.render(w, r, status, templates.AccountPage(h.page(w, r, "account.title"), a))
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
			ID: s.ID, Current: s.ID == current, Created: formatTime(s.CreatedAt), LastSeen: formatTime(s.LastSeen),
			ClientAddr: s.ClientAddr, UserAgent: s.UserAgent,
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
