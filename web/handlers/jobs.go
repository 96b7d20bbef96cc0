package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// JobRunner starts and cancels background jobs.
type JobRunner interface {
	Submit(ctx context.Context, kind string, owner store.User, title string, params any, items []jobs.Item) (store.Job, error)
	Cancel(ctx context.Context, id int64) error
}

// Staleness of cached data: past the age, pages say so and offer a refresh.
const (
	directoryStaleAfter  = 15 * time.Minute
	billsStaleAfter      = time.Hour      // the current month's bills change all the time
	pastBillsStaleAfter  = 24 * time.Hour // a past month's bills settle
	jobListLimit         = 50
	attentionItemsToShow = 100
)

func (h *Handlers) jobsPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.jobsView(r, r.URL.Query().Get("month"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.JobsPage(h.page(w, r, "jobs.title"), v))
}

func (h *Handlers) jobList(w http.ResponseWriter, r *http.Request) {
	v, err := h.jobsView(r, r.URL.Query().Get("month"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.JobList(v))
}

// recentMonths lists the current month and the eleven before it, newest first.
func recentMonths(now time.Time) []string {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, 12)
	for i := range out {
		out[i] = first.AddDate(0, -i, 0).Format("2006-01")
	}
	return out
}

func (h *Handlers) jobsView(r *http.Request, month string) (templates.Jobs, error) {
	ctx := r.Context()
	p := principal(ctx)
	now := h.Now()
	months := recentMonths(now)
	if month == "" || !contains(months, month) {
		month = months[0]
	}
	v := templates.Jobs{Months: months, BillMonth: month, CanStart: p.Can(auth.RunJobs), AllUsers: p.Can(auth.ManageAllJobs)}
	filter := store.JobFilter{Limit: jobListLimit}
	if !v.AllUsers {
		filter.OwnerID = p.UserID
	}
	list, _, err := h.DB.ListJobs(ctx, filter)
	if err != nil {
		return v, err
	}
	for _, j := range list {
		row := h.jobRow(ctx, j)
		v.AnyActive = v.AnyActive || row.Active()
		v.Rows = append(v.Rows, row)
	}
	oldest, n, err := h.DB.CacheOldest(ctx, jobs.CacheCustomer)
	if err != nil {
		return v, err
	}
	v.Directory = templates.CacheStatus{Count: n, AsOf: formatTime(oldest), Stale: n > 0 && now.Sub(oldest) > directoryStaleAfter}
	_, total, err := h.DB.CacheList(ctx, jobs.CacheBillSummary, month+"/", 1, 0)
	if err != nil {
		return v, err
	}
	v.Bills = templates.CacheStatus{Count: total, Total: n}
	if total > 0 {
		stale := billsStaleAfter
		if month != months[0] {
			stale = pastBillsStaleAfter
		}
		oldestBill, err := h.oldestWithPrefix(ctx, jobs.CacheBillSummary, month+"/")
		if err != nil {
			return v, err
		}
		v.Bills.AsOf, v.Bills.Stale = formatTime(oldestBill), now.Sub(oldestBill) > stale
	}
	return v, nil
}

// oldestWithPrefix finds the oldest fetch time among a kind's keys with a prefix.
func (h *Handlers) oldestWithPrefix(ctx context.Context, kind, prefix string) (time.Time, error) {
	var oldest time.Time
	err := h.eachCached(ctx, kind, prefix, func(e store.CacheEntry) {
		if oldest.IsZero() || e.FetchedAt.Before(oldest) {
			oldest = e.FetchedAt
		}
	})
	return oldest, err
}

