package handlers

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/session"
	"resellerportal/web/templates"
)

func (h *Handlers) accountPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccount(w, r, http.StatusOK, "")
}

func (h *Handlers) renderAccount(w http.ResponseWriter, r *http.Request, status int, passwordError string) {
	ctx := r.Context()
	u, _ := currentUser(ctx)
	rows, err := h.sessionRows(r, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a := templates.Account{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, PasswordError: passwordError, Sessions: rows}
	h.render(w, r, status, templates.AccountPage(h.page(w, r, "account.title"), a))
}

// sessionRows lists a user's sessions, marking the one making this request.
func (h *Handlers) sessionRows(r *http.Request, userID int64) ([]templates.SessionRow, error) {
	list, err := h.DB.SessionsForUser(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	current := session.StoreID(currentSession(r.Context()))
	rows := make([]templates.SessionRow, 0, len(list))
	for _, s := range list {
		if !s.ExpiresAt.IsZero() && h.Now().After(s.ExpiresAt) {
			continue
		}
		rows = append(rows, templates.SessionRow{
			ID: s.ID, Current: s.ID == current, Created: formatTime(s.CreatedAt), LastSeen: formatTime(s.LastSeen),
			ClientAddr: s.ClientAddr, UserAgent: s.UserAgent,
		})
	}
	return rows, nil
}

// changePassword needs the current password; it ends the user's other
// sessions, since a password change is often a reaction to a leak.
func (h *Handlers) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, _ := currentUser(ctx)
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	ok, err := auth.CheckPassword(u.PasswordHash, current)
	if err != nil || !ok {
		h.renderAccount(w, r, http.StatusUnprocessableEntity, tr(ctx, "account.wrong_password"))
		return
	}
	if next != confirm {
		h.renderAccount(w, r, http.StatusUnprocessableEntity, tr(ctx, "account.mismatch"))
		return
	}
	if err := auth.ValidatePassword(u.Username, next); err != nil {
		h.renderAccount(w, r, http.StatusUnprocessableEntity, tr(ctx, "account.weak_password"))
		return
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	keep := sessionStoreID(r)
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, keep); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, "password.change", 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "account.password_changed"))
	redirect(w, r, "/account")
}

// endOwnSession ends one of the user's own sessions, never another user's.
func (h *Handlers) endOwnSession(w http.ResponseWriter, r *http.Request) {
	u, _ := currentUser(r.Context())
	h.endSession(w, r, u, "/account")
}

func (h *Handlers) endSession(w http.ResponseWriter, r *http.Request, owner store.User, back string) {
	ctx := r.Context()
	sid := chi.URLParam(r, "sid")
	list, err := h.DB.SessionsForUser(ctx, owner.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	found := false
	for _, s := range list {
		found = found || s.ID == sid
	}
	if !found {
		h.fail(w, r, store.ErrNotFound)
		return
	}
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, sid); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, "session.end", 0, map[string]string{"user": owner.Username}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "sessions.ended"))
	redirect(w, r, back)
}

// sessionStoreID is the store's id of the request's session.
func sessionStoreID(r *http.Request) string { return session.StoreID(currentSession(r.Context())) }
