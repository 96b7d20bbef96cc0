package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// directCustomers returns the UINs of the distributor's first n customers,
// newest bound first, from the sandbox.
func (p *portal) directCustomers(n int) []uint64 {
	p.t.Helper()
	c, err := p.app.Keys.Distributor(p.t.Context())
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := c.QueryCustomersCredit(p.t.Context(), &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: int64(n)})
	if err != nil {
		p.t.Fatal(err)
	}
	var out []uint64
	for _, cu := range resp.Data {
		out = append(out, cu.ClientUin)
	}
	return out
}

// fillCustomers runs the directory refresh to its end, as staff.
func (p *portal) fillCustomers() {
	p.t.Helper()
	job, _, err := p.app.Jobs.StartDirectoryRefresh(p.t.Context(), audit.UserActor(p.users["staff"], "192.0.2.9"))
	if err != nil {
		p.t.Fatal(err)
	}
	if j := p.waitJob(job.ID); j.Status != store.JobDone {
		p.t.Fatalf("directory refresh %s: %s", j.Status, j.Error)
	}
}

// row reads a customer's stored row.
func (p *portal) row(uin uint64) store.Customer {
	p.t.Helper()
	c, err := p.db.CustomerByUin(p.t.Context(), uin)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// htmx sends a request as htmx would.
func (p *portal) htmx(c *http.Client, method, path string, form url.Values) response {
	p.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, p.ts.URL+path, body)
	req.Header.Set("HX-Request", "true")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return p.do(c, req)
}

func rowUins(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, n := range byTestID(t, body, "customer-row") {
		out = append(out, attr(n, "data-uin"))
	}
	return out
}

