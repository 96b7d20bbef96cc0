package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/applications"
	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

// ApplicationService is what the applications page needs.
type ApplicationService interface {
	Pending(ctx context.Context, actor audit.Actor, mode apicache.Mode) (applications.Pending, error)
	Decide(ctx context.Context, actor audit.Actor, d applications.Decision) (jobs.Outcome, error)
	Decision(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
	CheckAgain(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
}

// pageProblem is a decision's refusal to show on the applications page:
// beside the row it was about, or above its list.
type pageProblem struct {
	kind, uin string
	bulk      bool
	reason    string // as typed, kept in the form
	errs      map[string]string
}

// applicationsPage shows the pending applications; ?refresh=1 reads them
// again, ?decision=N shows the outcome of the viewer's decision N.
func (h *Handlers) applicationsPage(w http.ResponseWriter, r *http.Request) {
	h.renderApplications(w, r, http.StatusOK, nil)
}

func (h *Handlers) renderApplications(w http.ResponseWriter, r *http.Request, status int, problem *pageProblem) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	mode := apicache.Fresh
	if r.URL.Query().Get("refresh") != "" {
		mode = apicache.Refresh
	}
	p, err := h.applications.Pending(ctx, actor(r), mode)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := h.applicationsView(ctx, p, problem)
	if id, err := strconv.ParseInt(r.URL.Query().Get("decision"), 10, 64); err == nil && id > 0 && problem == nil {
		// Someone else's job, or not a decision, shows nothing.
		if out, err := h.applications.Decision(ctx, actor(r), id); err == nil {
			v.Decision = decisionView(ctx, out)
		}
	}
	h.render(w, r, status, templates.ApplicationsPage(h.page(w, r, "applications.title"), v))
}

// applicationsView shapes the pending lists for the page.
func (h *Handlers) applicationsView(ctx context.Context, p applications.Pending, problem *pageProblem) templates.Applications {
	v := templates.Applications{ActingAs: formatUin(p.ActingAs)}
	var oldest time.Time
	seen := func(f apicache.Figure[[]applications.Applicant]) {
		v.Loading = v.Loading || f.Pending
		if !f.FetchedAt.IsZero() && (oldest.IsZero() || f.FetchedAt.Before(oldest)) {
			oldest = f.FetchedAt
		}
	}
	v.Customers = applicationList(ctx, applications.Customer, p.Customers, p.DecideCustomers, problem)
	seen(p.Customers)
	if p.ShowResellers {
		l := applicationList(ctx, applications.Reseller, p.Resellers, p.DecideResellers, problem)
		v.Resellers = &l
		seen(p.Resellers)
	}
	if problem != nil && problem.kind != applications.Customer && (problem.kind != applications.Reseller || !p.ShowResellers) {
		// About no list on the page (a kind the viewer may not decide, or
		// none at all): said above the lists.
		v.Refused = firstMessage(problem.errs)
	}
	if !oldest.IsZero() {
		v.AsOf = formatTimeSeconds(ctx, oldest)
		v.Age = formatAge(ctx, p.Now.Sub(oldest))
	}
	return v
}

// applicationList shapes one list, with a refused decision's problem
// beside its row (or above the list when no row is its).
func applicationList(ctx context.Context, kind string, f apicache.Figure[[]applications.Applicant], canDecide bool, problem *pageProblem) templates.ApplicationList {
	l := templates.ApplicationList{Kind: kind, CanDecide: canDecide, MaxBulk: applications.MaxBulk, Loading: f.Pending && f.Value == nil,
		Problem: listProblem(ctx, f.Err)}
	mine := problem != nil && problem.kind == kind
	if mine && problem.bulk {
		l.Bulk = templates.BulkForm{Reason: problem.reason, Errors: problem.errs}
	}
	placed := !mine || problem.bulk
	if f.Value != nil {
		for _, a := range *f.Value {
			row := applicantRow(ctx, a, canDecide)
			if mine && !problem.bulk && row.Uin == problem.uin {
				row.Errors, row.Reason, placed = problem.errs, problem.reason, true
			}
			l.Rows = append(l.Rows, row)
		}
	}
	if !placed {
		// The application is not in the list (decided meanwhile, or never
		// the viewer's): the refusal goes above it.
		l.Refused = firstMessage(problem.errs)
	}
	return l
}

// listProblem tells why a list could not be read: the partner API's
// answer, or the portal's own reason (a reseller's login without its
// reseller's key), which is a limitation to note rather than a failure.
func listProblem(ctx context.Context, err error) *templates.APIProblem {
	var apiErr *partnerapi.APIError
	if e, ok := apperr.As(err); ok && !errors.As(err, &apiErr) {
		return &templates.APIProblem{Message: tr(ctx, e.MessageID, e.Data), Info: true}
	}
	return figureProblem(ctx, err)
}

// firstMessage is a form's problem in one sentence: its own, or the first
// field's in a fixed order.
func firstMessage(errs map[string]string) string {
	for _, k := range []string{"", "uin", "kind", "decision", "reason"} {
		if m, ok := errs[k]; ok {
			return m
		}
	}
	return ""
}

// applicantRow is one application in the reader's language.
func applicantRow(ctx context.Context, a applications.Applicant, canDecide bool) templates.ApplicantRow {
	row := templates.ApplicantRow{Kind: a.Kind, Uin: strconv.FormatUint(a.Uin, 10), Name: a.Name, Email: a.Email, Mobile: a.Mobile,
		Applied: formatTime(ctx, a.Applied), MaterialURL: a.MaterialURL, CanDecide: canDecide}
	if a.Applied.IsZero() {
		row.Applied = a.AppliedText
	}
	switch a.Type {
	case "personal", "company":
		row.Type = tr(ctx, "applications.type_"+a.Type)
	default:
		row.Type = a.Type
	}
	if a.Kind == applications.Reseller {
		switch a.AuthState {
		case -1, 0, 1, 2, 3:
			row.AuthState = tr(ctx, "applications.auth_"+strconv.FormatInt(a.AuthState+1, 10))
		default:
			row.AuthState = strconv.FormatInt(a.AuthState, 10)
		}
	}
	return row
}

// decisionView tells a decision's outcome per application.
func decisionView(ctx context.Context, out jobs.Outcome) *templates.DecisionView {
	d := &templates.DecisionView{JobID: out.Job.ID, Ended: out.Ended}
	for _, it := range out.Items {
		w, err := jobs.IntentOf(it)
		if err != nil {
			continue
		}
		item := templates.DecisionItem{Uin: it.Key, Verdict: w.ApproveType, Status: it.Status, RequestID: it.RequestId}
		switch it.Status {
		case store.ItemOK:
			item.Message = tr(ctx, "applications.outcome_"+w.ApproveType, map[string]any{"Uin": it.Key})
		case store.ItemFailed:
			switch it.Code {
			case jobs.CodeNotApplied:
				item.Message = tr(ctx, "jobs.item_not_applied")
			case jobs.CodeTransport:
				item.Message = tr(ctx, "apierror.unreachable")
			default:
				p := apiProblem(ctx, &partnerapi.APIError{Action: w.Action, Code: it.Code, RequestId: it.RequestId})
				item.Message = p.Message
			}
		case store.ItemSkipped:
			item.Message = tr(ctx, "applications.outcome_skipped")
		default: // unknown, or still under way
			item.Message = tr(ctx, "applications.outcome_unknown")
			d.Unknown = true
		}
		d.Items = append(d.Items, item)
	}
	return d
}

// decisionInput reads a decision form: one row's (kind, uin, decision,
// reason) or a list's bulk form (kind, uins, <kind>_decision, <kind>_reason).
func decisionInput(r *http.Request, bulk bool) applications.Decision {
	_ = r.ParseForm()
	d := applications.Decision{Kind: r.PostFormValue("kind")}
	if bulk {
		d.Uins = r.PostForm["uin"]
		d.Verdict, d.Reason = r.PostFormValue(d.Kind+"_decision"), r.PostFormValue(d.Kind+"_reason")
		return d
	}
	d.Uins = []string{r.PostFormValue("uin")}
	d.Verdict, d.Reason = r.PostFormValue("decision"), r.PostFormValue("reason")
	return d
}

// decideApplication decides one application: htmx shows the outcome in
// the row; without script the page shows it after a redirect.
func (h *Handlers) decideApplication(w http.ResponseWriter, r *http.Request) {
	d := decisionInput(r, false)
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	out, err := h.applications.Decide(ctx, actor(r), d)
	row := templates.ApplicantRow{Kind: d.Kind, Uin: d.Uins[0], CanDecide: true}
	if err != nil {
		h.decisionFailure(w, r, err, func(status int, errs map[string]string) {
			if isHTMX(r) {
				row.Errors, row.Reason = errs, d.Reason
				h.render(w, r, status, templates.DecideCell(row))
				return
			}
			h.renderApplications(w, r, status, &pageProblem{kind: d.Kind, uin: d.Uins[0], reason: d.Reason, errs: errs})
		})
		return
	}
	if isHTMX(r) {
		row.Outcome = decisionView(ctx, out)
		// A refused application is still pending: the forms stay.
		row.CanDecide = row.Outcome.Undecided()
		h.render(w, r, http.StatusOK, templates.DecideCell(row))
		return
	}
	redirect(w, r, decisionURL(out.Job.ID))
}

// decisionFailure shows why a decision was refused or failed beside its
// form: a rule's refusal by field, anything else (a refused permission,
// the partner API's answer while the list was checked, an internal error,
// logged) as the form's own problem, so the form stays usable.
func (h *Handlers) decisionFailure(w http.ResponseWriter, r *http.Request, err error, show func(status int, errs map[string]string)) {
	if r.Context().Err() != nil {
		h.fail(w, r, err) // the person has gone
		return
	}
	ctx := r.Context()
	status, message, internal := problemOf(ctx, err)
	if internal {
		h.logger.Error("decide on applications", "err", err, "request_id", middleware.GetReqID(ctx))
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Forbidden && !internal {
		var apiErr *partnerapi.APIError
		if !errors.As(err, &apiErr) {
			show(status, fieldMessages(ctx, err))
			return
		}
	}
	show(status, map[string]string{"": message})
}

// decideApplications decides several applications of one list at once, as
// one write job whose page lists the outcome of each.
func (h *Handlers) decideApplications(w http.ResponseWriter, r *http.Request) {
	d := decisionInput(r, true)
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	out, err := h.applications.Decide(ctx, actor(r), d)
	if err != nil {
		h.decisionFailure(w, r, err, func(status int, errs map[string]string) {
			// The bulk form's fields carry the list's kind in their names.
			named := map[string]string{}
			for k, m := range errs {
				switch k {
				case "decision", "reason":
					named[d.Kind+"_"+k] = m
				default:
					named[""] = m
				}
			}
			h.renderApplications(w, r, status, &pageProblem{kind: d.Kind, bulk: true, reason: d.Reason, errs: named})
		})
		return
	}
	redirect(w, r, "/jobs/"+strconv.FormatInt(out.Job.ID, 10))
}

// decisionPage is where a decision stands: for htmx's polling while it
// runs, or the applications page showing it.
func (h *Handlers) decisionPage(w http.ResponseWriter, r *http.Request) {
	id := jobID(r)
	if !isHTMX(r) {
		redirect(w, r, decisionURL(id))
		return
	}
	ctx := r.Context()
	out, err := h.applications.Decision(ctx, actor(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.DecisionOutcome(*decisionView(ctx, out)))
}

// checkDecision reads back the outcomes a decision left unknown.
func (h *Handlers) checkDecision(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	id := jobID(r)
	out, err := h.applications.CheckAgain(ctx, actor(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.DecisionOutcome(*decisionView(ctx, out)))
		return
	}
	redirect(w, r, decisionURL(id))
}

// decisionURL is the applications page showing a decision's outcome.
func decisionURL(id int64) string {
	return "/applications?" + url.Values{"decision": {strconv.FormatInt(id, 10)}}.Encode() + "#decision"
}
