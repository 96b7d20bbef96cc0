package handlers

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"resellerportal/auth"
)

// healthz answers 200 while the database answers.
func (h *Handlers) healthz(w http.ResponseWriter, r *http.Request) {
	if err := h.health(r.Context()); err != nil {
		if r.Context().Err() != nil {
			h.dropped(r) // the prober gave up; the database said nothing
			return
		}
		h.logger.Error("health check", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n")) //nolint:errcheck
}

// metrics serves Prometheus metrics to admins, to a scraper holding the
// metrics token, or to this machine when no proxy stands in front (behind
// a proxy every peer is local, so locality proves nothing there).
func (h *Handlers) metricsPage(w http.ResponseWriter, r *http.Request) {
	if !h.mayScrape(r) {
		h.errorPage(w, r, http.StatusForbidden, tr(r.Context(), "error.forbidden"))
		return
	}
	h.metrics.Handler().ServeHTTP(w, r)
}

func (h *Handlers) mayScrape(r *http.Request) bool {
	if principal(r.Context()).Can(auth.ManageSettings) {
		return true
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && h.token != "" {
		return subtle.ConstantTimeCompare([]byte(bearer), []byte(h.token)) == 1
	}
	if proxied(r.Context()) || len(h.proxies) > 0 {
		return false
	}
	ip := net.ParseIP(clientAddr(r.Context()))
	return ip != nil && ip.IsLoopback()
}