func TestCustomerList(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")

	empty := p.get(staff, "/customers/")
	if empty.StatusCode != http.StatusOK || len(byTestID(t, empty.Body, "customers-empty-table")) != 1 {
		t.Fatalf("before any refresh: %d, want the empty-table state", empty.StatusCode)
	}
	if len(byTestID(t, empty.Body, "customers-refresh")) != 1 {
		t.Error("staff are not offered the refresh on an empty list")
	}
	p.fillCustomers()
	uins := p.directCustomers(30)
	first := p.row(uins[0])

	all := p.get(staff, "/customers/")
	total, _ := strconv.Atoi(attr(byTestID(t, all.Body, "customers-count")[0], "data-total"))
	if total < len(uins) || len(rowUins(t, all.Body)) == 0 {
		t.Fatalf("the list shows %d of %d+ customers", total, len(uins))
	}
	if len(byTestID(t, all.Body, "customers-as-of")) != 1 {
		t.Error("no as-of time")
	}

	for _, tc := range []struct {
		name  string
		query string
		check func(t *testing.T, uins []string)
	}{
		{"by UIN", "q=" + strconv.FormatUint(first.Uin, 10), func(t *testing.T, got []string) {
			if len(got) != 1 || got[0] != strconv.FormatUint(first.Uin, 10) {
				t.Errorf("got %v", got)
			}
		}},
		{"by UIN prefix", "q=" + strconv.FormatUint(first.Uin, 10)[:4], func(t *testing.T, got []string) {
			if len(got) == 0 {
				t.Error("nothing")
			}
			for _, u := range got {
				if !strings.HasPrefix(u, strconv.FormatUint(first.Uin, 10)[:4]) {
					t.Errorf("%s does not start with the digits", u)
				}
			}
		}},
		{"by name", "q=" + url.QueryEscape(strings.Fields(first.Name)[0]), func(t *testing.T, got []string) {
			found := false
			for _, u := range got {
				found = found || u == strconv.FormatUint(first.Uin, 10)
			}
			if !found {
				t.Errorf("%q not found by its name: %v", first.Name, got)
			}
		}},
		{"direct only", "reseller=direct", func(t *testing.T, got []string) {
			for _, u := range got {
				n, _ := strconv.ParseUint(u, 10, 64)
				if p.row(n).ResellerUin != 0 {
					t.Errorf("%s is a reseller's customer", u)
				}
			}
		}},
		{"a reseller's", "reseller=" + strconv.FormatUint(p.subUin, 10), func(t *testing.T, got []string) {
			if len(got) == 0 {
				t.Fatal("none")
			}
			for _, u := range got {
				n, _ := strconv.ParseUint(u, 10, 64)
				if p.row(n).ResellerUin != p.subUin {
					t.Errorf("%s is not reseller %d's", u, p.subUin)
				}
			}
		}},
		{"sorted by UIN", "sort=uin", func(t *testing.T, got []string) {
			for i := 1; i < len(got); i++ {
				a, _ := strconv.ParseUint(got[i-1], 10, 64)
				b, _ := strconv.ParseUint(got[i], 10, 64)
				if a > b {
					t.Fatalf("%d before %d", a, b)
				}
			}
		}},
		{"sorted by UIN descending", "sort=uin&desc=1", func(t *testing.T, got []string) {
			for i := 1; i < len(got); i++ {
				a, _ := strconv.ParseUint(got[i-1], 10, 64)
				b, _ := strconv.ParseUint(got[i], 10, 64)
				if a < b {
					t.Fatalf("%d before %d", a, b)
				}
			}
		}},
		{"nothing matches", "q=zzzzqqqq", func(t *testing.T, got []string) {
			if len(got) != 0 {
				t.Errorf("got %v", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.get(staff, "/customers/?"+tc.query)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d", r.StatusCode)
			}
			tc.check(t, rowUins(t, r.Body))
		})
	}

	t.Run("htmx gets the results alone", func(t *testing.T) {
		r := p.htmx(staff, http.MethodGet, "/customers/?q="+strconv.FormatUint(first.Uin, 10), nil)
		if r.StatusCode != http.StatusOK || len(byTag(t, r.Body, "nav")) != 0 || len(rowUins(t, r.Body)) != 1 {
			t.Errorf("fragment %d with %d rows", r.StatusCode, len(rowUins(t, r.Body)))
		}
	})
	t.Run("pages", func(t *testing.T) {
		second := p.get(staff, "/customers/?sort=uin&page=2")
		if len(byTestID(t, second.Body, "page-prev")) != 1 {
			t.Error("page 2 has no link back")
		}
		if got := rowUins(t, second.Body); len(got) > 0 && len(rowUins(t, all.Body)) > 0 && got[0] == rowUins(t, p.get(staff, "/customers/?sort=uin").Body)[0] {
			t.Error("page 2 starts like page 1")
		}
	})

	for _, tc := range []struct {
		name, query, field string
	}{
		{"search too long", "q=" + strings.Repeat("x", 101), "q"},
		{"control character", "q=a%01b", "q"},
		{"unknown filter value", "verified=maybe", "verified"},
		{"reseller not a UIN", "reseller=abc", "reseller"},
		// What no field of the form can say is told above it.
		{"unknown sort", "sort=password", ""},
		{"bad direction", "sort=uin&desc=up", ""},
		{"page 0", "page=0", ""},
		{"page not a number", "page=two", ""},
	} {
		t.Run("bad input: "+tc.name, func(t *testing.T) {
			r := p.get(staff, "/customers/?"+tc.query)
			where := "error-" + tc.field
			if tc.field == "" {
				where = "customer-filter-problem"
			}
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, where)) != 1 {
				t.Errorf("status %d, %s: %d", r.StatusCode, where, len(byTestID(t, r.Body, where)))
			}
			if len(rowUins(t, r.Body)) != 0 {
				t.Error("rows listed for a bad query")
			}
		})
	}
}

func TestCustomerExport(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	for _, role := range []string{"staff", "finance", "subagent"} {
		t.Run(role, func(t *testing.T) {
			c := p.login(role)
			r := p.get(c, "/customers.csv?sort=uin")
			if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("status %d, type %s", r.StatusCode, r.Header.Get("Content-Type"))
			}
			if !strings.HasPrefix(r.Body, "\uFEFF") {
				t.Fatal("no byte order mark")
			}
			records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if records[0][0] != "uin" || records[0][13] != "reseller_uin" {
				t.Fatalf("header %v", records[0])
			}
			list := p.get(c, "/customers/?sort=uin")
			total, _ := strconv.Atoi(attr(byTestID(t, list.Body, "customers-count")[0], "data-total"))
			if len(records)-1 != total {
				t.Errorf("%d rows exported, the list has %d", len(records)-1, total)
			}
			for _, rec := range records[1:] {
				if role == "subagent" && rec[13] != strconv.FormatUint(p.subUin, 10) {
					t.Fatalf("a reseller's login exported customer %s of %q", rec[0], rec[13])
				}
			}
		})
	}
	rows := p.auditRows("customers.export")
	if len(rows) != 3 || rows[0].Params["rows"] == "" {
		t.Errorf("%d export audit rows: %+v", len(rows), rows)
	}
}

