package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"resellerportal/auth"
	"resellerportal/store"
	"resellerportal/web/templates"
)

const auditPageSize = 50

// auditFilter reads the filter form from the query; dates are whole UTC days.
func (h *Handlers) auditFilter(r *http.Request) (templates.AuditFilter, store.AuditFilter, string) {
	q := r.URL.Query()
	f := templates.AuditFilter{From: q.Get("from"), To: q.Get("to"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Customer: strings.TrimSpace(q.Get("customer"))}
	sf := store.AuditFilter{Actor: f.Actor, Action: f.Action}
	if f.From != "" {
		t, err := time.Parse(time.DateOnly, f.From)
		if err != nil {
			return f, sf, "audit.bad_date"
		}
		sf.From = t
	}
	if f.To != "" {
		t, err := time.Parse(time.DateOnly, f.To)
		if err != nil {
			return f, sf, "audit.bad_date"
		}
		sf.To = t.Add(24 * time.Hour)
	}
	if f.Customer != "" {
		uin, err := strconv.ParseUint(f.Customer, 10, 64)
		if err != nil {
			return f, sf, "audit.bad_uin"
		}
		sf.TargetUin = uin
	}
	return f, sf, ""
}

func (h *Handlers) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, filter, problem := h.auditFilter(r)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	v := templates.Audit{Filter: form, Page: page, CanExport: principal(ctx).Can(auth.Export)}
	status := http.StatusOK
	if problem != "" {
		v.Filter.Error = tr(ctx, problem)
		status = http.StatusUnprocessableEntity
	} else {
		filter.Limit, filter.Offset = auditPageSize, (page-1)*auditPageSize
		entries, total, err := h.DB.QueryAudit(ctx, filter)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Total = total
		v.Pages = max(1, (total+auditPageSize-1)/auditPageSize)
		for _, e := range entries {
			v.Rows = append(v.Rows, auditRow(e))
		}
		q := r.URL.Query()
		if page > 1 {
			q.Set("page", strconv.Itoa(page-1))
			v.PrevURL = "/audit?" + q.Encode()
		}
		if page < v.Pages {
			q.Set("page", strconv.Itoa(page+1))
			v.NextURL = "/audit?" + q.Encode()
		}
		q.Del("page")
		v.CSVURL = "/audit.csv?" + q.Encode()
	}
	h.render(w, r, status, templates.AuditPage(h.page(w, r, "audit.title"), v))
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

// auditCSV downloads the audit log between two dates for finance; the
// export itself is audited.
func (h *Handlers) auditCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, filter, problem := h.auditFilter(r)
	if problem != "" {
		h.errorPage(w, r, http.StatusBadRequest, problem)
		return
	}
	name := fmt.Sprintf("audit-%s-%s.csv", orDash(form.From), orDash(form.To))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(name))
	n, err := h.DB.ExportAuditCSV(ctx, w, filter.From, filter.To)
	if err != nil {
		// Headers may be out already; the log has the reason.
		h.Logger.Error("export audit log", "err", err)
		return
	}
	h.audit(ctx, auditEntry(r, "audit.export", 0, map[string]string{"from": form.From, "to": form.To, "rows": strconv.Itoa(n)}))
}

func orDash(s string) string {
	if s == "" {
		return "all"
	}
	return s
}
