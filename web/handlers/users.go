package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"resellerportal/apperr"
	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/users"
	"resellerportal/web/session"
	"resellerportal/web/templates"
)

func roleNames() []string {
	var out []string
	for _, r := range auth.Roles() {
		out = append(out, string(r))
	}
	return out
}

func (h *Handlers) userRow(u store.User) templates.UserRow {
	row := templates.UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		SubagentUin: formatUin(u.SubagentUin), Disabled: u.Disabled, Expires: users.LastDay(u)}
	if !u.ExpiresAt.IsZero() {
		row.Expired = !h.now().Before(u.ExpiresAt)
	}
	return row
}

func (h *Handlers) usersPage(w http.ResponseWriter, r *http.Request) {
	h.renderUsers(w, r, http.StatusOK, userPreset(r))
}

// userPreset fills the add-user form from the query string (a reseller's
// page links here to preset a delegated login), keeping only values of the
// right form. They are initial values only: the POST is checked as always.
func userPreset(r *http.Request) templates.UserForm {
	q := r.URL.Query()
	f := templates.UserForm{Role: string(auth.RoleStaff)}
	if role := q.Get("role"); slices.Contains(roleNames(), role) {
		f.Role = role
	}
	if uin := q.Get("subagent_uin"); len(uin) <= 20 {
		if n, err := strconv.ParseUint(uin, 10, 64); err == nil && n > 0 {
			f.SubagentUin = strconv.FormatUint(n, 10)
		}
	}
	if d := q.Get("expires"); len(d) == len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, d); err == nil {
			f.Expires = d
		}
	}
	return f
}

