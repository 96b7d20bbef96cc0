package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/templates"
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{2,64}$`)

func roleNames() []string {
	var out []string
	for _, r := range auth.Roles() {
		out = append(out, string(r))
	}
	return out
}

func (h *Handlers) userRow(u store.User) templates.UserRow {
	row := templates.UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		SubagentUin: formatUin(u.SubagentUin), Disabled: u.Disabled}
	if !u.ExpiresAt.IsZero() {
		row.Expires = u.ExpiresAt.UTC().Format(time.DateOnly)
		row.Expired = !h.Now().Before(u.ExpiresAt)
	}
	return row
}

func (h *Handlers) usersPage(w http.ResponseWriter, r *http.Request) {
	h.renderUsers(w, r, http.StatusOK, templates.UserForm{Role: string(auth.RoleStaff)}, nil)
}

func (h *Handlers) renderUsers(w http.ResponseWriter, r *http.Request, status int, form templates.UserForm, np *templates.NewPassword) {
	users, err := h.DB.ListUsers(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.Users{Form: form, Roles: roleNames(), NewPassword: np}
	for _, u := range users {
		v.Rows = append(v.Rows, h.userRow(u))
	}
	h.render(w, r, status, templates.UsersPage(h.page(w, r, "users.title"), v))
}

// parseUserForm reads and checks the user form; the error is a sentence
// for the form.
func (h *Handlers) parseUserForm(r *http.Request, create bool) (templates.UserForm, store.User, string) {
	ctx := r.Context()
	f := templates.UserForm{
		Username:    strings.TrimSpace(r.PostFormValue("username")),
		DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		Role:        r.PostFormValue("role"),
		SubagentUin: strings.TrimSpace(r.PostFormValue("subagent_uin")),
		Expires:     strings.TrimSpace(r.PostFormValue("expires")),
	}
	u := store.User{Username: f.Username, DisplayName: f.DisplayName}
	if create && !usernamePattern.MatchString(f.Username) {
		return f, u, tr(ctx, "users.bad_username")
	}
	role, err := auth.ParseRole(f.Role)
	if err != nil {
		return f, u, tr(ctx, "users.bad_role")
	}
	u.Role = string(role)
	if f.SubagentUin != "" {
		uin, err := strconv.ParseUint(f.SubagentUin, 10, 64)
		if err != nil || uin == 0 {
			return f, u, tr(ctx, "users.bad_uin")
		}
		u.SubagentUin = uin
	}
	if role == auth.RoleSubagent && u.SubagentUin == 0 {
		return f, u, tr(ctx, "users.subagent_needs_uin")
	}
	if role != auth.RoleSubagent && u.SubagentUin != 0 {
		return f, u, tr(ctx, "users.uin_only_subagent")
	}
	if f.Expires != "" {
		day, err := time.Parse(time.DateOnly, f.Expires)
		if err != nil {
			return f, u, tr(ctx, "users.bad_expiry")
		}
		// The login works through the whole of its last day, in UTC.
		u.ExpiresAt = day.Add(24 * time.Hour)
	}
	return f, u, ""
}

func userParams(u store.User) map[string]string {
	p := map[string]string{"user": u.Username, "role": u.Role}
	if u.SubagentUin != 0 {
		p["subagent_uin"] = formatUin(u.SubagentUin)
	}
	if !u.ExpiresAt.IsZero() {
		p["expires"] = u.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return p
}

// createUser adds a user with a random password shown once to the admin.
func (h *Handlers) createUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, u, problem := h.parseUserForm(r, true)
	if problem != "" {
		f.Error = problem
		h.renderUsers(w, r, http.StatusUnprocessableEntity, f, nil)
		return
	}
	password, err := auth.RandomPassword(16)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if u.PasswordHash, err = auth.HashPassword(password); err != nil {
		h.fail(w, r, err)
		return
	}
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		created, err := tx.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, auditEntry(r, "user.create", created.SubagentUin, userParams(created)))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		f.Error = tr(ctx, "users.taken")
		h.renderUsers(w, r, http.StatusConflict, f, nil)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderUsers(w, r, http.StatusCreated, templates.UserForm{Role: string(auth.RoleStaff)}, &templates.NewPassword{Username: u.Username, Password: password})
}

func (h *Handlers) userFromURL(r *http.Request) (store.User, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return store.User{}, fmt.Errorf("user id %q: %w", chi.URLParam(r, "id"), store.ErrNotFound)
	}
	return h.DB.UserByID(r.Context(), id)
}

func (h *Handlers) userPage(w http.ResponseWriter, r *http.Request) {
	u, err := h.userFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderUser(w, r, http.StatusOK, u, nil, "")
}

func (h *Handlers) renderUser(w http.ResponseWriter, r *http.Request, status int, u store.User, np *templates.NewPassword, problem string) {
	rows, err := h.sessionRows(r, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	me, _ := currentUser(r.Context())
	row := h.userRow(u)
	v := templates.UserEdit{
		Row: row, Roles: roleNames(), Sessions: rows, NewPassword: np, Self: me.ID == u.ID,
		Form: templates.UserForm{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, SubagentUin: row.SubagentUin, Error: problem},
	}
	if !u.ExpiresAt.IsZero() {
		v.Form.Expires = u.ExpiresAt.Add(-24 * time.Hour).UTC().Format(time.DateOnly)
	}
	h.render(w, r, status, templates.UserEditPage(h.page(w, r, "users.edit_title"), v))
}

func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := h.userFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	_, changed, problem := h.parseUserForm(r, false)
	me, _ := currentUser(ctx)
	if problem == "" && me.ID == u.ID && changed.Role != u.Role {
		problem = tr(ctx, "users.own_role")
	}
	if problem != "" {
		h.renderUser(w, r, http.StatusUnprocessableEntity, u, nil, problem)
		return
	}
	u.DisplayName, u.Role, u.SubagentUin, u.ExpiresAt = changed.DisplayName, changed.Role, changed.SubagentUin, changed.ExpiresAt
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, "user.update", u.SubagentUin, userParams(u)))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "users.saved"))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

// resetPassword sets a new random password, shows it once and ends the
// user's sessions.
func (h *Handlers) resetPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := h.userFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	password, err := auth.RandomPassword(16)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	me, _ := currentUser(ctx)
	keep := ""
	if me.ID == u.ID {
		keep = sessionStoreID(r)
	}
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, keep); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, "user.reset_password", 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderUser(w, r, http.StatusOK, u, &templates.NewPassword{Username: u.Username, Password: password}, "")
}

func (h *Handlers) disableUser(w http.ResponseWriter, r *http.Request) { h.setDisabled(w, r, true) }
func (h *Handlers) enableUser(w http.ResponseWriter, r *http.Request)  { h.setDisabled(w, r, false) }

// setDisabled disables or enables a user; disabling ends their sessions at
// once (the store does it in the same transaction).
func (h *Handlers) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	ctx := r.Context()
	u, err := h.userFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if me, _ := currentUser(ctx); me.ID == u.ID {
		h.renderUser(w, r, http.StatusUnprocessableEntity, u, nil, tr(ctx, "users.own_disable"))
		return
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetDisabled(ctx, u.ID, disabled); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, action, 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "users.saved"))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

// endUserSession lets an admin end anyone's session.
func (h *Handlers) endUserSession(w http.ResponseWriter, r *http.Request) {
	u, err := h.userFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.endSession(w, r, u, fmt.Sprintf("/admin/users/%d", u.ID))
}
