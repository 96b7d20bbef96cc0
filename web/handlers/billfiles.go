package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/billfiles"
	"resellerportal/partnerapi"
	"resellerportal/web/templates"
)

// BillFileService is what the bill and commission file pages need.
type BillFileService interface {
	RequestBill(ctx context.Context, actor audit.Actor, in billfiles.Request) (billfiles.File, error)
	RequestCommission(ctx context.Context, actor audit.Actor, month string) (billfiles.File, error)
	RequestOwn(ctx context.Context, actor audit.Actor, uin uint64, month, fileType string) (billfiles.File, error)
	Check(ctx context.Context, actor audit.Actor, id, kind string) (billfiles.File, error)
	Mine(actor audit.Actor, kind string) []billfiles.File
}

// fileHref is a request's own page.
func fileHref(f billfiles.File) string {
	if f.Kind == billfiles.KindCommission {
		return "/commission/files/" + f.ID
	}
	return "/bills/files/" + f.ID
}

// fileView turns a request into what the page shows.
func fileView(ctx context.Context, f billfiles.File) templates.FileView {
	v := templates.FileView{ID: f.ID, State: f.State, URL: f.URL, Href: fileHref(f), Requested: formatTimeSeconds(ctx, f.Requested)}
	if f.State == billfiles.Ready {
		v.Expires = formatTime(ctx, f.Expires)
	}
	if f.Err != nil {
		v.Problem = apiProblem(ctx, f.Err)
	}
	if f.Kind == billfiles.KindCommission {
		v.What = tr(ctx, "commission.file_what", map[string]any{"Month": f.Month})
		v.RequestHref = "/commission?" + url.Values{"month": {f.Month}}.Encode() + "#commission-file-heading"
		return v
	}
	if f.Kind == billfiles.KindOwn {
		v.What = tr(ctx, "billfiles.what_own", map[string]any{"Month": f.Month, "Type": tr(ctx, "billfiles.type_"+f.FileType), "Uin": f.Uin})
		v.RequestHref = "/customers/" + strconv.FormatUint(f.Uin, 10) + "/own?" + url.Values{"month": {f.Month}}.Encode()
		return v
	}
	data := map[string]any{"Month": f.Month, "Type": tr(ctx, "billfiles.type_"+f.FileType), "Uin": f.Uin,
		"Scope": tr(ctx, "billfiles.scope_"+f.UinType)}
	if billfiles.IsPack(f.FileType) {
		v.What = tr(ctx, "billfiles.what_pack", data)
	} else {
		v.What = tr(ctx, "billfiles.what", data)
	}
	q := url.Values{"month": {f.Month}, "type": {f.FileType}, "language": {f.Language}}
	if f.Uin != 0 {
		q.Set("uin", strconv.FormatUint(f.Uin, 10))
	}
	v.RequestHref = "/bills/files?" + q.Encode()
	return v
}

func fileViews(ctx context.Context, files []billfiles.File) []templates.FileView {
	out := make([]templates.FileView, 0, len(files))
	for _, f := range files {
		out = append(out, fileView(ctx, f))
	}
	return out
}

// billFilesPage is the request form, prefilled from the query (uin, month
// YYYY-MM, type, language: a customer's month links here), and the
// person's requests.
func (h *Handlers) billFilesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	form := templates.BillFileForm{Customer: q.Get("uin"), Month: q.Get("month"), FileType: q.Get("type"), Language: q.Get("language")}
	if form.Month == "" {
		form.Month = h.now().UTC().Format("2006-01")
	}
	if form.Language == "" && apiLanguage(r.Context()) == "zh-CN" {
		form.Language = "zh_cn"
	}
	h.renderBillFiles(w, r, http.StatusOK, form)
}