// eachCached calls fn for every cached entry of a kind whose key has the
// prefix, a thousand rows at a time.
func (h *Handlers) eachCached(ctx context.Context, kind, prefix string, fn func(store.CacheEntry)) error {
	for offset := 0; ; offset += 1000 {
		list, total, err := h.DB.CacheList(ctx, kind, prefix, 1000, offset)
		if err != nil {
			return err
		}
		for _, e := range list {
			fn(e)
		}
		if offset+len(list) >= total || len(list) == 0 {
			return nil
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jobRow formats a job with its rate and time left, computed from how many
// items finished since it started.
func (h *Handlers) jobRow(ctx context.Context, j store.Job) templates.JobRow {
	p := principal(ctx)
	row := templates.JobRow{
		ID: j.ID, Title: j.Title, Kind: j.Kind, Owner: j.Owner, Status: j.Status, Total: j.Total,
		Done: j.Done, Failed: j.Failed, Unknown: j.Unknown, Created: formatTime(j.CreatedAt), Finished: formatTime(j.FinishedAt),
		Error: j.Error, CanCancel: j.OwnerID == p.UserID || p.Can(auth.ManageAllJobs),
	}
	finished := j.Done + j.Failed + j.Unknown
	if j.Status == store.JobRunning && !j.StartedAt.IsZero() && finished > 0 {
		elapsed := h.Now().Sub(j.StartedAt).Seconds()
		if elapsed > 0 {
			rate := float64(finished) / elapsed
			row.Rate = strconv.FormatFloat(rate, 'f', 2, 64)
			left := time.Duration(float64(j.Total-finished) / rate * float64(time.Second))
			row.ETA = left.Round(time.Second).String()
		}
	}
	return row
}

// startDirectoryRefresh counts the directory's pages and starts the job.
func (h *Handlers) startDirectoryRefresh(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	client, err := h.Partner.Distributor(ctx)
	var items []jobs.Item
	if err == nil {
		items, err = jobs.PlanDirectory(ctx, client)
	}
	if err != nil {
		h.flash(w, r, "error", apiProblemText(ctx, err))
		redirect(w, r, "/jobs")
		return
	}
	h.submit(w, r, "directory.refresh", tr(ctx, "jobs.title_directory"), nil, items)
}

// startBillsRefresh starts a month's bill summaries for every customer in
// the directory, reading the customer list first when the directory is empty.
func (h *Handlers) startBillsRefresh(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	month := r.PostFormValue("month")
	if !contains(recentMonths(h.Now()), month) {
		h.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	uins, err := h.customerUins(ctx)
	if err != nil {
		h.flash(w, r, "error", apiProblemText(ctx, err))
		redirect(w, r, "/jobs")
		return
	}
	title := tr(ctx, "jobs.title_bills", map[string]any{"Month": month})
	h.submit(w, r, "bills.refresh", title, map[string]string{"Month": month}, jobs.PlanBills(month, uins))
}

func (h *Handlers) submit(w http.ResponseWriter, r *http.Request, kind, title string, params any, items []jobs.Item) {
	u, _ := currentUser(r.Context())
	job, err := h.Jobs.Submit(r.Context(), kind, u, title, params, items)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/jobs/%d", job.ID))
}

// customerUins lists the distributor's customers: from the directory cache
// when it has them, else from the partner API.
func (h *Handlers) customerUins(ctx context.Context) ([]uint64, error) {
	var uins []uint64
	err := h.eachCached(ctx, jobs.CacheCustomer, "", func(e store.CacheEntry) {
		if uin, err := strconv.ParseUint(e.Key, 10, 64); err == nil {
			uins = append(uins, uin)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(uins) > 0 {
		return uins, nil
	}
	client, err := h.Partner.Distributor(ctx)
	if err != nil {
		return nil, err
	}
	for c, err := range client.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{}) {
		if err != nil {
			return nil, err
		}
		uins = append(uins, c.ClientUin)
	}
	return uins, nil
}

func (h *Handlers) jobFromURL(r *http.Request) (store.Job, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return store.Job{}, store.ErrNotFound
	}
	j, err := h.DB.JobByID(r.Context(), id)
	if err != nil {
		return j, err
	}
	// People see their own jobs; admins see everyone's.
	p := principal(r.Context())
	if j.OwnerID != p.UserID && !p.Can(auth.ManageAllJobs) {
		return store.Job{}, fmt.Errorf("job %d: %w", id, store.ErrNotFound)
	}
	return j, nil
}

func (h *Handlers) jobDetail(r *http.Request, j store.Job) (templates.JobDetail, error) {
	d := templates.JobDetail{Job: h.jobRow(r.Context(), j)}
	items, err := h.DB.JobItems(r.Context(), j.ID, []string{store.ItemFailed, store.ItemUnknown}, attentionItemsToShow)
	if err != nil {
		return d, err
	}
	for _, it := range items {
		row := templates.JobItemRow{Seq: it.Seq, Key: it.Key, Status: it.Status, Code: it.Code, RequestID: it.RequestId}
		if it.Code != "" && it.Code != "transport" {
			row.Message = apiProblemText(r.Context(), &partnerapi.APIError{Code: it.Code})
		} else if it.Code == "transport" {
			row.Message = tr(r.Context(), "apierror.unreachable")
		}
		d.Items = append(d.Items, row)
	}
	return d, nil
}

func (h *Handlers) jobPage(w http.ResponseWriter, r *http.Request)     { h.renderJob(w, r, true) }
func (h *Handlers) jobProgress(w http.ResponseWriter, r *http.Request) { h.renderJob(w, r, false) }

// renderJob shows a job: the whole page, or only its progress region for
// htmx's polling.
func (h *Handlers) renderJob(w http.ResponseWriter, r *http.Request, full bool) {
	j, err := h.jobFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.jobDetail(r, j)
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

func (h *Handlers) cancelJob(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	j, err := h.jobFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Jobs.Cancel(ctx, j.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(ctx, auditEntry(r, "job.cancel", 0, map[string]string{"job": strconv.FormatInt(j.ID, 10), "kind": j.Kind}))
	h.flash(w, r, "ok", tr(ctx, "jobs.cancelled"))
	redirect(w, r, fmt.Sprintf("/jobs/%d", j.ID))
}
