package handlers

import (
	"net/http"
	"strconv"

	"resellerportal/keyring"
	"resellerportal/web/templates"
)

// apiStatusView lists every action's budget for each credential in use,
// idle ones included, so an admin sees the whole budget.
func (h *Handlers) apiStatusView(r *http.Request) (templates.APIStatus, error) {
	v := templates.APIStatus{Endpoint: h.keys.Host(), Sandbox: h.keys.Target() == keyring.Sandbox, AsOf: formatTimeSeconds(r.Context(), h.now())}
	ids, err := h.keys.InUse(r.Context())
	if err != nil {
		return v, err
	}
	for _, s := range h.limiters.StatesFor(ids) {
		v.Rows = append(v.Rows, templates.LimiterRow{
			Credential: s.Credential, Action: s.Action, Limit: strconv.FormatFloat(s.PerSecond, 'f', -1, 64) + "/s",
			InUse: s.InUse, Interactive: s.Interactive, Background: s.Background,
			CallsLastHour: s.CallsLastHour, ErrorsLastHour: s.ErrorsLastHour,
		})
	}
	return v, nil
}

func (h *Handlers) apiStatusPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.apiStatusView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.APIStatusPage(h.page(w, r, "apistatus.title"), v))
}

func (h *Handlers) apiStatusTable(w http.ResponseWriter, r *http.Request) {
	v, err := h.apiStatusView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.APIStatusTable(v))
}
