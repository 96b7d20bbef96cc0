package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/credit"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// BulkService is what the bulk allocation pages need.
type BulkService interface {
	PrepareBulk(ctx context.Context, actor audit.Actor, key, source string, lines []credit.BulkLine) (credit.Batch, error)
	Batch(ctx context.Context, actor audit.Actor, id int64) (credit.Batch, error)
	ConfirmBulk(ctx context.Context, actor audit.Actor, id int64) (credit.Batch, error)
	BulkResult(ctx context.Context, actor audit.Actor, id int64, format string, w io.Writer) error
}

// bulkUploadBytes bounds the upload's body: the file and the form around it.
const bulkUploadBytes = credit.MaxBulkBytes + 64<<10

// bulkPage asks for a bulk allocation's lines.
func (h *Handlers) bulkPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, templates.BulkUploadPage(h.page(w, r, "credit.bulk_title"),
		templates.BulkUpload{Key: credit.NewKey(), MaxLines: credit.MaxBulkLines}))
}

// uploadBulk reads the lines, from a file or pasted, checks them and shows
// the preview on its own page (post/redirect/get).
func (h *Handlers) uploadBulk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var lines []credit.BulkLine
	var err error
	text := ""
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if perr := r.ParseMultipartForm(bulkUploadBytes); perr != nil {
			var tooBig *http.MaxBytesError
			if errors.As(perr, &tooBig) {
				// The body was cut: nothing of the form can be trusted.
				h.fail(w, r, apperr.InvalidField("file", "credit.bulk_too_big").With(map[string]any{"Max": credit.MaxBulkLines}))
				return
			}
			h.fail(w, r, apperr.InvalidField("file", "credit.bulk_not_csv").Because(perr))
			return
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	}
	text = r.FormValue("text")
	file, _, ferr := r.FormFile("file")
	switch {
	case ferr == nil:
		defer file.Close()
		lines, err = credit.ReadBulkFile(file)
	case strings.TrimSpace(text) != "":
		lines, err = credit.ReadBulkFile(strings.NewReader(text))
	default:
		err = apperr.InvalidField("file", "credit.bulk_empty")
	}
	if err == nil {
		var b credit.Batch
		if b, err = h.bulk.PrepareBulk(ctx, actor(r), r.FormValue("key"), store.BatchFromFile, lines); err == nil {
			redirect(w, r, "/credit/bulk/"+strconv.FormatInt(b.ID, 10))
			return
		}
	}
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid {
		h.fail(w, r, err)
		return
	}
	u := templates.BulkUpload{Key: credit.NewKey(), Text: text, Errors: fieldMessages(ctx, err), MaxLines: credit.MaxBulkLines}
	if m, ok := u.Errors["key"]; ok {
		u.Errors[""] = m
	}
	status, _, _ := problemOf(ctx, err)
	h.render(w, r, status, templates.BulkUploadPage(h.page(w, r, "credit.bulk_title"), u))
}

// selectBulk makes a bulk allocation of one amount for the customers
// chosen in the credit list.
func (h *Handlers) selectBulk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lines, err := credit.SelectionLines(r.PostForm["uin"], r.PostFormValue("amount"), r.PostFormValue("remark"))
	if err == nil {
		var b credit.Batch
		if b, err = h.bulk.PrepareBulk(ctx, actor(r), r.PostFormValue("key"), store.BatchFromSelection, lines); err == nil {
			redirect(w, r, "/credit/bulk/"+strconv.FormatInt(b.ID, 10))
			return
		}
	}
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		_, msg, _ := problemOf(ctx, err)
		h.flash(w, r, "error", msg)
		redirect(w, r, "/credit")
		return
	}
	h.fail(w, r, err)
}

func batchID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

// lineStateIDs name a sent line's state.
var lineStateIDs = ledgerStateIDs

// bulkView is a batch as its page shows it.
func (h *Handlers) bulkView(ctx context.Context, a audit.Actor, b credit.Batch) templates.BulkView {
	id := strconv.FormatInt(b.ID, 10)
	v := templates.BulkView{ID: id, Count: len(b.Lines), Problems: b.Problems, Added: usd(b.Added), TakenBack: usd(b.TakenBack),
		OverAllocable: b.OverAllocable, CanConfirm: b.Confirmable() && b.UserID == a.UserID, Sent: b.JobID != 0,
		ResultCSV: "/credit/bulk/" + id + "/result.csv", ResultXLSX: "/credit/bulk/" + id + "/result.xlsx", NewHref: "/credit/bulk"}
	if b.AllocableKnown {
		v.Allocable = usd(b.Allocable)
	}
	if b.Approval != 0 {
		v.Held = strconv.FormatInt(b.Approval, 10)
	}
	for _, l := range b.Lines {
		row := templates.BulkLineRow{Line: strconv.Itoa(l.Line), Uin: l.Uin, Name: l.Name, Amount: l.Amount, Remark: l.Remark,
			Remaining: decimalUSD(l.Remaining), ProblemID: l.Problem}
		if d, err := decimal.NewFromString(l.Amount); err == nil {
			row.Amount = signedUSD(d)
		}
		if o, ok := b.Outcomes[l.Line]; ok {
			row.State, row.StateID, row.CreditAfter, row.RequestID = o.State, lineStateIDs[o.State], decimalUSD(o.CreditAfter), o.RequestId
			switch o.State {
			case credit.AllocationOK:
				v.Done++
			case credit.AllocationFailed:
				v.Failed++
				if o.Code != "" {
					row.Problem = apiProblem(ctx, &partnerapi.APIError{Action: partnerapi.ActionAllocateCustomerCredit, Code: o.Code, RequestId: o.RequestId})
				}
			default:
				v.Open++
			}
		}
		v.Lines = append(v.Lines, row)
	}
	if b.JobID != 0 {
		v.JobID = strconv.FormatInt(b.JobID, 10)
		if j, err := h.jobs.Job(ctx, a, b.JobID); err == nil {
			jr := h.jobRow(ctx, j.JobView)
			v.Progress = &jr
			v.Running = j.Job.Status == store.JobQueued || j.Job.Status == store.JobRunning
		}
	}
	return v
}

// batchPage shows a bulk allocation: its preview, or its progress and each
// line's outcome (the fragment htmx polls while it runs).
func (h *Handlers) batchPage(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	id, ok := batchID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	b, err := h.bulk.Batch(ctx, a, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := h.bulkView(ctx, a, b)
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.BulkResults(v))
		return
	}
	h.render(w, r, http.StatusOK, templates.BulkPage(h.page(w, r, "credit.bulk_title"), v))
}

// confirmBulk sends a checked batch as one writes job.
func (h *Handlers) confirmBulk(w http.ResponseWriter, r *http.Request) {
	id, ok := batchID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.bulk.ConfirmBulk(r.Context(), actor(r), id); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Conflict {
			_, msg, _ := problemOf(r.Context(), err)
			h.flash(w, r, "error", msg)
			redirect(w, r, "/credit/bulk/"+strconv.FormatInt(id, 10))
			return
		}
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/credit/bulk/"+strconv.FormatInt(id, 10))
}

// bulkResult sends a batch's lines with their outcomes as a file.
func (h *Handlers) bulkResult(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := batchID(r)
		if !ok {
			h.notFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := h.bulk.BulkResult(r.Context(), actor(r), id, format, &buf); err != nil {
			h.fail(w, r, err)
			return
		}
		sendFile(w, fmt.Sprintf("bulk-allocation-%d", id), format, buf.Bytes())
	}
}
