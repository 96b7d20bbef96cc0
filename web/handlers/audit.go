package handlers

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// auditQuery reads the filter form from the query.
func auditQuery(r *http.Request) (audit.Filter, templates.AuditFilter) {
	q := r.URL.Query()
	f := audit.Filter{From: q.Get("from"), To: q.Get("to"), Actor: q.Get("actor"), Action: q.Get("action"), Customer: q.Get("customer")}
	return f, templates.AuditFilter{From: f.From, To: f.To, Actor: strings.TrimSpace(f.Actor), Action: strings.TrimSpace(f.Action),
		Customer: strings.TrimSpace(f.Customer), Actions: actionOptions()}
}

// actionOptions are the audit filter's choices: every known action, named.
func actionOptions() []templates.Option {
	out := []templates.Option{{Value: "", LabelID: "audit.any_action"}}
	for _, a := range audit.Actions() {
		out = append(out, templates.Option{Value: a, LabelID: "auditaction." + a})
	}
	return out
}

func (h *Handlers) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, form := auditQuery(r)
	v := templates.Audit{Filter: form, CanExport: principal(ctx).Can(auth.Export)}
	filter, err := in.Parse()
	if err != nil {
		v.Filter.Errors = fieldMessages(ctx, err)
		h.render(w, r, http.StatusUnprocessableEntity, templates.AuditPage(h.page(w, r, "audit.title"), v))
		return
	}
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	newer := q.Get("dir") == "newer"
	page, err := h.audit.Read(ctx, actor(r), filter, after, newer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Count, v.Capped = page.Count, page.Capped
	for _, e := range page.Entries {
		v.Rows = append(v.Rows, auditRow(ctx, e))
	}
	q.Del("after")
	q.Del("dir")
	if page.Older != 0 {
		v.NextURL = pageURL(q, page.Older, "")
	}
	if page.Newer != 0 {
		v.PrevURL = pageURL(q, page.Newer, "newer")
	}
	v.CSVURL = "/audit.csv?" + q.Encode()
	h.render(w, r, http.StatusOK, templates.AuditPage(h.page(w, r, "audit.title"), v))
}

// auditEntryPage shows everything one row recorded.
func (h *Handlers) auditEntryPage(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	e, err := h.audit.Entry(r.Context(), actor(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.AuditEntryView{Row: auditRow(r.Context(), e), Hash: e.Hash, PrevHash: e.PrevHash}
	h.render(w, r, http.StatusOK, templates.AuditEntryPage(h.page(w, r, "audit.entry"), v))
}

// pageURL is the audit page continuing from a row, towards older rows or
// (dir "newer") newer ones.
func pageURL(q url.Values, after int64, dir string) string {
	p := url.Values{}
	for k, v := range q {
		p[k] = v
	}
	p.Set("after", strconv.FormatInt(after, 10))
	if dir != "" {
		p.Set("dir", dir)
	}
	return "/audit?" + p.Encode()
}

// translated is a message when the catalogue has it, else fallback.
func translated(ctx context.Context, id, fallback string) string {
	if s := tr(ctx, id); s != id {
		return s
	}
	return fallback
}

// auditRow tells an audit entry in words: the action as a phrase, the
// parameters as labelled values, a role only when there is one.
func auditRow(ctx context.Context, e store.AuditEntry) templates.AuditRow {
	row := templates.AuditRow{
		ID: e.ID, Time: formatTimeSeconds(ctx, e.Time), Actor: e.Actor, OnBehalfOf: formatUin(e.OnBehalfOf),
		Action: translated(ctx, "auditaction."+e.Action, e.Action), ActionCode: e.Action, Customer: formatUin(e.TargetUin),
		Outcome: e.Outcome, Code: e.Code, RequestID: e.RequestId, ClientAddr: e.ClientAddr,
	}
	if e.ActorRole != "" {
		row.Role = translated(ctx, "role."+e.ActorRole, e.ActorRole)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		row.Details = append(row.Details, templates.AuditDetail{
			Label: translated(ctx, "auditparam."+k, k),
			Value: auditValue(ctx, k, e.Params[k]),
		})
	}
	return row
}

// auditValue shows a recorded value in words where it is a code.
func auditValue(ctx context.Context, key, value string) string {
	switch key {
	case "role":
		return translated(ctx, "role."+value, value)
	case "kind":
		return translated(ctx, "auditkind."+value, value)
	case "target", "from":
		return translated(ctx, "audittarget."+value, value)
	case "phase":
		return translated(ctx, "auditphase."+value, value)
	case "action":
		return translated(ctx, "auditaction."+value, value)
	}
	return value
}

// auditCSV downloads exactly the rows the page's filters select; the
// export itself is audited with those filters.
func (h *Handlers) auditCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, form := auditQuery(r)
	filter, err := in.Parse()
	if err != nil {
		for _, msg := range fieldMessages(ctx, err) {
			h.errorPage(w, r, http.StatusBadRequest, msg)
			return
		}
	}
	name := fmt.Sprintf("audit-%s-%s-utc.csv", orAll(form.From), orAll(form.To))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(name))
	if _, err := h.audit.Export(ctx, actor(r), filter, w); err != nil {
		if ctx.Err() != nil {
			h.dropped(r) // the download was abandoned; its audit row says so
			return
		}
		// Headers may be out already; the log has the reason.
		h.logger.Error("export audit log", "err", err)
	}
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// formatUin shows a UIN, or nothing for none.
func formatUin(uin uint64) string {
	if uin == 0 {
		return ""
	}
	return strconv.FormatUint(uin, 10)
}
