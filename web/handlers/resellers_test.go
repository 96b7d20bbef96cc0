package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/cmd/portal/app"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// partnerResellers lists the distributor's resellers from the sandbox,
// newest bound first.
func (p *portal) partnerResellers() []partnerapi.QuerySubAgentsDetailV2ResponseData {
	p.t.Helper()
	c := p.sandboxClient(p.sandbox.DemoDistributor().Credential)
	var out []partnerapi.QuerySubAgentsDetailV2ResponseData
	for r, err := range c.AllQuerySubAgentsDetailV2(p.t.Context(), partnerapi.QuerySubAgentsDetailV2Request{}) {
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// resellerRows lists the UINs of the resellers page's rows, in order.
func resellerRows(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, n := range find(t, body, func(n *html.Node) bool {
		return strings.HasPrefix(attr(n, "data-testid"), "reseller-") && n.Data == "tr"
	}) {
		out = append(out, strings.TrimPrefix(attr(n, "data-testid"), "reseller-"))
	}
	return out
}

// selected is the chosen value of a select on a page.
func selectedValue(t *testing.T, body, name string) string {
	t.Helper()
	for _, sel := range find(t, body, func(n *html.Node) bool { return n.Data == "select" && attr(n, "name") == name }) {
		first := ""
		for _, o := range findIn(sel, func(n *html.Node) bool { return n.Data == "option" }) {
			if first == "" {
				first = attr(o, "value")
			}
			for _, a := range o.Attr {
				if a.Key == "selected" {
					return attr(o, "value")
				}
			}
		}
		return first
	}
	return ""
}

func TestResellersList(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	all := p.partnerResellers()
	if len(all) < 3 {
		t.Fatalf("the sandbox has %d resellers", len(all))
	}

	page := p.get(staff, "/resellers")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("resellers page: %d", page.StatusCode)
	}
	rows := resellerRows(t, page.Body)
	if len(rows) != len(all) {
		t.Fatalf("%d resellers listed, want %d", len(rows), len(all))
	}
	for i, r := range all {
		if rows[i] != uinText(uint64(r.SubAgentUin)) {
			t.Fatalf("row %d is %s, want %d (newest bound first)", i, rows[i], r.SubAgentUin)
		}
	}
	first := byTestID(t, page.Body, "reseller-"+rows[0])[0]
	counts := findIn(first, func(n *html.Node) bool { return attr(n, "data-testid") == "reseller-customers" })
	if len(counts) != 1 || text(counts[0]) != itoa(all[0].CountOfCustomers) {
		t.Fatalf("the first reseller's customer count is not %d", all[0].CountOfCustomers)
	}
	if !strings.Contains(strings.ReplaceAll(text(first), ",", ""), formatUSDForTest(all[0].Credit)) {
		t.Fatalf("the first reseller's credit %s is not shown: %q", all[0].Credit, text(first))
	}
	if len(byTestID(t, page.Body, "resellers-refresh-as-of")) != 1 || len(byTestID(t, page.Body, "resellers-refresh")) != 1 {
		t.Fatal("the list says neither when it was read nor offers to read it again")
	}
	calls := p.sandbox.Requests(partnerapi.ActionQuerySubAgentsDetailV2)
	p.get(staff, "/resellers")
	if n := p.sandbox.Requests(partnerapi.ActionQuerySubAgentsDetailV2); n != calls {
		t.Fatal("a second view called the partner API again")
	}
	p.advance(time.Minute) // past the minimum interval between refreshes
	p.get(staff, "/resellers?refresh=1")
	if n := p.sandbox.Requests(partnerapi.ActionQuerySubAgentsDetailV2); n != calls+1 {
		t.Fatalf("refresh made %d calls, want 1", n-calls)
	}

	asc := resellerRows(t, p.get(staff, "/resellers?order=asc").Body)
	for i := range asc {
		if asc[i] != rows[len(rows)-1-i] {
			t.Fatalf("oldest first: %v, newest first: %v", asc, rows)
		}
	}

	sub := all[1]
	c := p.sandboxClient(p.resellerCredential(uint64(sub.SubAgentUin)))
	its, err := c.QueryDirectCustomersCredit(t.Context(), &partnerapi.QueryDirectCustomersCreditRequest{})
	if err != nil || len(its.Data) == 0 {
		t.Fatalf("reseller %d's customers: %v", sub.SubAgentUin, err)
	}
	for _, f := range []struct{ filterType, filter string }{
		{"SubAgentUin", uinText(uint64(sub.SubAgentUin))},
		{"Name", string([]rune(sub.Name)[1 : len([]rune(sub.Name))-1])},
		{"Email", sub.Email},
		{"ClientUin", uinText(its.Data[0].Uin)},
	} {
		got := resellerRows(t, p.get(staff, "/resellers?"+url.Values{"filter_type": {f.filterType}, "filter": {f.filter}}.Encode()).Body)
		if !hasString(got, uinText(uint64(sub.SubAgentUin))) || (f.filterType != "Name" && len(got) != 1) {
			t.Fatalf("filter %s=%q found %v, want reseller %d", f.filterType, f.filter, got, sub.SubAgentUin)
		}
	}
	none := p.get(staff, "/resellers?filter_type=SubAgentUin&filter=42")
	if none.StatusCode != http.StatusOK || len(byTestID(t, none.Body, "resellers-empty")) != 1 {
		t.Fatal("no empty state when nothing matches")
	}
	beyond := p.get(staff, "/resellers?page=3")
	if len(byTestID(t, beyond.Body, "resellers-empty")) != 1 || len(byTestID(t, beyond.Body, "resellers-prev")) != 1 {
		t.Fatal("a page past the end shows no empty state with a way back")
	}

	for _, tt := range []struct {
		name, query, field string
	}{
		{"unknown filter", "filter_type=Phone&filter=1", "filter_type"},
		{"filter without a field", "filter=abc", "filter_type"},
		{"UIN not a number", "filter_type=SubAgentUin&filter=12ab", "filter"},
		{"client UIN too long", "filter_type=ClientUin&filter=" + strings.Repeat("1", 21), "filter"},
		{"filter too long", "filter_type=Name&filter=" + strings.Repeat("x", 101), "filter"},
		{"control characters", "filter_type=Name&filter=a%00b", "filter"},
		{"unknown order", "order=sideways", "order"},
		{"page zero", "page=0", ""},
		{"page not a number", "page=two", ""},
		{"page too far", "page=10001", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := p.sandbox.Requests(partnerapi.ActionQuerySubAgentsDetailV2)
			r := p.get(staff, "/resellers?"+tt.query)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("answered %d, want 422", r.StatusCode)
			}
			id := "error-" + tt.field
			if tt.field == "" {
				id = "resellers-filter-error" // the form's own problem
			}
			if msg := byTestID(t, r.Body, id); len(msg) != 1 || text(msg[0]) == "" {
				t.Fatalf("no message beside %s", tt.field)
			}
			if len(byTestID(t, r.Body, "resellers")) != 0 {
				t.Fatal("a refused query still lists resellers")
			}
			if n := p.sandbox.Requests(partnerapi.ActionQuerySubAgentsDetailV2); n != before {
				t.Fatal("a refused query called the partner API")
			}
		})
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatUSDForTest writes an amount as the pages do, to two decimals.
func formatUSDForTest(a partnerapi.Amount) string { return "USD " + a.Decimal().StringFixed(2) }

func TestResellerPage(t *testing.T) {
	// A world where a reseller has more than a page of customers.
	p := newPortal(t, func(c *app.Config) { c.SandboxSeed = 10 })
	admin, staff := p.login("admin"), p.login("staff")
	var big partnerapi.QuerySubAgentsDetailV2ResponseData
	for _, r := range p.partnerResellers() {
		if r.CountOfCustomers > big.CountOfCustomers {
			big = r
		}
	}
	if big.CountOfCustomers <= 20 {
		t.Fatalf("no reseller of the sandbox has more than a page of customers (%d)", big.CountOfCustomers)
	}
	uin := uint64(big.SubAgentUin)
	path := "/resellers/" + uinText(uin)

	page := p.get(admin, path)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("reseller page: %d", page.StatusCode)
	}
	if n := byTestID(t, page.Body, "reseller-uin"); len(n) != 1 || text(n[0]) != uinText(uin) {
		t.Fatal("the page does not name the reseller's UIN")
	}
	customers := find(t, page.Body, func(n *html.Node) bool {
		return strings.HasPrefix(attr(n, "data-testid"), "reseller-customer-") && n.Data == "tr"
	})
	if len(customers) != 20 {
		t.Fatalf("%d customers on the first page, want 20", len(customers))
	}
	for _, row := range customers {
		cu := strings.TrimPrefix(attr(row, "data-testid"), "reseller-customer-")
		if len(findIn(row, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/customers/"+cu })) != 1 {
			t.Fatalf("customer %s does not link to its page", cu)
		}
	}
	second := p.get(admin, path+"?page=2")
	rest := find(t, second.Body, func(n *html.Node) bool {
		return strings.HasPrefix(attr(n, "data-testid"), "reseller-customer-") && n.Data == "tr"
	})
	if len(rest) != int(big.CountOfCustomers)-20 || len(byTestID(t, second.Body, "reseller-customers-prev")) != 1 {
		t.Fatalf("the second page has %d customers, want %d, and a way back", len(rest), big.CountOfCustomers-20)
	}

	// Without its key, the page says so and offers to store it.
	if len(byTestID(t, page.Body, "reseller-no-key")) != 1 {
		t.Fatal("the page does not say the reseller's key is missing")
	}
	key := byTestID(t, page.Body, "store-key")
	login := byTestID(t, page.Body, "create-login")
	if len(key) != 1 || len(login) != 1 {
		t.Fatal("the administrator is not offered to store the key and create a login")
	}
	users := p.get(admin, strings.SplitN(attr(login[0], "href"), "#", 2)[0])
	expires := time.Now().UTC().AddDate(0, 0, 90).Format(time.DateOnly)
	if selectedValue(t, users.Body, "role") != "subagent" || inputValue(t, users.Body, "subagent_uin") != uinText(uin) ||
		inputValue(t, users.Body, "expires") != expires {
		t.Fatalf("the user form is not preset to a login of reseller %d expiring %s", uin, expires)
	}
	creds := p.get(admin, strings.SplitN(attr(key[0], "href"), "#", 2)[0])
	if selectedValue(t, creds.Body, "kind") != "subagent" || inputValue(t, creds.Body, "subagent_uin") != uinText(uin) {
		t.Fatal("the key form is not preset to this reseller's key")
	}
	// Staff may not do either: the page says whom to ask.
	staffPage := p.get(staff, path)
	if len(byTestID(t, staffPage.Body, "store-key")) != 0 || len(byTestID(t, staffPage.Body, "create-login")) != 0 {
		t.Fatal("staff is offered the administrator's steps")
	}

	// With its key, its customers' credit as it sees it.
	p.storeResellerKey(uin)
	page = p.get(admin, path)
	if len(byTestID(t, page.Body, "reseller-no-key")) != 0 {
		t.Fatal("the page still says the key is missing")
	}
	credit := byTestID(t, page.Body, "customer-credit")
	if len(credit) != 20 || !strings.HasPrefix(text(credit[0]), "USD") {
		t.Fatalf("the customers' credit is not shown with the reseller's key")
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/resellers/" + uinText(p.directCustomers(1)[0]), http.StatusNotFound},
		{"/resellers/42", http.StatusNotFound},
		{"/resellers/0", http.StatusNotFound},
		{"/resellers/abc", http.StatusNotFound},
		{"/resellers/" + strings.Repeat("9", 25), http.StatusNotFound},
		{path + "?page=abc", http.StatusUnprocessableEntity},
		{path + "?page=-1", http.StatusUnprocessableEntity},
	} {
		if r := p.get(staff, tt.path); r.StatusCode != tt.status {
			t.Fatalf("%s answered %d, want %d", tt.path, r.StatusCode, tt.status)
		}
	}
}

func TestAdminFormPresets(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	for _, tt := range []struct {
		query                 string
		role, uin, expires    string
		kind, credentialUin   string
		credentialQueryPrefix string
	}{
		{"role=subagent&subagent_uin=12345&expires=2031-02-03", "subagent", "12345", "2031-02-03", "subagent", "12345", "kind=subagent&"},
		{"role=root&subagent_uin=12ab&expires=tomorrow", "staff", "", "", "distributor", "", "kind=vendor&"},
		{"role=finance&subagent_uin=" + strings.Repeat("1", 21) + "&expires=2031-13-45", "finance", "", "", "subagent", "", "kind=subagent&"},
	} {
		users := p.get(admin, "/admin/users/?"+tt.query)
		if got := []string{selectedValue(t, users.Body, "role"), inputValue(t, users.Body, "subagent_uin"), inputValue(t, users.Body, "expires")}; got[0] != tt.role || got[1] != tt.uin || got[2] != tt.expires {
			t.Fatalf("users form from %q: %v, want %s %q %q", tt.query, got, tt.role, tt.uin, tt.expires)
		}
		creds := p.get(admin, "/admin/credentials/?"+tt.credentialQueryPrefix+tt.query)
		if got := []string{selectedValue(t, creds.Body, "kind"), inputValue(t, creds.Body, "subagent_uin")}; got[0] != tt.kind || got[1] != tt.credentialUin {
			t.Fatalf("credentials form from %q: %v, want %s %q", tt.query, got, tt.kind, tt.credentialUin)
		}
	}
	// A preset is only where the form starts: the POST is checked as always.
	r := p.post(admin, "/admin/users/", url.Values{"username": {"sub-login"}, "role": {"subagent"}, "subagent_uin": {"12345"}, "expires": {"2031-02-03"}})
	if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-subagent_uin")) != 1 {
		t.Fatalf("a login for a reseller that is not the partner's: %d", r.StatusCode)
	}
}