func TestCustomerPage(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")
	uin := p.directCustomers(1)[0]
	path := "/customers/" + strconv.FormatUint(uin, 10)

	r := p.get(staff, path)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	for _, id := range []string{"customer-name", "customer-account", "customer-credit", "customer-vouchers", "customer-remark-region", "customer-services"} {
		if len(byTestID(t, r.Body, id)) != 1 {
			t.Errorf("no %s", id)
		}
	}
	if got := text(byTestID(t, r.Body, "customer-email")[0]); got != p.row(uin).Email || got == "" {
		t.Errorf("email %q, the row has %q", got, p.row(uin).Email)
	}
	if n := len(byTestID(t, r.Body, "api-problem")); n != 0 {
		t.Errorf("%d problems on a healthy page", n)
	}

	t.Run("a page view costs no call while fresh", func(t *testing.T) {
		before := p.sandbox.Requests(partnerapi.ActionDescribeCustomerInfo)
		p.get(staff, path)
		p.get(p.login("finance"), path)
		if n := p.sandbox.Requests(partnerapi.ActionDescribeCustomerInfo) - before; n != 0 {
			t.Errorf("%d DescribeCustomerInfo calls for two views", n)
		}
	})

	// Each read's documented failures show in its own card, in words, with
	// the RequestId; the rest of the page stands.
	for _, tc := range []struct {
		action, code string
	}{
		{partnerapi.ActionDescribeCustomerInfo, "UnauthorizedOperation.NotCustomerUin"},
		{partnerapi.ActionQueryAccountVerificationStatus, "InternalError"},
		{partnerapi.ActionQueryCreditByUinList, "InvalidParameterValue.InvalidUin"},
		{partnerapi.ActionQueryCreditAllocationHistory, "InvalidParameter.Page"},
		{partnerapi.ActionQueryVoucherAmountByUin, "RequestLimitExceeded"},
		{partnerapi.ActionQueryVoucherListByUin, "UnauthorizedOperation.UinNoAuth"},
	} {
		t.Run(tc.action+" "+tc.code, func(t *testing.T) {
			// Enough failures to outlast the client's retries of a read.
			p.sandbox.InjectFault(sandbox.Fault{Action: tc.action, Code: tc.code, Count: 10})
			t.Cleanup(p.sandbox.ClearFaults)
			p.advance(10 * time.Minute) // the cached details are stale now
			page := p.htmx(staff, http.MethodGet, path+"/details?fresh=1", nil)
			problems := byTestID(t, page.Body, "api-problem")
			if page.StatusCode != http.StatusOK || len(problems) != 1 || len(byTestID(t, page.Body, "api-request-id")) == 0 {
				t.Fatalf("status %d, %d problems", page.StatusCode, len(problems))
			}
			if strings.Contains(text(problems[0]), tc.code) {
				t.Errorf("the code shows instead of a sentence: %q", text(problems[0]))
			}
		})
	}

	t.Run("not a customer", func(t *testing.T) {
		for _, bad := range []string{"/customers/1", "/customers/abc", "/customers/0", "/customers/99999999999999999999"} {
			if r := p.get(staff, bad); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", bad, r.StatusCode)
			}
		}
	})
}

