package handlers_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"resellerportal/apicache"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// lowCustomer takes one of the sandbox's direct customers down to a
// twentieth of its credit (past the 10 % threshold), fills the customers
// table, and returns the customer.
func (p *portal) lowCustomer() uint64 {
	p.t.Helper()
	low := p.directCustomers(5)[2]
	p.takeDown(low)
	p.fillCustomers()
	return low
}

// takeDown leaves a direct customer a twentieth of its credit at the
// sandbox, giving it credit first if it has none.
func (p *portal) takeDown(uin uint64) {
	p.t.Helper()
	ctx := p.t.Context()
	c, err := p.app.Keys.Distributor(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	credit, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{uin}})
	if err != nil || len(credit.Data) != 1 {
		p.t.Fatalf("credit of %d: %v", uin, err)
	}
	total, remaining := credit.Data[0].TotalCredit.Decimal(), credit.Data[0].RemainingCredit.Decimal()
	if !total.IsPositive() {
		if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: uin, AddedCredit: partnerapi.AmountFromDecimal(decimal.NewFromInt(1000))}); err != nil {
			p.t.Fatal(err)
		}
		total, remaining = total.Add(decimal.NewFromInt(1000)), remaining.Add(decimal.NewFromInt(1000))
	}
	takeBack := remaining.Sub(total.Div(decimal.NewFromInt(20))).DivRound(decimal.RequireFromString("0.95"), 2).Neg()
	if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: uin, AddedCredit: partnerapi.AmountFromDecimal(takeBack)}); err != nil {
		p.t.Fatal(err)
	}
}

// TestCustomerPageReadFeedsTheWatch checks that a customer's page, which
// reads its credit from the partner API, evaluates what it read: a
// customer taken down since the last refresh is past 10 % once it is
// viewed, audited once however often it is viewed.
func TestCustomerPageReadFeedsTheWatch(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	uin := p.directCustomers(5)[1]
	if _, err := p.db.WatchState(t.Context(), uin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("past a threshold before: %v", err)
	}
	p.takeDown(uin)
	staff := audit.UserActor(p.users["staff"], "192.0.2.7")
	for view := range 2 {
		d, err := p.app.Customers.Customer(t.Context(), staff, uin, apicache.Fresh, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.Watch == nil || d.Watch.Kind != store.WatchPercent || d.Watch.Value != "10" {
			t.Fatalf("view %d: state %+v", view+1, d.Watch)
		}
	}
	rows := p.auditRows(watch.Action)
	if len(rows) != 1 || rows[0].TargetUin != uin || rows[0].Params["via"] != "customer page" || rows[0].ClientAddr != "192.0.2.7" {
		t.Fatalf("crossings %+v", rows)
	}
	// The overview shows the page's newer figures, marked, not the
	// table's from before the take-down.
	ov := p.get(p.login("staff"), "/credit?watch=any")
	marked := false
	for _, row := range byTestID(t, ov.Body, "credit-row") {
		marked = marked || (attr(row, "data-uin") == strconv.FormatUint(uin, 10) && attr(row, "data-level") == "2")
	}
	if !marked {
		t.Error("the overview does not mark it past 10 %")
	}
	r := p.get(p.login("finance"), "/")
	found := false
	for _, row := range byTestID(t, r.Body, "dashboard-watch-row") {
		found = found || attr(row, "data-uin") == strconv.FormatUint(uin, 10)
	}
	if !found {
		t.Error("the dashboard does not list it")
	}
}

// within returns the elements with a tag inside n.
func within(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
		out = append(out, within(c, tag)...)
	}
	return out
}

// ownCustomer is one of the test reseller's customers in the table.
func (p *portal) ownCustomer() uint64 {
	p.t.Helper()
	r := p.subUin
	cs, _, err := p.db.SearchCustomers(p.t.Context(), store.CustomerQuery{ResellerUin: &r, Limit: 1})
	if err != nil || len(cs) == 0 {
		p.t.Fatalf("no customer of reseller %d: %v", r, err)
	}
	return cs[0].Uin
}

