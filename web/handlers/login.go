package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"resellerportal/apperr"
	"resellerportal/users"
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

// login signs a person in; the users service decides, with one generic
// failure message for every reason.
func (h *Handlers) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	username := r.PostFormValue("username")
	f := templates.LoginForm{Username: strings.TrimSpace(username), Next: safeNext(r.PostFormValue("next"))}
	if len(f.Username) > users.MaxUsernameLength {
		f.Username = ""
	}
	u, err := h.users.SignIn(ctx, username, r.PostFormValue("password"), clientAddr(ctx))
	if err != nil {
		status, message, internal := problemOf(ctx, err)
		if internal {
			h.fail(w, r, err)
			return
		}
		if apperr.KindOf(err) == apperr.Invalid {
			status = http.StatusUnauthorized
		}
		f.Error = message
		h.render(w, r, status, templates.Login(h.page(w, r, "login.title"), f))
		return
	}
	sess := currentSession(ctx)
	session.SetUser(sess, u.ID)
	if err := h.sessions.Renew(r, w, sess); err != nil {
		h.fail(w, r, err)
		return
	}
	next := f.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := currentSession(ctx)
	if _, ok := currentUser(ctx); ok {
		if err := h.users.SignOut(ctx, actor(r), session.StoreID(sess)); err != nil {
			h.fail(w, r, err)
			return
		}
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
	if !i18n.Known(lang) {
		h.errorPage(w, r, http.StatusBadRequest, tr(ctx, "error.bad_request"))
		return
	}
	if _, ok := currentUser(ctx); ok {
		if err := h.users.SetLanguage(ctx, actor(r), lang, i18n.Known); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if sess := currentSession(ctx); sess != nil {
		sess.Values["lang"] = lang
		h.saveSession(w, r)
	}
	back := "/"
	if ref := r.Header.Get("Referer"); ref != "" {
		if next := safeNext(refererPath(ref, r.Host)); next != "" {
			back = next
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// safeNext keeps only a path of this site, so a crafted link cannot send a
// user elsewhere after signing in: one leading slash (not // or /\), no
// backslash or control character anywhere (browsers drop tabs and newlines
// from URLs, so "/\t/evil.example" would become "//evil.example"), and no
// scheme or host once parsed.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || strings.ContainsFunc(next, unicode.IsControl) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
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