func TestCustomerRemark(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")
	uin := p.directCustomers(1)[0]
	path := "/customers/" + strconv.FormatUint(uin, 10)

	editor := p.htmx(staff, http.MethodGet, path+"/remark", nil)
	if len(byTestID(t, editor.Body, "remark-form")) != 1 {
		t.Fatal("no inline editor")
	}
	if noJS := p.get(staff, path+"/remark"); len(byTestID(t, noJS.Body, "remark-form")) != 1 || len(byTag(t, noJS.Body, "nav")) == 0 {
		t.Fatal("no editor page without script")
	}

	t.Run("saved in place", func(t *testing.T) {
		r := p.htmx(staff, http.MethodPost, path+"/remark", url.Values{"remark": {"Key account — 重点客户"}})
		if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "remark-saved")) != 1 {
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
		if got := text(byTestID(t, r.Body, "remark-text")[0]); got != "Key account — 重点客户" {
			t.Errorf("shows %q", got)
		}
		if p.row(uin).Remark != "Key account — 重点客户" {
			t.Errorf("the row has %q", p.row(uin).Remark)
		}
		rows := p.auditRows(partnerapi.ActionModifyClientRemark)
		if len(rows) < 2 || rows[0].TargetUin != uin || rows[0].Outcome != store.OutcomeOK || rows[0].RequestId == "" {
			t.Errorf("audit rows %+v", rows)
		}
	})
	t.Run("without script: post, redirect, get", func(t *testing.T) {
		r := p.post(staff, path+"/remark", url.Values{"remark": {"plain form"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
			t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})

	for _, tc := range []struct {
		name, remark string
	}{
		{"too long", strings.Repeat("字", 201)},
		{"a control character", "a\x00b"},
		{"unchanged", "plain form"},
		{"not UTF-8", "\xff\xfe"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := p.sandbox.Requests(partnerapi.ActionModifyClientRemark)
			r := p.htmx(staff, http.MethodPost, path+"/remark", url.Values{"remark": {tc.remark}})
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-remark")) != 1 {
				t.Errorf("status %d, error beside the field: %d", r.StatusCode, len(byTestID(t, r.Body, "error-remark")))
			}
			if n := p.sandbox.Requests(partnerapi.ActionModifyClientRemark) - before; n != 0 {
				t.Errorf("%d calls sent", n)
			}
		})
	}

	t.Run("a documented refusal is told beside the form", func(t *testing.T) {
		for _, code := range []string{"InvalidParameterValue.InvalidUin", "UnauthorizedOperation.NotCustomerUin", "OperationDenied"} {
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionModifyClientRemark, Code: code})
			r := p.htmx(staff, http.MethodPost, path+"/remark", url.Values{"remark": {"refused " + code}})
			if r.StatusCode != http.StatusBadGateway || len(byTestID(t, r.Body, "api-problem")) != 1 || len(byTestID(t, r.Body, "remark-form")) != 1 {
				t.Errorf("%s: status %d", code, r.StatusCode)
			}
			if p.row(uin).Remark == "refused "+code {
				t.Errorf("%s: the row changed", code)
			}
		}
	})

	t.Run("an answer lost in transit is read back, not sent again", func(t *testing.T) {
		before := p.sandbox.Requests(partnerapi.ActionModifyClientRemark)
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionModifyClientRemark, Drop: true})
		r := p.htmx(staff, http.MethodPost, path+"/remark", url.Values{"remark": {"dropped"}})
		if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "remark-saved")) != 1 {
			t.Fatalf("status %d: %s", r.StatusCode, r.Body)
		}
		if n := p.sandbox.Requests(partnerapi.ActionModifyClientRemark) - before; n != 1 {
			t.Errorf("%d calls, want 1", n)
		}
	})

	t.Run("an outcome that cannot be read back is shown as unknown, then checked", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionModifyClientRemark, Drop: true})
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryCustomersCredit, Code: "InternalError", Count: 50})
		r := p.post(staff, path+"/remark", url.Values{"remark": {"unknown"}})
		loc := r.Header.Get("Location")
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "?write=") {
			t.Fatalf("%d %s", r.StatusCode, loc)
		}
		page := p.get(staff, loc)
		w := byTestID(t, page.Body, "customer-write")
		if len(w) != 1 || attr(w[0], "data-state") != "unknown" || len(byTestID(t, page.Body, "write-check")) != 1 {
			t.Fatalf("write shown as %v", w)
		}
		p.sandbox.ClearFaults()
		id := loc[strings.Index(loc, "=")+1:]
		checked := p.htmx(staff, http.MethodPost, path+"/writes/"+id+"/check", nil)
		if w := byTestID(t, checked.Body, "customer-write"); len(w) != 1 || attr(w[0], "data-state") != "ok" {
			t.Errorf("after checking: %s", checked.Body)
		}
		if p.row(uin).Remark != "unknown" {
			t.Errorf("the row has %q", p.row(uin).Remark)
		}
		if rows := p.auditRows("job.check"); len(rows) != 1 {
			t.Errorf("%d job.check rows", len(rows))
		}
	})
}

