package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/sessions"

	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
)

// sessionName is the session's name inside gorilla/sessions; the cookie's
// name comes from the session store.
func (h *Handlers) sessionName() string { return h.Sessions.CookieName() }

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	addrKey
)

// currentUser returns the signed-in user, if any.
func currentUser(ctx context.Context) (store.User, bool) {
	u, ok := ctx.Value(userKey).(store.User)
	return u, ok
}

// principal returns the signed-in user as authorization sees them.
func principal(ctx context.Context) auth.Principal {
	u, _ := currentUser(ctx)
	return auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), SubagentUin: u.SubagentUin}
}

func currentSession(ctx context.Context) *sessions.Session {
	s, _ := ctx.Value(sessionKey).(*sessions.Session)
	return s
}

func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(addrKey).(string)
	return a
}

// clientAddress decides the client's address once: the peer, or the
// proxy's header when the portal is told to trust its proxy.
func (h *Handlers) clientAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		if h.TrustProxy {
			if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
				addr = strings.TrimSpace(strings.Split(fwd, ",")[0])
			} else if real := r.Header.Get("X-Real-IP"); real != "" {
				addr = strings.TrimSpace(real)
			}
		}
		ctx := context.WithValue(r.Context(), addrKey, addr)
		ctx = session.WithClientAddr(ctx, addr)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// observe logs every request with its id and records its latency.
func (h *Handlers) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		took := h.Now().Sub(start)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		h.Metrics.ObserveHTTP(route, r.Method, status, took)
		u, _ := currentUser(r.Context())
		h.Logger.LogAttrs(r.Context(), levelFor(status), "request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", status), slog.Duration("took", took),
			slog.String("client", clientAddr(r.Context())), slog.String("user", u.Username))
	})
}

// recoverer turns a panic into the 500 page; the panic goes to the log,
// never to the browser.
func (h *Handlers) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders forbids inline script and framing and keeps referrers
// and content types in check.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses unsafe requests (POST, htmx's included) that a
// browser marks as coming from another origin.
func (h *Handlers) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Logger.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
			"request_id", middleware.GetReqID(r.Context()))
		h.errorPage(w, r, http.StatusForbidden, "error.cross_origin")
	}))
	return cop.Handler(next)
}

// loadSession loads the session and, when it names a user who may still
// sign in, that user; it also picks the request's language.
func (h *Handlers) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess, err := h.Sessions.Get(r, h.sessionName())
		if err != nil {
			h.Logger.Error("load session", "err", err, "request_id", middleware.GetReqID(ctx))
		}
		ctx = context.WithValue(ctx, sessionKey, sess)
		saved := ""
		if lang, ok := sess.Values["lang"].(string); ok {
			saved = lang
		}
		if uid := session.UserID(sess); uid != 0 && !sess.IsNew {
			u, err := h.DB.UserByID(ctx, uid)
			switch {
			case err == nil && h.maySignIn(u):
				ctx = context.WithValue(ctx, userKey, u)
				if u.Locale != "" {
					saved = u.Locale
				}
				if err := h.Sessions.Touch(ctx, sess); err != nil {
					h.Logger.Error("touch session", "err", err)
				}
			case err == nil || errors.Is(err, store.ErrNotFound):
				// Disabled, expired or deleted since: the session ends now.
				if err := h.DB.DeleteSession(ctx, session.StoreID(sess)); err != nil {
					h.Logger.Error("end session", "err", err)
				}
				delete(sess.Values, "uid")
			default:
				h.fail(w, r, fmt.Errorf("load signed-in user: %w", err))
				return
			}
		}
		loc := h.Catalog.Localizer(h.Catalog.Pick(saved, r.Header.Get("Accept-Language")))
		ctx = i18n.WithLocalizer(ctx, loc)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// maySignIn says whether a user's account currently allows working.
func (h *Handlers) maySignIn(u store.User) bool {
	if u.Disabled {
		return false
	}
	return u.ExpiresAt.IsZero() || h.Now().Before(u.ExpiresAt)
}

// requireLogin sends anonymous visitors to the sign-in page.
func (h *Handlers) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := currentUser(r.Context()); !ok {
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// require refuses users whose role lacks the permission.
func (h *Handlers) require(p auth.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !principal(r.Context()).Can(p) {
				h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isLoopback reports whether the client (after any trusted proxy) is this machine.
func isLoopback(r *http.Request) bool {
	ip := net.ParseIP(clientAddr(r.Context()))
	return ip != nil && ip.IsLoopback()
}

func formatWait(d time.Duration) string {
	return d.Round(time.Second).String()
}