func TestDashboardListsCustomersRunningLow(t *testing.T) {
	p := newPortal(t)
	t.Run("empty before anyone runs low", func(t *testing.T) {
		r := p.get(p.login("staff"), "/")
		if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "dashboard-watch-empty")) != 1 || len(byTestID(t, r.Body, "dashboard-watch-row")) != 0 {
			t.Fatalf("status %d, not the empty list", r.StatusCode)
		}
	})
	low := p.lowCustomer()
	uin := strconv.FormatUint(low, 10)
	for _, role := range []string{"admin", "staff", "finance"} {
		t.Run(role, func(t *testing.T) {
			r := p.get(p.login(role), "/")
			rows := byTestID(t, r.Body, "dashboard-watch-row")
			if r.StatusCode != http.StatusOK || len(rows) == 0 {
				t.Fatalf("status %d, %d rows", r.StatusCode, len(rows))
			}
			found := false
			prev := 4
			for _, row := range rows {
				sev, _ := strconv.Atoi(attr(row, "data-severity"))
				if sev > prev || sev == 0 {
					t.Errorf("row %s at severity %d after %d: not most severe first", attr(row, "data-uin"), sev, prev)
				}
				prev = sev
				if attr(row, "data-uin") != uin {
					continue
				}
				found = true
				if sev != int(watch.VeryLow) {
					t.Errorf("customer %s at severity %d, want past 10 %%", uin, sev)
				}
				hrefs := map[string]bool{}
				for _, a := range within(row, "a") {
					hrefs[attr(a, "href")] = true
				}
				if !hrefs["/customers/"+uin] || !hrefs["/credit/"+uin+"/watch"] || !hrefs["/credit?q="+uin+"&reseller=direct"] {
					t.Errorf("row links %v", hrefs)
				}
			}
			if !found {
				t.Errorf("customer %s is not listed", uin)
			}
			if all := byTestID(t, r.Body, "dashboard-watch-all"); len(all) != 1 || attr(all[0], "href") != "/credit?watch=any" {
				t.Errorf("no link to the whole list")
			}
		})
	}
	t.Run("a reseller's login sees none of the partner's", func(t *testing.T) {
		r := p.get(p.login("subagent"), "/")
		for _, row := range byTestID(t, r.Body, "dashboard-watch-row") {
			n, _ := strconv.ParseUint(attr(row, "data-uin"), 10, 64)
			if p.row(n).ResellerUin != p.subUin {
				t.Errorf("it sees %d", n)
			}
		}
		if len(byTestID(t, r.Body, "dashboard-watch")) != 1 {
			t.Error("no watch section")
		}
	})
	t.Run("the overview's filter keeps those past any threshold", func(t *testing.T) {
		r := p.get(p.login("staff"), "/credit?watch=any")
		rows := byTestID(t, r.Body, "credit-row")
		found := false
		for _, row := range rows {
			found = found || attr(row, "data-uin") == uin
			if attr(row, "data-level") == "0" || attr(row, "class") != "watch-past" {
				t.Errorf("%s listed without its mark", attr(row, "data-uin"))
			}
		}
		if !found {
			t.Errorf("customer %s not listed", uin)
		}
		chosen := find(t, r.Body, func(n *html.Node) bool {
			return n.Data == "option" && attr(n, "value") == "any" && hasAttr(n, "selected")
		})
		if len(chosen) != 1 {
			t.Error("the filter does not show its choice")
		}
	})
}

