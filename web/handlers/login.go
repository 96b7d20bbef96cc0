package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/templates"
)

func (h *Handlers) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := currentUser(r.Context()); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	f := templates.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}
	h.render(w, r, http.StatusOK, templates.Login(h.page(w, r, "login.title"), f))
}

// login checks the password with one generic failure message for every
// reason (unknown user, wrong password, disabled, expired), throttled per
// account and per address.
func (h *Handlers) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	f := templates.LoginForm{Username: username, Next: safeNext(r.PostFormValue("next"))}
	addr := clientAddr(ctx)

	if ok, wait := h.Throttle.Check(strings.ToLower(username), addr); !ok {
		f.Wait = formatWait(wait)
		h.audit(ctx, store.AuditEntry{Actor: username, Action: "login.throttled", Outcome: "failed", ClientAddr: addr})
		h.render(w, r, http.StatusTooManyRequests, templates.Login(h.page(w, r, "login.title"), f))
		return
	}

	u, err := h.DB.UserByUsername(ctx, username)
	valid := false
	switch {
	case err == nil:
		match, cerr := auth.CheckPassword(u.PasswordHash, password)
		if cerr != nil {
			h.Logger.Error("check password", "err", cerr, "user", u.Username)
		}
		valid = match && h.maySignIn(u)
	case errors.Is(err, store.ErrNotFound):
		auth.DummyCheck(password)
	default:
		h.fail(w, r, err)
		return
	}
	if !valid {
		h.Throttle.Failed(strings.ToLower(username), addr)
		h.audit(ctx, store.AuditEntry{Actor: username, Action: "login.failed", Outcome: "failed", ClientAddr: addr})
		f.Failed = true
		h.render(w, r, http.StatusUnauthorized, templates.Login(h.page(w, r, "login.title"), f))
		return
	}

	h.Throttle.Succeeded(strings.ToLower(username))
	sess := currentSession(ctx)
	session.SetUser(sess, u.ID)
	if err := h.Sessions.Renew(r, w, sess); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(ctx, store.AuditEntry{Actor: u.Username, ActorRole: u.Role, OnBehalfOf: onBehalf(u), Action: "login", Outcome: "ok", ClientAddr: addr})
	next := f.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func onBehalf(u store.User) uint64 {
	if u.Role == string(auth.RoleSubagent) {
		return u.SubagentUin
	}
	return 0
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := currentSession(ctx)
	if u, ok := currentUser(ctx); ok {
		h.audit(ctx, store.AuditEntry{Actor: u.Username, ActorRole: u.Role, OnBehalfOf: onBehalf(u), Action: "logout", Outcome: "ok", ClientAddr: clientAddr(ctx)})
	}
	if sess != nil {
		sess.Options.MaxAge = -1
		if err := sess.Save(r, w); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLanguage stores the language choice: on the user when signed in,
// else in the session.
func (h *Handlers) setLanguage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := r.PostFormValue("lang")
	if lang != i18n.English && lang != i18n.Chinese {
		h.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if u, ok := currentUser(ctx); ok {
		u.Locale = lang
		if _, err := h.DB.UpdateUser(ctx, u); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if sess := currentSession(ctx); sess != nil {
		sess.Values["lang"] = lang
		if err := sess.Save(r, w); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	back := "/"
	if ref := r.Header.Get("Referer"); ref != "" {
		if next := safeNext(refererPath(ref, r.Host)); next != "" {
			back = next
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// safeNext keeps only local paths, so a crafted link cannot send a user
// elsewhere after signing in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

// refererPath returns the path of a same-host Referer, or "".
func refererPath(ref, host string) string {
	u, err := url.Parse(ref)
	if err != nil || u.Host != host {
		return ""
	}
	return u.RequestURI()
}
