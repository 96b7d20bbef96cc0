package handlers

import (
	"net/http"

	"resellerportal/auth"
)

// healthz answers 200 while the database answers.
func (h *Handlers) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := h.DB.CountUsers(r.Context()); err != nil {
		h.Logger.Error("health check", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// metrics serves Prometheus metrics to this machine or to admins.
func (h *Handlers) metrics(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r) && !principal(r.Context()).Can(auth.ManageSettings) {
		h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	h.Metrics.Handler().ServeHTTP(w, r)
}
