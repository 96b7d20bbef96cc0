package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// jobListLimit is how many jobs the Jobs page lists.
const jobListLimit = 50

func (h *Handlers) jobsPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.jobsView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.JobsPage(h.page(w, r, "jobs.title"), v))
}

func (h *Handlers) jobList(w http.ResponseWriter, r *http.Request) {
	v, err := h.jobsView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.JobList(v))
}

func (h *Handlers) jobsView(r *http.Request) (templates.Jobs, error) {
	ctx := r.Context()
	p := principal(ctx)
	months := jobs.RecentMonths(h.now())
	month := r.URL.Query().Get("month")
	if !contains(months, month) {
		month = months[0]
	}
	v := templates.Jobs{Months: months, BillMonth: month, CanStart: p.Can(auth.RunJobs), AllUsers: p.Can(auth.ManageAllJobs)}
	list, err := h.jobs.List(ctx, actor(r), jobListLimit)
	if err != nil {
		return v, err
	}
	for _, j := range list {
		row := h.jobRow(ctx, j)
		v.AnyActive = v.AnyActive || row.Active()
		v.Rows = append(v.Rows, row)
	}
	st, err := h.jobs.CacheStatus(ctx, month)
	if err != nil {
		return v, err
	}
	v.Directory = templates.CacheStatus{Count: st.Directory.Count, AsOf: formatTime(ctx, st.Directory.Oldest),
		Stale: st.Directory.Count > 0 && st.Directory.Stale, Refreshing: st.Directory.Refreshing}
	v.Bills = templates.CacheStatus{Count: st.Bills.Count, Total: st.Bills.Of, AsOf: formatTime(ctx, st.Bills.Oldest),
		Stale: st.Bills.Count > 0 && st.Bills.Stale, Refreshing: st.Bills.Refreshing}
	return v, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jobTitle names a job in the reader's language, from its kind and scope.
func jobTitle(ctx context.Context, j jobs.JobView) string {
	switch j.Kind {
	case jobs.KindDirectory:
		return tr(ctx, "jobs.title_directory")
	case jobs.KindBills:
		var p struct{ Month string }
		_ = json.Unmarshal(j.Params, &p)
		return tr(ctx, "jobs.title_bills", map[string]any{"Month": p.Month})
	case jobs.KindWrites:
		return tr(ctx, "jobs.title_writes")
	}
	return j.Title
}

// jobRow formats a job with its progress, rate and time left, counted in
// what a person counts (customers, writes).
func (h *Handlers) jobRow(ctx context.Context, j jobs.JobView) templates.JobRow {
	p := principal(ctx)
	row := templates.JobRow{
		ID: j.ID, Title: jobTitle(ctx, j), Kind: j.Kind, Owner: j.Owner, Status: j.Status, Total: j.Progress.Total,
		Done: j.Progress.Done, Failed: j.Failed, Unknown: j.Unknown, Created: formatTime(ctx, j.CreatedAt), Finished: formatTime(ctx, j.FinishedAt),
		Error: j.Error, CanCancel: j.CanCancel, Planning: j.Progress.Planning,
	}
	if j.Status == store.JobCancelled {
		row.Skipped = max(0, j.Total-j.Done-j.Failed-j.Unknown)
		row.CanRest = row.Skipped > 0 && p.Can(auth.RunJobs) && (j.OwnerID == p.UserID || p.Can(auth.ManageAllJobs))
	}
	switch j.Kind {
	case jobs.KindDirectory:
		row.DataHref, row.DataLabelID = "/jobs", "jobs.see_directory"
	case jobs.KindBills:
		var params struct{ Month string }
		_ = json.Unmarshal(j.Params, &params)
		row.DataHref, row.DataLabelID = "/jobs?month="+url.QueryEscape(params.Month), "jobs.see_bills"
	}
	if j.Progress.Rate > 0 {
		row.Rate = strconv.FormatFloat(j.Progress.Rate, 'f', 1, 64)
	}
	if j.Progress.Left > 0 {
		row.ETA = formatLeft(ctx, j.Progress.Left)
	}
	return row
}

// startDirectoryRefresh starts the directory refresh, or shows the one
// already running.
func (h *Handlers) startDirectoryRefresh(w http.ResponseWriter, r *http.Request) {
	job, joined, err := h.jobs.StartDirectoryRefresh(r.Context(), actor(r))
	h.started(w, r, job.ID, joined, err)
}

// startBillsRefresh starts a month's bill summaries for every customer, or
// shows that month's refresh already running.
func (h *Handlers) startBillsRefresh(w http.ResponseWriter, r *http.Request) {
	job, joined, err := h.jobs.StartBillsRefresh(r.Context(), actor(r), r.PostFormValue("month"))
	h.started(w, r, job.ID, joined, err)
}

func (h *Handlers) started(w http.ResponseWriter, r *http.Request, id int64, joined bool, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if joined {
		h.flash(w, r, "info", tr(r.Context(), "jobs.joined"))
	}
	redirect(w, r, fmt.Sprintf("/jobs/%d", id))
}

func jobID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id
}