func (h *Handlers) renderUsers(w http.ResponseWriter, r *http.Request, status int, form templates.UserForm) {
	list, err := h.users.List(r.Context(), actor(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.Users{Form: form, Roles: roleNames()}
	for _, u := range list {
		v.Rows = append(v.Rows, h.userRow(u))
	}
	h.render(w, r, status, templates.UsersPage(h.page(w, r, "users.title"), v))
}

// userInput reads the user form.
func userInput(r *http.Request) (users.Input, templates.UserForm) {
	in := users.Input{
		Username:    r.PostFormValue("username"),
		DisplayName: r.PostFormValue("display_name"),
		Role:        r.PostFormValue("role"),
		SubagentUin: r.PostFormValue("subagent_uin"),
		Expires:     r.PostFormValue("expires"),
	}
	f := templates.UserForm{Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, SubagentUin: in.SubagentUin, Expires: in.Expires}
	return in, f
}

// formFailure re-renders a form with its field problems, or fails the
// request when the problem is not about the form.
func (h *Handlers) formFailure(w http.ResponseWriter, r *http.Request, err error, show func(status int, errs map[string]string)) {
	h.showFormFailure(w, r, err, show, apperr.Invalid, apperr.Conflict, apperr.Unavailable)
}

// formFailureOr429 is formFailure for forms that are throttled or may find
// the portal busy: those are shown in the form too.
func (h *Handlers) formFailureOr429(w http.ResponseWriter, r *http.Request, err error, show func(status int, errs map[string]string)) {
	h.showFormFailure(w, r, err, show, apperr.Invalid, apperr.Conflict, apperr.Unavailable, apperr.Throttled, apperr.Busy)
}

func (h *Handlers) showFormFailure(w http.ResponseWriter, r *http.Request, err error, show func(status int, errs map[string]string), kinds ...apperr.Kind) {
	e, ok := apperr.As(err)
	if !ok || !slices.Contains(kinds, e.Kind) {
		h.fail(w, r, err)
		return
	}
	status, _, _ := problemOf(r.Context(), err)
	show(status, fieldMessages(r.Context(), err))
}

// createUser adds a user; the one-time password is shown on the page the
// browser is sent to, once.
func (h *Handlers) createUser(w http.ResponseWriter, r *http.Request) {
	in, f := userInput(r)
	u, password, err := h.users.Create(r.Context(), actor(r), in)
	if err != nil {
		h.formFailure(w, r, err, func(status int, errs map[string]string) {
			f.Errors = errs
			h.renderUsers(w, r, status, f)
		})
		return
	}
	h.once.put(session.StoreID(currentSession(r.Context())), u.ID, u.Username, password, h.now())
	h.flash(w, r, "ok", tr(r.Context(), "users.created", map[string]any{"User": u.Username}))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

func userID(r *http.Request) int64 {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

func (h *Handlers) userPage(w http.ResponseWriter, r *http.Request) {
	u, err := h.users.Get(r.Context(), actor(r), userID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderUser(w, r, http.StatusOK, u, nil)
}

// renderUser shows a user's page with the stored values in the form, and
// the one-time password this session was just given for them, if any.
func (h *Handlers) renderUser(w http.ResponseWriter, r *http.Request, status int, u store.User, errs map[string]string) {
	f := templates.UserForm{DisplayName: u.DisplayName, Role: u.Role, SubagentUin: formatUin(u.SubagentUin), Expires: users.LastDay(u)}
	h.renderUserForm(w, r, status, u, f, errs)
}

func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := userID(r)
	in, f := userInput(r)
	u, err := h.users.Update(ctx, actor(r), id, in)
	if err != nil {
		h.formFailure(w, r, err, func(status int, errs map[string]string) {
			cur, gerr := h.users.Get(ctx, actor(r), id)
			if gerr != nil {
				h.fail(w, r, gerr)
				return
			}
			// What was typed stays in the form.
			h.renderUserForm(w, r, status, cur, f, errs)
		})
		return
	}
	h.flash(w, r, "ok", tr(ctx, "users.saved"))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

// renderUserForm shows a user's page with the form as given and its problems.
func (h *Handlers) renderUserForm(w http.ResponseWriter, r *http.Request, status int, u store.User, f templates.UserForm, errs map[string]string) {
	rows, err := h.sessionRows(r, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	me, _ := currentUser(r.Context())
	f.Username, f.Errors = u.Username, errs
	v := templates.UserEdit{Row: h.userRow(u), Roles: roleNames(), Sessions: rows, Self: me.ID == u.ID, Form: f}
	if s, ok := h.once.take(session.StoreID(currentSession(r.Context())), u.ID, h.now()); ok {
		v.NewPassword = &templates.NewPassword{Username: s.username, Password: s.password}
	}
	h.render(w, r, status, templates.UserEditPage(h.page(w, r, "users.edit_title"), v))
}

// resetPassword sets a new random password, ends the user's sessions and
// shows the password once on the user's page.
func (h *Handlers) resetPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := userID(r)
	sid := session.StoreID(currentSession(ctx))
	password, err := h.users.ResetPassword(ctx, actor(r), id, sid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.users.Get(ctx, actor(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.once.put(sid, u.ID, u.Username, password, h.now())
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

func (h *Handlers) disableUser(w http.ResponseWriter, r *http.Request) { h.setDisabled(w, r, true) }
func (h *Handlers) enableUser(w http.ResponseWriter, r *http.Request)  { h.setDisabled(w, r, false) }

func (h *Handlers) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	ctx := r.Context()
	u, err := h.users.SetDisabled(ctx, actor(r), userID(r), disabled)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "users.saved"))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID))
}

// endUserSession lets an admin end anyone's session.
func (h *Handlers) endUserSession(w http.ResponseWriter, r *http.Request) {
	id := userID(r)
	if err := h.users.EndSession(r.Context(), actor(r), id, chi.URLParam(r, "sid")); err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(r.Context(), "sessions.ended"))
	redirect(w, r, fmt.Sprintf("/admin/users/%d", id))
}

// oneTime keeps a one-time password between the form that made it and the
// page its redirect shows — in memory only, for the session that made it,
// for a few minutes — so a reload never submits the form again and the
// password never reaches the database in clear.
type oneTime struct {
	mu      sync.Mutex
	secrets map[string]oneTimeSecret // by session store id
}

type oneTimeSecret struct {
	userID             int64
	username, password string
	at                 time.Time
}

const (
	oneTimeFor = 5 * time.Minute
	maxOneTime = 1000
)

func (o *oneTime) put(sessionID string, userID int64, username, password string, now time.Time) {
	if sessionID == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.secrets == nil || len(o.secrets) >= maxOneTime {
		o.secrets = map[string]oneTimeSecret{}
	}
	o.secrets[sessionID] = oneTimeSecret{userID: userID, username: username, password: password, at: now}
}

// take returns the session's one-time password for a user and forgets it.
func (o *oneTime) take(sessionID string, userID int64, now time.Time) (oneTimeSecret, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.secrets[sessionID]
	if !ok || s.userID != userID {
		return oneTimeSecret{}, false
	}
	delete(o.secrets, sessionID)
	return s, now.Sub(s.at) < oneTimeFor
}
