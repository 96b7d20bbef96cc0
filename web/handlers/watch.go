package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
	"resellerportal/web/templates"
)

// WatchService is what the low-credit watch's pages need.
type WatchService interface {
	Customer(ctx context.Context, actor audit.Actor, uin uint64) (watch.Customer, error)
	Set(ctx context.Context, actor audit.Actor, uin uint64, in watch.Input) error
	List(ctx context.Context, actor audit.Actor, limit int) (watch.Watched, error)
}

// dashboardWatchRows is how many customers past a threshold the dashboard
// lists; the credit overview lists them all.
const dashboardWatchRows = 10

// thresholdWords names a threshold: "25 % of its credit", "USD 500.00".
func thresholdWords(ctx context.Context, t watch.Threshold) string {
	if t.Kind == watch.Percent {
		return tr(ctx, "watch.percent_of_credit", map[string]any{"Value": t.Value.String()})
	}
	return decimalUSD(t.Value.String())
}

// levelWords says where a credit read stands: "" when fine, else the
// threshold passed ("USD 500.00 or less left"), or that nothing is left.
func levelWords(ctx context.Context, l watch.Level) string {
	switch {
	case !l.Past():
		return ""
	case l.Severity == watch.Empty:
		return tr(ctx, "credit.level_empty")
	}
	if l.Threshold.Kind == watch.Percent {
		return tr(ctx, "watch.past_percent", map[string]any{"Value": l.Threshold.Value.String()})
	}
	return tr(ctx, "watch.past_amount", map[string]any{"Amount": decimalUSD(l.Threshold.Value.String())})
}

// stateWords is levelWords of a stored state.
func stateWords(ctx context.Context, s store.WatchState) string {
	return levelWords(ctx, watch.Evaluate(s.Credit, s.Remaining, watch.Thresholds{NoDefaults: true,
		Custom: []watch.Threshold{{Kind: watch.Kind(s.Kind), Value: decimalOf(s.Value)}}}))
}

// decimalOf reads a stored decimal; a stored one always reads.
func decimalOf(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}

// watchPage shows a customer's thresholds and where its credit stands.
func (h *Handlers) watchPage(w http.ResponseWriter, r *http.Request) {
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	c, err := h.watch.Customer(r.Context(), actor(r), uin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.CustomerWatch(h.page(w, r, "watch.title"), watchView(r.Context(), c, nil)))
}

// watchFormRows reads the custom thresholds typed, at most watch.MaxCustom
// rows whatever the form holds.
func watchFormRows(r *http.Request) []watch.Row {
	rows := make([]watch.Row, 0, watch.MaxCustom)
	for i := range watch.MaxCustom {
		n := strconv.Itoa(i)
		rows = append(rows, watch.Row{Kind: r.PostFormValue("kind." + n), Value: r.PostFormValue("value." + n)})
	}
	return rows
}

