package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/sessions"

	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/users"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
)

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	addrKey
	proxiedKey
)

// currentUser returns the signed-in user, if any.
func currentUser(ctx context.Context) (store.User, bool) {
	u, ok := ctx.Value(userKey).(store.User)
	return u, ok
}

// principal returns the signed-in user as authorization sees them.
func principal(ctx context.Context) auth.Principal {
	u, _ := currentUser(ctx)
	return audit.Principal(u)
}

// actor is the signed-in user acting from the request's client address.
func actor(r *http.Request) audit.Actor {
	u, _ := currentUser(r.Context())
	return audit.UserActor(u, clientAddr(r.Context()))
}

func currentSession(ctx context.Context) *sessions.Session {
	s, _ := ctx.Value(sessionKey).(*sessions.Session)
	return s
}

func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(addrKey).(string)
	return a
}

// proxied reports whether the request came through a trusted proxy.
func proxied(ctx context.Context) bool {
	p, _ := ctx.Value(proxiedKey).(bool)
	return p
}

// clientAddress decides the client's address once. Behind trusted proxies
// it is the right-most X-Forwarded-For entry that is not itself a trusted
// proxy: each proxy appends the address it was connected from, so entries
// to the left of that one were written by the client and prove nothing.
func (h *Handlers) clientAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		viaProxy := false
		if peer, err := netip.ParseAddr(addr); err == nil && h.trusted(peer) {
			viaProxy = true
			addr = h.forwardedFor(r, peer.Unmap().String())
		}
		ctx := context.WithValue(r.Context(), addrKey, addr)
		ctx = context.WithValue(ctx, proxiedKey, viaProxy)
		ctx = session.WithClientAddr(ctx, addr)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (h *Handlers) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range h.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right past the trusted
// proxies; when every entry is a trusted proxy (or there is none), the
// left-most trusted hop, else the peer, is the client.
func (h *Handlers) forwardedFor(r *http.Request, peer string) string {
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// Garbage where an address should be: nothing further left can
			// be trusted either.
			return client
		}
		client = a.Unmap().String()
		if !h.trusted(a) {
			return client
		}
	}
	return client
}

// requestLog is what inner handlers tell the request log: who it was.
type requestLog struct{ user string }

type requestLogKey struct{}

// observe logs every request with its id and records its latency.
func (h *Handlers) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		info := &requestLog{}
		r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, info))
		next.ServeHTTP(ww, r)
		took := h.now().Sub(start)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		h.metrics.ObserveHTTP(route, r.Method, status, took)
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		h.logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", status), slog.Duration("took", took),
			slog.String("client", clientAddr(r.Context())), slog.String("user", info.user))
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
				h.logger.Error("panic", "panic", fmt.Sprint(v), "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path)
				h.errorPage(w, r, http.StatusInternalServerError, tr(r.Context(), "error.internal"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders forbids inline script and framing, keeps referrers and
// content types in check, and keeps every page out of caches: pages carry
// people's data and one-time passwords.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a request body: the portal's forms are small.
const maxFormBytes = 64 << 10

// limitBody bounds every request body and parses forms up front, so no
// handler can be handed an unbounded body.
func (h *Handlers) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		limit := int64(maxFormBytes)
		if r.URL.Path == "/credit/bulk" {
			// A bulk allocation's file; the handler parses it itself.
			limit = bulkUploadBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			status := http.StatusBadRequest
			if errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			// Plain text: no session is loaded yet, and a page would need one.
			plainError(w, r, status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses unsafe requests (POST, htmx's included) that a
// browser marks as coming from another origin.
func (h *Handlers) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.logger.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
			"request_id", middleware.GetReqID(r.Context()))
		h.errorPage(w, r, http.StatusForbidden, tr(r.Context(), "error.cross_origin"))
	}))
	return cop.Handler(next)
}

// isBackground reports a request no person asked for: htmx polling marks
// itself so, and must not keep an idle session alive.
func isBackground(r *http.Request) bool { return r.Header.Get("X-Background") == "true" }

// loadSession loads the session and, when it names a user who may still
// sign in, that user; it also picks the request's language.
func (h *Handlers) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess, err := h.sessions.Get(r, h.sessions.CookieName())
		switch {
		case err != nil && ctx.Err() != nil:
			h.dropped(r) // the client went away while the session was read
		case err != nil:
			h.logger.Error("load session", "err", err, "request_id", middleware.GetReqID(ctx))
		}
		ctx = context.WithValue(ctx, sessionKey, sess)
		saved := ""
		if lang, ok := sess.Values["lang"].(string); ok {
			saved = lang
		}
		// The browser tells its time zone in a cookie app.js sets; a user's
		// own choice goes first.
		zone := ""
		if c, err := r.Cookie("tz"); err == nil {
			zone = c.Value
		}
		if uid := session.UserID(sess); uid != 0 && !sess.IsNew {
			u, err := h.users.Current(ctx, uid)
			switch {
			case err == nil && h.users.MaySignIn(u):
				ctx = context.WithValue(ctx, userKey, u)
				if info, ok := ctx.Value(requestLogKey{}).(*requestLog); ok {
					info.user = u.Username
				}
				if u.Locale != "" {
					saved = u.Locale
				}
				if u.TimeZone != "" {
					zone = u.TimeZone
				}
				if !isBackground(r) {
					if err := h.sessions.Touch(ctx, sess); err != nil && ctx.Err() == nil {
						h.logger.Error("touch session", "err", err)
					}
				}
			case err == nil || errors.Is(err, store.ErrNotFound):
				// Disabled, expired or deleted since: the session ends now.
				if err := h.sessions.End(ctx, sess); err != nil {
					h.logger.Error("end session", "err", err)
				}
				delete(sess.Values, "uid")
			default:
				h.fail(w, r.WithContext(ctx), fmt.Errorf("load signed-in user: %w", err))
				return
			}
		}
		loc := h.catalog.Localizer(h.catalog.Pick(saved, r.Header.Get("Accept-Language")))
		ctx = i18n.WithLocalizer(ctx, loc)
		ctx = withZone(ctx, users.TimeZone(zone))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireLogin sends anonymous visitors to the sign-in page.
func (h *Handlers) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := currentUser(r.Context()); !ok {
			if isHTMX(r) {
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

// requireOwnPassword sends someone who signed in with a one-time password
// to choose their own before anything else.
func (h *Handlers) requireOwnPassword(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := currentUser(r.Context())
		if !u.MustChangePassword || r.URL.Path == "/account" || r.URL.Path == "/account/password" {
			next.ServeHTTP(w, r)
			return
		}
		redirect(w, r, "/account")
	})
}

// require refuses users whose role lacks the permission.
func (h *Handlers) require(p auth.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !principal(r.Context()).Can(p) {
				h.errorPage(w, r, http.StatusForbidden, tr(r.Context(), "error.forbidden"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