func TestResellersDocumentedErrors(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	sub := p.subUin
	path := "/resellers/" + uinText(sub)

	problemIn := func(t *testing.T, body, code string) {
		t.Helper()
		want := english(t, "apierror."+code)
		problems := byTestID(t, body, "api-problem")
		for _, n := range problems {
			if strings.Contains(text(n), want) && len(findIn(n, func(n *html.Node) bool { return attr(n, "data-testid") == "api-request-id" })) == 1 {
				return
			}
		}
		t.Fatalf("no problem saying %q with its RequestId", want)
	}

	for _, code := range []string{"UnauthorizedOperation.UinNoAuth", "InvalidParameterValue", "AuthFailure.SignatureFailure", "InvalidParameter.Page"} {
		t.Run("list/"+code, func(t *testing.T) {
			p.advance(2 * time.Minute)
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQuerySubAgentsDetailV2, Code: code})
			r := p.get(staff, "/resellers")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("answered %d", r.StatusCode)
			}
			if code == "InvalidParameterValue" {
				// A family without a sentence of its own: the API's message.
				if n := byTestID(t, r.Body, "api-problem"); len(n) != 1 || !strings.Contains(text(n[0]), code) {
					t.Fatal("the API's own message is not shown")
				}
			} else {
				problemIn(t, r.Body, code)
			}
		})
	}
	t.Run("reseller's details", func(t *testing.T) {
		p.advance(2 * time.Minute)
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQuerySubAgentsDetailV2, Code: "UnauthorizedOperation.UinNoAuth"})
		r := p.get(staff, path)
		if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.Body, english(t, "apierror.UnauthorizedOperation.UinNoAuth")) {
			t.Fatalf("answered %d without the API's sentence", r.StatusCode)
		}
	})
	for _, code := range []string{"FailedOperation.InvalidSubAgentUin", "UnauthorizedOperation.UinNoAuth", "InvalidParameter.Page"} {
		t.Run("customers/"+code, func(t *testing.T) {
			p.advance(20 * time.Minute)
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryT1IndirectCustomersDetail, Code: code})
			r := p.get(staff, path)
			if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "reseller-uin")) != 1 {
				t.Fatalf("answered %d without the reseller's details", r.StatusCode)
			}
			problemIn(t, r.Body, code)
		})
	}
	p.storeResellerKey(sub)
	for _, code := range []string{"AuthFailure.SecretIdNotFound", "UnauthorizedOperation.UinNoAuth", "FailedOperation.UinNotReseller"} {
		t.Run("credit/"+code, func(t *testing.T) {
			p.advance(20 * time.Minute)
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryDirectCustomersCredit, Code: code})
			r := p.get(staff, path)
			if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "reseller-customers")) != 1 {
				t.Fatalf("answered %d without the customers", r.StatusCode)
			}
			problemIn(t, r.Body, code)
		})
	}
}