func TestSuspendAndRestore(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")
	uin := p.directCustomers(2)[1]
	path := "/customers/" + strconv.FormatUint(uin, 10)
	name := p.row(uin).Name

	confirm := p.get(staff, path+"/suspend")
	if confirm.StatusCode != http.StatusOK || !strings.Contains(text(byTag(t, confirm.Body, "h1")[0]), name) {
		t.Fatalf("confirmation %d does not name %q", confirm.StatusCode, name)
	}
	if p.sandbox.Requests(partnerapi.ActionForceQN) != 0 {
		t.Fatal("the confirmation sent something")
	}
	r := p.post(staff, path+"/suspend", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if c := p.row(uin); c.Force != 2 || !c.Suspended() {
		t.Fatalf("after suspending, the row has force %d", c.Force)
	}
	page := p.follow(staff, r)
	if len(byTestID(t, page.Body, "customer-restore")) != 1 {
		t.Error("no restore offered to a suspended customer")
	}
	again := p.post(staff, path+"/suspend", nil)
	if again.StatusCode != http.StatusSeeOther || p.sandbox.Requests(partnerapi.ActionForceQN) != 1 {
		t.Errorf("suspending twice: %d, %d calls", again.StatusCode, p.sandbox.Requests(partnerapi.ActionForceQN))
	}

	t.Run("not allowlisted", func(t *testing.T) {
		if err := p.sandbox.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionForceQN, false); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.sandbox.ResetAllowlist)
		r := p.post(staff, path+"/restore", nil)
		if r.StatusCode != http.StatusBadGateway || len(byTestID(t, r.Body, "api-note")) != 1 {
			t.Errorf("status %d: %s", r.StatusCode, r.Body)
		}
		if p.row(uin).Force != 2 {
			t.Error("restored anyway")
		}
	})
	if r := p.post(staff, path+"/restore", nil); r.StatusCode != http.StatusSeeOther || p.row(uin).Force != 0 {
		t.Fatalf("restore: %d, force %d", r.StatusCode, p.row(uin).Force)
	}
	// The job page lists each write with its outcome, success included.
	list, _, err := p.db.ListJobs(t.Context(), store.JobFilter{OwnerID: p.users["staff"].ID, Limit: 1})
	if err != nil || len(list) == 0 {
		t.Fatal(err)
	}
	jobPage := p.get(staff, "/jobs/"+strconv.FormatInt(list[0].ID, 10))
	if items := byTestID(t, jobPage.Body, "job-item"); len(items) != 1 || attr(items[0], "data-status") != store.ItemOK {
		t.Errorf("the restore's job page lists %d items", len(items))
	}
	rows := p.auditRows(partnerapi.ActionForceQN)
	phases := map[string]int{}
	for _, e := range rows {
		phases[e.Params["phase"]+" "+e.Params["Type"]+" "+e.Outcome]++
	}
	if phases["intent 2 unknown"] != 1 || phases["outcome 2 ok"] != 1 || phases["outcome 0 ok"] != 1 || phases["outcome 0 failed"] != 1 {
		t.Errorf("ForceQN audit phases %v", phases)
	}
}

