package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/audit"
	"resellerportal/keyring"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// customerWithKey is a direct customer the sandbox has a key of.
func (p *portal) customerWithKey() sandbox.Credential {
	p.t.Helper()
	for _, c := range p.sandbox.Credentials() {
		if c.Role == "customer" {
			if _, err := p.db.CustomerByUin(p.t.Context(), c.Uin); err == nil {
				if row := p.row(c.Uin); row.ResellerUin == 0 {
					return c
				}
			}
		}
	}
	p.t.Fatal("the sandbox has no key of a direct customer")
	return sandbox.Credential{}
}

func TestCustomersOwnView(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	cred := p.customerWithKey()
	uin := strconv.FormatUint(cred.Uin, 10)
	staff, admin := p.login("staff"), p.login("admin")

	// The customer's page links to the view.
	if r := p.get(staff, "/customers/"+uin); len(byTestID(t, r.Body, "customer-own-link")) != 1 {
		t.Error("the customer's page does not link to its own view")
	}
	// Without the customer's key, the page says so; an administrator is
	// offered to store it, preset for the customer.
	r := p.get(staff, "/customers/"+uin+"/own")
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "api-note")) != 1 || len(byTestID(t, r.Body, "own-store-key")) != 0 {
		t.Fatalf("without a key, as staff: status %d", r.StatusCode)
	}
	r = p.get(admin, "/customers/"+uin+"/own")
	links := byTestID(t, r.Body, "own-store-key")
	if len(links) != 1 || !strings.Contains(attr(links[0], "href"), "kind=customer") {
		t.Fatalf("without a key, as admin: %d links", len(links))
	}
	form := p.get(admin, attr(links[0], "href"))
	if inputValue(t, form.Body, "subagent_uin") != uin {
		t.Errorf("the key form is not preset for %s", uin)
	}

	// A partner's key is refused as the customer's (it may not read a
	// customer's own quota); the customer's own is stored.
	dist := p.sandbox.DemoDistributor().Credential
	if _, err := p.app.Keys.Save(t.Context(), audit.CommandLine(), keyring.Input{Kind: store.CredentialCustomer, SubagentUin: uin,
		SecretID: dist.SecretId, SecretKey: dist.SecretKey}); err == nil {
		t.Error("a distributor's key was stored as a customer's")
	}
	if _, err := p.app.Keys.Save(t.Context(), audit.CommandLine(), keyring.Input{Kind: store.CredentialCustomer, SubagentUin: uin,
		SecretID: cred.SecretId, SecretKey: cred.SecretKey}); err != nil {
		t.Fatal(err)
	}

	month := p.lastMonth()
	r = p.get(staff, "/customers/"+uin+"/own?month="+month)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	for _, id := range []string{"own-credit", "own-explorer-total"} {
		if len(byTestID(t, r.Body, id)) != 1 {
			t.Errorf("no %s", id)
		}
	}
	if len(byTestID(t, r.Body, "own-summary-row")) == 0 && len(byTestID(t, r.Body, "own-summary-none")) == 0 {
		t.Error("neither the bill's products nor that nothing was spent")
	}
	if len(byTestID(t, r.Body, "own-detail-row")) == 0 && len(byTestID(t, r.Body, "own-details-none")) == 0 {
		t.Error("neither detail lines nor that nothing was spent")
	}
	if vouchers := byTestID(t, r.Body, "own-voucher-row"); len(vouchers) > 0 {
		href := attr(find(t, r.Body, func(n *html.Node) bool { return n.Data == "a" && strings.Contains(attr(n, "href"), "voucher=") })[0], "href")
		u := p.get(staff, href)
		if len(byTestID(t, u.Body, "own-usage-row")) == 0 && len(byTestID(t, u.Body, "own-usage-none")) == 0 {
			t.Error("a voucher's usage is not shown")
		}
	}

	// The customer's own bill file, read with its own key.
	r = p.post(staff, "/customers/"+uin+"/own/file", url.Values{"month": {month}, "type": {"L3"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/bills/files/") {
		t.Fatalf("own file: status %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	page := p.follow(staff, r)
	if links := byTestID(t, page.Body, "file-download"); len(links) != 1 || !strings.Contains(attr(links[0], "href"), "L3-bill-"+uin) {
		t.Errorf("own file link %v", links)
	}
	if rows := p.auditRows("billfile.request"); len(rows) != 1 || rows[0].Params["uin_type"] != "own" || rows[0].TargetUin != cred.Uin {
		t.Errorf("audit rows %+v", rows)
	}
	if r := p.post(staff, "/customers/"+uin+"/own/file", url.Values{"month": {month}, "type": {"L1"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/customers/"+uin+"/own" {
		t.Errorf("a bad type: status %d", r.StatusCode)
	}

	tests := []struct {
		name, who, path string
		status          int
	}{
		{"bad month", "staff", "/customers/" + uin + "/own?month=2025-13", http.StatusUnprocessableEntity},
		{"bad page", "staff", "/customers/" + uin + "/own?page=0", http.StatusUnprocessableEntity},
		{"bad voucher", "finance", "/customers/" + uin + "/own?voucher=x", http.StatusUnprocessableEntity},
		{"unknown customer", "staff", "/customers/999999999999/own", http.StatusNotFound},
		{"another reseller's login", "subagent", "/customers/" + uin + "/own", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := p.get(p.login(tc.who), tc.path); r.StatusCode != tc.status {
				t.Errorf("status %d, want %d", r.StatusCode, tc.status)
			}
		})
	}
	if r := p.post(p.login("subagent"), "/customers/"+uin+"/own/file", url.Values{"month": {month}, "type": {"L3"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("another reseller's login asks for the own file: status %d", r.StatusCode)
	}
	t.Run("API error in words", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: "QueryCustomerBillingQuota", Code: "InternalError", Count: 10})
		defer p.sandbox.ClearFaults()
		p.advance(6 * time.Minute) // past the quota's freshness
		r := p.get(p.login("staff"), "/customers/"+uin+"/own?fresh=1&month="+month)
		if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "api-request-id")) == 0 {
			t.Errorf("status %d; the quota's failure is not told with its RequestId", r.StatusCode)
		}
	})
}
