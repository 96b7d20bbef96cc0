package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

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
		Customer: strings.TrimSpace(f.Customer)}
}

func (h *Handlers) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, form := auditQuery(r)
	v := templates.Audit{Filter: form, CanExport: principal(ctx).Can(auth.Export)}
	filter, err := in.Parse()
	if err != nil {
		for _, msg := range fieldMessages(ctx, err) {
			v.Filter.Error = msg
		}
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
		v.Rows = append(v.Rows, auditRow(e))
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

func auditRow(e store.AuditEntry) templates.AuditRow {
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var params []string
	for _, k := range keys {
		params = append(params, k+"="+e.Params[k])
	}
	return templates.AuditRow{
		ID: e.ID, Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: e.Actor, Role: e.ActorRole,
		OnBehalfOf: formatUin(e.OnBehalfOf), Action: e.Action, Target: formatUin(e.TargetUin),
		Params: strings.Join(params, ", "), Outcome: e.Outcome, Code: e.Code, RequestID: e.RequestId, ClientAddr: e.ClientAddr,
	}
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