func TestWatchPage(t *testing.T) {
	p := newPortal(t)
	low := p.lowCustomer()
	uin := strconv.FormatUint(low, 10)
	path := "/credit/" + uin + "/watch"
	own := strconv.FormatUint(p.ownCustomer(), 10)

	for _, tc := range []struct {
		role   string
		path   string
		status int
		form   bool
	}{
		{"admin", path, http.StatusOK, true},
		{"staff", path, http.StatusOK, true},
		{"finance", path, http.StatusOK, false},
		{"subagent", path, http.StatusNotFound, false},
		{"subagent", "/credit/" + own + "/watch", http.StatusOK, true},
		{"staff", "/credit/4242/watch", http.StatusNotFound, false},
		{"staff", "/credit/abc/watch", http.StatusNotFound, false},
	} {
		t.Run(tc.role+" "+tc.path, func(t *testing.T) {
			r := p.get(p.login(tc.role), tc.path)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			if got := len(byTestID(t, r.Body, "watch-form")) == 1; got != tc.form {
				t.Errorf("form shown %v, want %v", got, tc.form)
			}
		})
	}
	t.Run("where it stands", func(t *testing.T) {
		r := p.get(p.login("staff"), path)
		state := byTestID(t, r.Body, "watch-state")
		if len(state) != 1 || attr(state[0], "data-severity") != "2" || len(byTestID(t, r.Body, "watch-since")) != 1 {
			t.Fatalf("state %v", state)
		}
		if n := len(byTestID(t, r.Body, "watch-threshold")); n != 3 {
			t.Errorf("%d thresholds in effect, want the 3 defaults", n)
		}
		if d := byTestID(t, r.Body, "watch-defaults"); len(d) != 1 || !hasAttr(d[0], "checked") {
			t.Error("the defaults are not ticked")
		}
	})
	t.Run("a reseller's customer without credit read yet", func(t *testing.T) {
		r := p.get(p.login("subagent"), "/credit/"+own+"/watch")
		if len(byTestID(t, r.Body, "watch-unknown")) != 1 {
			t.Error("no word that its credit is not known")
		}
	})

	staff := p.login("staff")
	t.Run("bad values are shown beside their fields", func(t *testing.T) {
		for _, tc := range []struct {
			form  url.Values
			field string
		}{
			{url.Values{"kind.0": {"amount"}, "value.0": {"abc"}}, "value.0"},
			{url.Values{"kind.0": {"percent"}, "value.0": {"120"}}, "value.0"},
			{url.Values{"kind.0": {"percent"}, "value.0": {"1"}, "kind.1": {"amount"}, "value.1": {"1.005"}}, "value.1"},
			{url.Values{"kind.0": {"liters"}, "value.0": {"1"}}, "kind.0"},
		} {
			r := p.post(staff, path, tc.form)
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-"+tc.field)) != 1 || len(byTestID(t, r.Body, "watch-problem")) != 1 {
				t.Errorf("%v: status %d, no problem beside %s", tc.form, r.StatusCode, tc.field)
			}
			if v := inputValue(t, r.Body, "value.0"); v != tc.form.Get("value.0") {
				t.Errorf("what was typed is not shown again: %q", v)
			}
		}
		if n := len(p.auditRows(watch.SetAction)); n != 0 {
			t.Errorf("%d changes recorded for refused forms", n)
		}
	})
	t.Run("saved, then shown", func(t *testing.T) {
		r := p.post(staff, path, url.Values{"defaults": {"1"}, "kind.0": {"amount"}, "value.0": {"2500.50"}, "kind.1": {"percent"}, "value.1": {""}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
			t.Fatalf("status %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		page := p.follow(staff, r)
		if len(byTestID(t, page.Body, "flash")) != 1 || len(byTestID(t, page.Body, "watch-threshold")) != 4 {
			t.Errorf("no flash or not 4 thresholds")
		}
		if v := inputValue(t, page.Body, "value.0"); v != "2500.5" {
			t.Errorf("the stored threshold reads %q", v)
		}
		rows := p.auditRows(watch.SetAction)
		if len(rows) != 1 || rows[0].TargetUin != low || rows[0].Params["thresholds"] != "amount:2500.5" || rows[0].Actor != p.users["staff"].Username {
			t.Errorf("audit %+v", rows)
		}
	})
	t.Run("a reseller's login sets its own customer's, and nobody else's", func(t *testing.T) {
		sub := p.login("subagent")
		if r := p.post(sub, "/credit/"+own+"/watch", url.Values{"defaults": {"1"}, "kind.0": {"percent"}, "value.0": {"40"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("its own: %d", r.StatusCode)
		}
		if r := p.post(sub, path, url.Values{"defaults": {"1"}}); r.StatusCode != http.StatusNotFound {
			t.Errorf("a direct customer: %d", r.StatusCode)
		}
		if s, err := p.db.WatchSettings(t.Context(), low); err != nil || s.NoDefaults || len(s.Custom) != 1 {
			t.Errorf("the direct customer's settings changed: %+v %v", s, err)
		}
	})
	t.Run("the customer's page links to its watch and says where it stands", func(t *testing.T) {
		r := p.get(staff, "/customers/"+uin)
		if l := byTestID(t, r.Body, "customer-watch-link"); len(l) != 1 || attr(l[0], "href") != path {
			t.Error("no link to the watch")
		}
		if len(byTestID(t, r.Body, "customer-watch-past")) != 1 {
			t.Error("the customer's page does not say it runs low")
		}
	})
}

// TestResellersCustomerOnTheWatch checks a reseller's customer, whose
// credit only its page reads (with the reseller's key): once read past a
// threshold, the reseller's login finds it on its dashboard and marked in
// its credit overview with the figures read, and the partner's people see
// it too.
func TestResellersCustomerOnTheWatch(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	own := p.ownCustomer()
	uin := strconv.FormatUint(own, 10)
	seen := watch.Seen{Uin: own, ResellerUin: p.subUin, Credit: "200", Remaining: "6"}
	if err := watch.Notice(t.Context(), p.db, seen, watch.Source{Via: "customer page"}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"subagent", "staff"} {
		r := p.get(p.login(role), "/")
		found := false
		for _, row := range byTestID(t, r.Body, "dashboard-watch-row") {
			found = found || attr(row, "data-uin") == uin
		}
		if !found {
			t.Errorf("%s: the dashboard does not list %s", role, uin)
		}
	}
	r := p.get(p.login("subagent"), "/credit?watch=any")
	rows := byTestID(t, r.Body, "credit-row")
	if len(rows) != 1 || attr(rows[0], "data-uin") != uin || attr(rows[0], "data-level") != "2" {
		t.Fatalf("the reseller's overview lists %d rows", len(rows))
	}
	if rows := p.auditRows(watch.Action); len(rows) != 1 || rows[0].OnBehalfOf != p.subUin {
		t.Errorf("the crossing is not on the reseller's behalf: %+v", rows)
	}
}