// TestDelegatedLoginSeesItsOwnCustomers checks that a reseller's login
// reaches its own customers only, by every route.
func TestDelegatedLoginSeesItsOwnCustomers(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	sub := p.login("subagent")
	direct := strconv.FormatUint(p.directCustomers(1)[0], 10)

	list := p.get(sub, "/customers/")
	uins := rowUins(t, list.Body)
	if len(uins) == 0 {
		t.Fatal("the reseller's login sees no customers")
	}
	for _, u := range uins {
		n, _ := strconv.ParseUint(u, 10, 64)
		if p.row(n).ResellerUin != p.subUin {
			t.Errorf("it sees %s, not its reseller's", u)
		}
	}
	if r := p.get(sub, "/customers/?q="+direct); len(rowUins(t, r.Body)) != 0 {
		t.Error("a search finds another partner's customer")
	}
	if r := p.get(sub, "/customers/?reseller=direct"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("asking for the distributor's customers: %d", r.StatusCode)
	}
	before := p.sandbox.Requests(partnerapi.ActionModifyClientRemark) + p.sandbox.Requests(partnerapi.ActionForceQN)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/customers/" + direct},
		{http.MethodGet, "/customers/" + direct + "/details"},
		{http.MethodGet, "/customers/" + direct + "/remark"},
		{http.MethodPost, "/customers/" + direct + "/remark"},
		{http.MethodGet, "/customers/" + direct + "/suspend"},
		{http.MethodPost, "/customers/" + direct + "/suspend"},
		{http.MethodPost, "/customers/" + direct + "/restore"},
		{http.MethodPost, "/customers/" + direct + "/refresh"},
	} {
		var r response
		if tc.method == http.MethodGet {
			r = p.get(sub, tc.path)
		} else {
			r = p.post(sub, tc.path, url.Values{"remark": {"mine now"}})
		}
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tc.method, tc.path, r.StatusCode)
		}
	}
	if after := p.sandbox.Requests(partnerapi.ActionModifyClientRemark) + p.sandbox.Requests(partnerapi.ActionForceQN); after != before {
		t.Errorf("%d writes reached Tencent Cloud", after-before)
	}

	own := uins[0]
	t.Run("its own customer needs its reseller's key", func(t *testing.T) {
		page := p.get(sub, "/customers/"+own)
		if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "api-note")) != 1 || len(byTestID(t, page.Body, "remark-edit")) != 0 {
			t.Fatalf("status %d; want the page with a note and no editing", page.StatusCode)
		}
		r := p.post(sub, "/customers/"+own+"/remark", url.Values{"remark": {"no key"}})
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("a write without the reseller's key: %d", r.StatusCode)
		}
	})
	t.Run("with the key, it reads and changes its customer", func(t *testing.T) {
		demo := p.sandbox.DemoSubAgent()
		if _, err := p.app.Keys.Save(t.Context(), audit.CommandLine(), keyring.Input{Kind: store.CredentialSubagent,
			SubagentUin: strconv.FormatUint(demo.Uin, 10), SecretID: demo.Credential.SecretId, SecretKey: demo.Credential.SecretKey}); err != nil {
			t.Fatal(err)
		}
		page := p.get(sub, "/customers/"+own)
		if len(byTestID(t, page.Body, "api-note")) != 0 || len(byTestID(t, page.Body, "remark-edit")) != 1 {
			t.Fatalf("with the key stored the page still says it cannot read")
		}
		r := p.post(sub, "/customers/"+own+"/remark", url.Values{"remark": {"set by the reseller"}})
		n, _ := strconv.ParseUint(own, 10, 64)
		if r.StatusCode != http.StatusSeeOther || p.row(n).Remark != "set by the reseller" {
			t.Fatalf("%d, row %q", r.StatusCode, p.row(n).Remark)
		}
		rows := p.auditRows(partnerapi.ActionModifyClientRemark)
		if len(rows) == 0 || rows[0].OnBehalfOf != p.subUin || rows[0].Actor != p.users["subagent"].Username {
			t.Errorf("audit row %+v", rows)
		}
		// Someone else's write on the reseller's customer is not its to see.
		staffWrite := p.post(p.login("staff"), "/customers/"+own+"/remark", url.Values{"remark": {"by staff"}})
		if staffWrite.StatusCode != http.StatusSeeOther {
			t.Fatalf("staff write on the reseller's customer: %d", staffWrite.StatusCode)
		}
		jobs, _, err := p.db.ListJobs(t.Context(), store.JobFilter{OwnerID: p.users["staff"].ID, Limit: 1})
		if err != nil || len(jobs) == 0 {
			t.Fatal(err)
		}
		if r := p.get(sub, "/customers/"+own+"/writes/"+strconv.FormatInt(jobs[0].ID, 10)); r.StatusCode != http.StatusNotFound {
			t.Errorf("staff's write seen by the reseller's login: %d", r.StatusCode)
		}
	})
}