func (h *Handlers) renderBillFiles(w http.ResponseWriter, r *http.Request, status int, form templates.BillFileForm) {
	ctx := r.Context()
	a := actor(r)
	// Bounded like every input: longer text is no UIN or month anyway.
	for _, s := range []*string{&form.Customer, &form.Month, &form.FileType, &form.Language, &form.Scope} {
		if len(*s) > 32 {
			*s = (*s)[:32]
		}
	}
	form.ShowScope = a.OnBehalfOf() == 0
	if msg, ok := form.Errors["scope"]; ok && !form.ShowScope {
		// The field is not shown: its problem is the form's.
		form.Errors[""] = msg
	}
	b := templates.BillFiles{Form: form, Files: fileViews(ctx, h.billfiles.Mine(a, billfiles.KindBill))}
	h.render(w, r, status, templates.BillFilesPage(h.page(w, r, "billfiles.title"), b))
}

// requestBillFile asks for a file and sends the person to its page
// (post/redirect/get); a refused form comes back with its problems.
func (h *Handlers) requestBillFile(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	in := billfiles.Request{Customer: r.PostFormValue("customer"), Month: r.PostFormValue("month"), FileType: r.PostFormValue("type"),
		Language: r.PostFormValue("language"), Scope: r.PostFormValue("scope")}
	f, err := h.billfiles.RequestBill(ctx, actor(r), in)
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ := problemOf(ctx, err)
		h.renderBillFiles(w, r, status, templates.BillFileForm{Customer: in.Customer, Month: in.Month, FileType: in.FileType,
			Language: in.Language, Scope: in.Scope, Errors: fieldMessages(ctx, err)})
		return
	}
	redirect(w, r, fileHref(f))
}

func (h *Handlers) billFilePage(w http.ResponseWriter, r *http.Request) {
	h.filePage(w, r, billfiles.KindBill, "billfiles.file_title", "/bills/files", "billfiles.back")
}

func (h *Handlers) commissionFilePage(w http.ResponseWriter, r *http.Request) {
	h.filePage(w, r, billfiles.KindCommission, "commission.file_title", "/commission", "commission.back")
}

// filePage shows where a request stands, asking the API again while the
// file is generated; htmx's polling gets the state region alone.
func (h *Handlers) filePage(w http.ResponseWriter, r *http.Request, kind, titleID, back, backID string) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	f, err := h.billfiles.Check(ctx, actor(r), chi.URLParam(r, "id"), kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := fileView(ctx, f)
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.FileState(v))
		return
	}
	h.render(w, r, http.StatusOK, templates.FilePage(h.page(w, r, titleID), back, backID, v))
}

// requestCommissionFile asks for the commission file of a month.
func (h *Handlers) requestCommissionFile(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	month := r.PostFormValue("month")
	f, err := h.billfiles.RequestCommission(ctx, actor(r), month)
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		status, _, _ := problemOf(ctx, err)
		if len(month) > 32 {
			month = month[:32]
		}
		h.renderCommission(w, r, status, month, fieldMessages(ctx, err))
		return
	}
	redirect(w, r, fileHref(f))
}

// requestOwnFile asks, with the customer's own key, for its bill file of
// the month its own view shows, and sends the person to the request's
// page; a refused month or type is told on that view.
func (h *Handlers) requestOwnFile(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	month, fileType := r.PostFormValue("month"), r.PostFormValue("type")
	f, err := h.billfiles.RequestOwn(ctx, actor(r), uin, month, fileType)
	if err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			h.fail(w, r, err)
			return
		}
		h.flash(w, r, "error", joinMessages(fieldMessages(ctx, err)))
		redirect(w, r, "/customers/"+strconv.FormatUint(uin, 10)+"/own")
		return
	}
	redirect(w, r, fileHref(f))
}

// joinMessages puts a form's messages in one sentence each, for a flash.
func joinMessages(m map[string]string) string {
	var out string
	for _, k := range []string{"", "month", "type"} {
		if msg, ok := m[k]; ok {
			if out != "" {
				out += " "
			}
			out += msg
		}
	}
	return out
}