// saveWatch sets a customer's thresholds: post, then redirect to the page
// (or show the form again with what was wrong beside each field).
func (h *Handlers) saveWatch(w http.ResponseWriter, r *http.Request) {
	ctx := partnerapi.WithLanguage(r.Context(), apiLanguage(r.Context()))
	uin, ok := customerUin(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actor(r)
	in := watch.Input{Defaults: r.PostFormValue("defaults") == "1", Rows: watchFormRows(r)}
	err := h.watch.Set(ctx, a, uin, in)
	if err == nil {
		h.flash(w, r, "ok", tr(ctx, "watch.saved"))
		redirect(w, r, "/credit/"+strconv.FormatUint(uin, 10)+"/watch")
		return
	}
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid {
		h.fail(w, r, err)
		return
	}
	c, cerr := h.watch.Customer(ctx, a, uin)
	if cerr != nil {
		h.fail(w, r, cerr)
		return
	}
	v := watchView(ctx, c, &in)
	v.Errors = fieldMessages(ctx, err)
	h.render(w, r, http.StatusUnprocessableEntity, templates.CustomerWatch(h.page(w, r, "watch.title"), v))
}

// watchView turns a customer's watch into its page; typed, when set, is
// the form as the person sent it (shown again with its problems).
func watchView(ctx context.Context, c watch.Customer, typed *watch.Input) templates.WatchPage {
	uin := strconv.FormatUint(c.Row.Uin, 10)
	v := templates.WatchPage{
		Uin: uin, Name: c.Row.Name, CustomerHref: "/customers/" + uin,
		CreditHref: "/credit?" + url.Values{"q": {uin}, "reseller": {creditReseller(c.Row.ResellerUin, audit.Actor{})}}.Encode(),
		Credit:     decimalUSD(c.Credit), Remaining: decimalUSD(c.Remaining), Share: watch.Share(c.Credit, c.Remaining),
		Severity: int(c.Level.Severity), Past: levelWords(ctx, c.Level), Defaults: !c.Settings.NoDefaults,
		UpdatedBy: c.Settings.UpdatedBy, UpdatedAt: formatTime(ctx, c.Settings.UpdatedAt), CanEdit: c.CanEdit,
		Action: "/credit/" + uin + "/watch",
	}
	if c.State != nil && c.Level.Past() {
		v.Since = formatTime(ctx, c.State.Since)
	}
	for _, t := range c.Thresholds {
		v.InEffect = append(v.InEffect, thresholdWords(ctx, t))
	}
	if typed != nil {
		v.Defaults = typed.Defaults
		for i, row := range typed.Rows {
			if row.Value != "" || i < len(c.Settings.Custom) {
				v.Rows = append(v.Rows, templates.WatchThresholdRow{Index: i, Kind: row.Kind, Value: row.Value})
			}
		}
	} else {
		for i, t := range c.Settings.Custom {
			v.Rows = append(v.Rows, templates.WatchThresholdRow{Index: i, Kind: t.Kind, Value: t.Value})
		}
	}
	// Room for new ones: two blank rows, up to the limit.
	for next := len(v.Rows); len(v.Rows) < min(next+2, watch.MaxCustom); {
		v.Rows = append(v.Rows, templates.WatchThresholdRow{Index: nextIndex(v.Rows), Kind: string(watch.Percent)})
	}
	return v
}

// nextIndex is the form index after the rows'.
func nextIndex(rows []templates.WatchThresholdRow) int {
	n := 0
	for _, r := range rows {
		n = max(n, r.Index+1)
	}
	return n
}

// dashboardWatch is the dashboard's list of customers past a threshold.
func (h *Handlers) dashboardWatch(ctx context.Context, a audit.Actor) (*templates.WatchList, error) {
	list, err := h.watch.List(ctx, a, dashboardWatchRows)
	if err != nil {
		return nil, err
	}
	l := &templates.WatchList{Total: list.Total, AllHref: "/credit?watch=any"}
	for _, c := range list.Customers {
		uin := strconv.FormatUint(c.Uin, 10)
		row := templates.WatchRow{Uin: uin, Name: c.Name, Credit: decimalUSD(c.Credit), Remaining: decimalUSD(c.Remaining),
			Share: watch.Share(c.Credit, c.Remaining), Past: stateWords(ctx, c.WatchState), Since: formatTime(ctx, c.Since),
			CustomerHref: "/customers/" + uin, WatchHref: "/credit/" + uin + "/watch",
			CreditHref: "/credit?" + url.Values{"q": {uin}, "reseller": {creditReseller(c.ResellerUin, a)}}.Encode()}
		row.Severity = int(watch.Evaluate(c.Credit, c.Remaining, watch.Thresholds{NoDefaults: true,
			Custom: []watch.Threshold{{Kind: watch.Kind(c.Kind), Value: decimalOf(c.Value)}}}).Severity)
		l.Rows = append(l.Rows, row)
	}
	return l, nil
}
