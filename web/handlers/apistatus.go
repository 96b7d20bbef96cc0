package handlers

import (
	"net/http"
	"strconv"

	"resellerportal/web/templates"
)

func (h *Handlers) apiStatusView() templates.APIStatus {
	v := templates.APIStatus{Endpoint: h.Endpoint, Sandbox: h.Sandbox, AsOf: formatTime(h.Now())}
	if h.Limiters == nil {
		return v
	}
	for _, s := range h.Limiters.States() {
		v.Rows = append(v.Rows, templates.LimiterRow{
			Credential: s.Credential, Action: s.Action, Limit: strconv.FormatFloat(s.PerSecond, 'f', -1, 64) + "/s",
			InUse: s.InUse, Interactive: s.Interactive, Background: s.Background,
			CallsLastHour: s.CallsLastHour, ErrorsLastHour: s.ErrorsLastHour,
		})
	}
	return v
}

func (h *Handlers) apiStatusPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, templates.APIStatusPage(h.page(w, r, "apistatus.title"), h.apiStatusView()))
}

func (h *Handlers) apiStatusTable(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, templates.APIStatusTable(h.apiStatusView()))
}