func (h *Handlers) jobDetail(r *http.Request) (templates.JobDetail, error) {
	ctx := r.Context()
	j, err := h.jobs.Job(ctx, actor(r), jobID(r))
	if err != nil {
		return templates.JobDetail{}, err
	}
	d := templates.JobDetail{Job: h.jobRow(ctx, j.JobView)}
	items := j.Attention
	if j.Items != nil {
		// A writes job lists every write with its outcome.
		items, d.AllItems = j.Items, true
	}
	for _, it := range items {
		row := templates.JobItemRow{Seq: it.Seq, Key: it.Key, Status: it.Status, Code: it.Code, RequestID: it.RequestId}
		if p := itemProblem(ctx, it); p != nil {
			row.Message = p.Message
		}
		if d.AllItems {
			if w, err := jobs.IntentOf(it); err == nil {
				row.Action = translated(ctx, "auditaction."+w.Action, w.Action)
				if w.ApproveType != "" {
					row.Action += " · " + tr(ctx, "jobs.decision_"+w.ApproveType)
				}
				if w.Type != nil {
					row.Action += " · " + tr(ctx, "jobs.forceqn_"+strconv.FormatInt(*w.Type, 10))
				}
			}
		}
		d.Items = append(d.Items, row)
	}
	return d, nil
}

// itemProblem tells in plain words why a job item failed or has no known
// outcome, with the partner API's RequestId; nil when its code says nothing.
func itemProblem(ctx context.Context, it store.JobItem) *templates.APIProblem {
	var msg string
	switch it.Code {
	case "":
		return nil
	case jobs.CodeTransport:
		msg = tr(ctx, "apierror.unreachable")
	case jobs.CodeNotApplied:
		msg = tr(ctx, "jobs.item_not_applied")
	case jobs.CodeSecretsGone:
		msg = tr(ctx, "jobs.item_secrets_gone")
	default:
		// The item's action tells "not allowlisted" from other refusals.
		var payload struct{ Action string }
		_ = json.Unmarshal(it.Payload, &payload)
		p := apiProblem(ctx, &partnerapi.APIError{Action: payload.Action, Code: it.Code})
		p.RequestID = it.RequestId
		return p
	}
	return &templates.APIProblem{Message: msg, RequestID: it.RequestId}
}

func (h *Handlers) jobPage(w http.ResponseWriter, r *http.Request)     { h.renderJob(w, r, true) }
func (h *Handlers) jobProgress(w http.ResponseWriter, r *http.Request) { h.renderJob(w, r, false) }

// renderJob shows a job: the whole page, or only its progress region for
// htmx's polling.
func (h *Handlers) renderJob(w http.ResponseWriter, r *http.Request, full bool) {
	d, err := h.jobDetail(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if full {
		h.render(w, r, http.StatusOK, templates.JobPage(h.page(w, r, "jobs.job_title"), d))
		return
	}
	h.render(w, r, http.StatusOK, templates.JobProgress(d))
}

// runRest starts the items a cancelled job skipped.
func (h *Handlers) runRest(w http.ResponseWriter, r *http.Request) {
	job, joined, err := h.jobs.RunRest(r.Context(), actor(r), jobID(r))
	h.started(w, r, job.ID, joined, err)
}

func (h *Handlers) cancelJob(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := jobID(r)
	if err := h.jobs.Cancel(ctx, actor(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "jobs.cancelled"))
	redirect(w, r, fmt.Sprintf("/jobs/%d", id))
}
