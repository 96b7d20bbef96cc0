package handlers_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/web/i18n"
)

// pendingCustomers lists the customer applications pending for the
// distributor (reseller 0) or a reseller, straight from the sandbox.
func (p *portal) pendingCustomers(reseller uint64) []uint64 {
	p.t.Helper()
	cred := p.sandbox.DemoDistributor().Credential
	if reseller != 0 {
		cred = p.resellerCredential(reseller)
	}
	c := p.sandboxClient(cred)
	var out []uint64
	for a, err := range c.AllQueryPendingClientsV2(p.t.Context(), partnerapi.QueryPendingClientsV2Request{}) {
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, a.ClientUin)
	}
	return out
}

// pendingResellers lists the distributor's pending reseller applications.
func (p *portal) pendingResellers() []uint64 {
	p.t.Helper()
	c := p.sandboxClient(p.sandbox.DemoDistributor().Credential)
	var out []uint64
	for a, err := range c.AllQueryPendingSubAgentsV2(p.t.Context(), partnerapi.QueryPendingSubAgentsV2Request{}) {
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, uint64(a.SubAgentUin))
	}
	return out
}

// sandboxClient is a partner API client of the test's sandbox, beside the
// portal's: its calls count in the sandbox's requests too.
func (p *portal) sandboxClient(cred partnerapi.Credential) *partnerapi.Client {
	p.t.Helper()
	client, err := partnerapi.New(partnerapi.Config{Credential: cred, Endpoint: p.app.Keys.Host(), Scheme: "http", Limiters: partnerapi.NewLimiters(100)})
	if err != nil {
		p.t.Fatal(err)
	}
	return client
}

// resellerCredential is a second-level reseller's own demo key.
func (p *portal) resellerCredential(uin uint64) partnerapi.Credential {
	p.t.Helper()
	for _, c := range p.sandbox.Credentials() {
		if c.Uin == uin && c.Role == "subagent" {
			return partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey}
		}
	}
	p.t.Fatalf("the sandbox has no key of reseller %d", uin)
	return partnerapi.Credential{}
}

// storeResellerKey stores a reseller's own key, as an administrator would.
func (p *portal) storeResellerKey(uin uint64) {
	p.t.Helper()
	cred := p.resellerCredential(uin)
	_, err := p.app.Keys.Save(p.t.Context(), audit.CommandLine(), keyring.Input{
		Kind: store.CredentialSubagent, SubagentUin: strconv.FormatUint(uin, 10), SecretID: cred.SecretId, SecretKey: cred.SecretKey,
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

// decideHTMX posts a form as htmx does, for a fragment in answer.
func (p *portal) decideHTMX(c *http.Client, path string, form url.Values) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return p.do(c, req)
}

// getHTMX gets a fragment as htmx does.
func (p *portal) getHTMX(c *http.Client, path string) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+path, nil)
	req.Header.Set("HX-Request", "true")
	return p.do(c, req)
}

// writes counts the decisions the sandbox received.
func (p *portal) writes() int {
	return p.sandbox.Requests(partnerapi.ActionApproveClientApply) + p.sandbox.Requests(partnerapi.ActionApproveSubAgentApply)
}

// english is the catalogue's English sentence of a message.
func english(t *testing.T, id string, data ...map[string]any) string {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat.Localizer(i18n.English).T(id, data...)
}

func uinText(uin uint64) string { return strconv.FormatUint(uin, 10) }

func decide(kind string, uin uint64, verdict, reason string) url.Values {
	return url.Values{"kind": {kind}, "uin": {uinText(uin)}, "decision": {verdict}, "reason": {reason}}
}

// applicationUins lists the UINs of a list's rows on the applications page.
func applicationUins(t *testing.T, body, kind string) []string {
	t.Helper()
	var out []string
	for _, table := range byTestID(t, body, kind+"-applications-table") {
		for _, n := range findIn(table, func(n *html.Node) bool { return strings.HasPrefix(attr(n, "data-testid"), "application-") }) {
			out = append(out, strings.TrimPrefix(attr(n, "data-testid"), "application-"))
		}
	}
	return out
}

// findIn finds the elements under n for which match is true.
func findIn(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
		out = append(out, findIn(c, match)...)
	}
	return out
}

// refusalShown reports whether the applications page tells a refused
// decision: beside the row, above its list, or above the lists.
func refusalShown(t *testing.T, body string) bool {
	t.Helper()
	for _, id := range []string{"decide-error", "error-reason", "customer-refused", "reseller-refused", "decision-refused"} {
		if n := byTestID(t, body, id); len(n) == 1 && text(n[0]) != "" {
			return true
		}
	}
	return false
}

func TestApplicationsDecidedOneAtATime(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	customers, resellers := p.pendingCustomers(0), p.pendingResellers()
	if len(customers) < 3 || len(resellers) < 2 {
		t.Fatalf("the sandbox has %d customer and %d reseller applications", len(customers), len(resellers))
	}

	page := p.get(staff, "/applications")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("applications page: %d", page.StatusCode)
	}
	if got := applicationUins(t, page.Body, "customer"); len(got) != len(customers) {
		t.Fatalf("%d customer applications listed, want %d", len(got), len(customers))
	}
	if got := applicationUins(t, page.Body, "reseller"); len(got) != len(resellers) {
		t.Fatalf("%d reseller applications listed, want %d", len(got), len(resellers))
	}
	if len(byTestID(t, page.Body, "applications-as-of")) != 1 || len(byTestID(t, page.Body, "applications-refresh")) != 1 {
		t.Fatal("the page says neither when the lists were read nor offers to read them again")
	}
	reads := p.sandbox.Requests(partnerapi.ActionQueryPendingClientsV2)
	p.get(staff, "/applications")
	if n := p.sandbox.Requests(partnerapi.ActionQueryPendingClientsV2); n != reads {
		t.Fatalf("a second view read the list again (%d calls, was %d)", n, reads)
	}

	// Approve one in place, as htmx does.
	approve := customers[0]
	r := p.decideHTMX(staff, "/applications/decide", decide("customer", approve, "pass", ""))
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "decision-ok")) != 1 {
		t.Fatalf("approving %d answered %d: %s", approve, r.StatusCode, r.Body)
	}
	if len(byTestID(t, r.Body, "approve")) != 0 {
		t.Fatal("a decided application still offers the decision")
	}
	if _, err := p.db.CustomerByUin(t.Context(), approve); err != nil {
		t.Fatalf("the approved customer is not in the customers table: %v", err)
	}
	if rows := p.auditRows(partnerapi.ActionApproveClientApply); len(rows) < 2 {
		t.Fatalf("%d audit rows for the approval, want its intent and outcome", len(rows))
	}

	// Reject one without script: the page shows the outcome after a redirect.
	reject := customers[1]
	r = p.post(staff, "/applications/decide", decide("customer", reject, "reject", "  Documents do not match  "))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/applications?decision=") {
		t.Fatalf("rejecting answered %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	after := p.follow(staff, r)
	ok := byTestID(t, after.Body, "decision-ok")
	if len(ok) != 1 || attr(ok[0], "data-uin") != uinText(reject) ||
		!strings.Contains(text(ok[0]), english(t, "applications.outcome_reject", map[string]any{"Uin": uinText(reject)})) {
		t.Fatalf("the page does not show the rejection of %d", reject)
	}
	listed := applicationUins(t, after.Body, "customer")
	for _, gone := range []uint64{approve, reject} {
		for _, u := range listed {
			if u == uinText(gone) {
				t.Fatalf("decided application %d is still listed: the list was not read again", gone)
			}
		}
	}
	if len(listed) != len(customers)-2 {
		t.Fatalf("%d applications listed after two decisions, want %d", len(listed), len(customers)-2)
	}
	// The dashboard counts what is left.
	cards := p.get(staff, "/dashboard/cards")
	if n := byTestID(t, cards.Body, "pending-customers"); len(n) != 1 || text(n[0]) != strconv.Itoa(len(customers)-2) {
		t.Fatalf("the dashboard still counts the decided applications")
	}

	// A reseller application, approved: it becomes a reseller.
	newReseller := resellers[0]
	r = p.decideHTMX(staff, "/applications/decide", decide("reseller", newReseller, "pass", ""))
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "decision-ok")) != 1 {
		t.Fatalf("approving reseller %d answered %d", newReseller, r.StatusCode)
	}
	if got := p.get(staff, "/resellers/"+uinText(newReseller)); got.StatusCode != http.StatusOK {
		t.Fatalf("the new reseller's page answered %d", got.StatusCode)
	}
	// And one rejected.
	r = p.decideHTMX(staff, "/applications/decide", decide("reseller", resellers[1], "reject", "Not a reseller"))
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "decision-ok")) != 1 {
		t.Fatalf("rejecting reseller %d answered %d", resellers[1], r.StatusCode)
	}
	if got := applicationUins(t, p.get(staff, "/applications").Body, "reseller"); len(got) != len(resellers)-2 {
		t.Fatalf("%d reseller applications listed after two decisions, want %d", len(got), len(resellers)-2)
	}
}

func TestApplicationDecisionBadInput(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	customers, resellers := p.pendingCustomers(0), p.pendingResellers()
	direct := p.directCustomers(1)[0]
	p.get(staff, "/applications") // the lists are read once, as a person would see them
	long := strings.Repeat("é", 201)

	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		field  string // the test id of the message, "" for the row's own
	}{
		{"no kind", "/applications/decide", url.Values{"uin": {uinText(customers[0])}, "decision": {"pass"}}, http.StatusUnprocessableEntity, "decide-error"},
		{"unknown kind", "/applications/decide", decide("partner", customers[0], "pass", ""), http.StatusUnprocessableEntity, "decide-error"},
		{"unknown decision", "/applications/decide", decide("customer", customers[0], "maybe", ""), http.StatusUnprocessableEntity, "decide-error"},
		{"empty reason", "/applications/decide", decide("customer", customers[0], "reject", "   "), http.StatusUnprocessableEntity, "error-reason"},
		{"reason too long", "/applications/decide", decide("customer", customers[0], "reject", long), http.StatusUnprocessableEntity, "error-reason"},
		{"reason with control characters", "/applications/decide", decide("customer", customers[0], "reject", "no\x00pe"), http.StatusUnprocessableEntity, "error-reason"},
		{"no UIN", "/applications/decide", url.Values{"kind": {"customer"}, "decision": {"pass"}}, http.StatusUnprocessableEntity, "decide-error"},
		{"UIN not a number", "/applications/decide", url.Values{"kind": {"customer"}, "uin": {"12ab"}, "decision": {"pass"}}, http.StatusUnprocessableEntity, "decide-error"},
		{"UIN too long", "/applications/decide", url.Values{"kind": {"customer"}, "uin": {strings.Repeat("9", 21)}, "decision": {"pass"}}, http.StatusUnprocessableEntity, "decide-error"},
		{"UIN zero", "/applications/decide", url.Values{"kind": {"customer"}, "uin": {"0"}, "decision": {"pass"}}, http.StatusUnprocessableEntity, "decide-error"},
		{"a customer, not an applicant", "/applications/decide", decide("customer", direct, "pass", ""), http.StatusUnprocessableEntity, "decide-error"},
		{"a reseller applicant as a customer", "/applications/decide", decide("customer", resellers[0], "pass", ""), http.StatusUnprocessableEntity, "decide-error"},
		{"a customer applicant as a reseller", "/applications/decide", decide("reseller", customers[0], "pass", ""), http.StatusUnprocessableEntity, "decide-error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := p.writes()
			r := p.decideHTMX(staff, tt.path, tt.form)
			if r.StatusCode != tt.status {
				t.Fatalf("answered %d, want %d", r.StatusCode, tt.status)
			}
			if msg := byTestID(t, r.Body, tt.field); len(msg) != 1 || text(msg[0]) == "" {
				t.Fatalf("no message %s beside the form: %s", tt.field, r.Body)
			}
			// Without script the whole page comes back with the same refusal.
			page := p.post(staff, tt.path, tt.form)
			if page.StatusCode != tt.status || len(byTestID(t, page.Body, "application-lists")) != 1 {
				t.Fatalf("without script: %d", page.StatusCode)
			}
			if !refusalShown(t, page.Body) {
				t.Fatal("without script the page does not say what was refused")
			}
			if n := p.writes(); n != before {
				t.Fatalf("%d decisions were sent", n-before)
			}
			if n := len(p.auditRows(partnerapi.ActionApproveClientApply)) + len(p.auditRows(partnerapi.ActionApproveSubAgentApply)); n != 0 {
				t.Fatalf("%d write audit rows after refused input", n)
			}
		})
	}

	t.Run("bulk", func(t *testing.T) {
		bulk := func(uins []string, verdict, reason string) url.Values {
			return url.Values{"kind": {"customer"}, "uin": uins, "customer_decision": {verdict}, "customer_reason": {reason}}
		}
		many := make([]string, 51)
		for i := range many {
			many[i] = strconv.Itoa(1000 + i)
		}
		cases := []struct {
			name   string
			form   url.Values
			testID string
		}{
			{"nothing selected", bulk(nil, "pass", ""), "bulk-customer-error"},
			{"too many", bulk(many, "pass", ""), "bulk-customer-error"},
			{"reject without a reason", bulk([]string{uinText(customers[0]), uinText(customers[1])}, "reject", ""), "error-customer_reason"},
			{"one not pending", bulk([]string{uinText(customers[0]), uinText(direct)}, "pass", ""), "bulk-customer-error"},
			{"a word", bulk([]string{uinText(customers[0]), "x"}, "pass", ""), "bulk-customer-error"},
		}
		for _, c := range cases {
			before := p.writes()
			r := p.post(staff, "/applications/bulk", c.form)
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, c.testID)) != 1 {
				t.Fatalf("%s: answered %d without %s", c.name, r.StatusCode, c.testID)
			}
			if n := p.writes(); n != before {
				t.Fatalf("%s: %d decisions were sent", c.name, n-before)
			}
		}
	})
}

func TestApplicationsBulkDecision(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	customers := p.pendingCustomers(0)
	p.get(staff, "/applications")

	form := url.Values{"kind": {"customer"}, "uin": {uinText(customers[0]), uinText(customers[1])}, "customer_decision": {"pass"}}
	r := p.post(staff, "/applications/bulk", form)
	id := jobIDFrom(t, r)
	job := p.waitJob(id)
	if job.Status != store.JobDone || job.Done != 2 || job.Total != 2 {
		t.Fatalf("bulk job %s, %d of %d done", job.Status, job.Done, job.Total)
	}
	items, err := p.db.JobItems(t.Context(), id, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if it.Status != store.ItemOK || it.Key != uinText(customers[i]) {
			t.Fatalf("item %d: %s %s", i, it.Key, it.Status)
		}
		if _, err := p.db.CustomerByUin(t.Context(), customers[i]); err != nil {
			t.Fatalf("approved customer %d is not in the customers table: %v", customers[i], err)
		}
	}
	if detail := p.get(staff, "/jobs/"+itoa(id)); detail.StatusCode != http.StatusOK {
		t.Fatalf("the job's page answered %d", detail.StatusCode)
	}
	// The decision reads as such on the applications page too.
	page := p.get(staff, "/applications?decision="+itoa(id))
	if n := len(byTestID(t, page.Body, "decision-ok")); n != 2 {
		t.Fatalf("the page shows %d outcomes of the bulk decision, want 2", n)
	}

	// A rejection of several with one reason; one of them fails at Tencent Cloud.
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionApproveClientApply, Code: "FailedOperation.ClientNotApply"})
	form = url.Values{"kind": {"customer"}, "uin": {uinText(customers[2]), uinText(customers[3])}, "customer_decision": {"reject"},
		"customer_reason": {"Incomplete"}}
	job = p.waitJob(jobIDFrom(t, p.post(staff, "/applications/bulk", form)))
	if job.Done != 1 || job.Failed != 1 {
		t.Fatalf("bulk rejection: %d done, %d failed; want 1 and 1", job.Done, job.Failed)
	}
	detail := p.get(staff, "/jobs/"+itoa(job.ID))
	if items := byTestID(t, detail.Body, "job-items"); len(items) != 1 || !strings.Contains(text(items[0]), english(t, "apierror.FailedOperation.ClientNotApply")) {
		t.Fatal("the job's page does not say why the failed item failed")
	}
}

func TestApplicationUnknownOutcomeIsCheckedAgain(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	uin := p.pendingCustomers(0)[0]
	p.get(staff, "/applications")

	// The approval reaches Tencent Cloud but its answer is lost, and the
	// engine's read-back fails too: the outcome stays unknown.
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionApproveClientApply, Drop: true})
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryPendingClientsV2, Code: "UnauthorizedOperation.UinNoAuth"})
	r := p.decideHTMX(staff, "/applications/decide", decide("customer", uin, "pass", ""))
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "decision-unknown")) != 1 {
		t.Fatalf("a lost answer is not shown as unknown: %d %s", r.StatusCode, r.Body)
	}
	check := byTestID(t, r.Body, "decision-check")
	if len(check) != 1 {
		t.Fatal("no check-again button for an unknown outcome")
	}
	if len(byTestID(t, r.Body, "approve")) != 0 {
		t.Fatal("an unknown outcome offers to send the decision again")
	}
	job := byTestID(t, r.Body, "decision")[0]
	id, _ := strconv.ParseInt(attr(job, "data-job"), 10, 64)
	writes := p.writes()

	// Someone else cannot check it.
	other := p.login("subagent")
	if got := p.decideHTMX(other, "/applications/decisions/"+itoa(id)+"/check", nil); got.StatusCode != http.StatusNotFound {
		t.Fatalf("another user checked the decision: %d", got.StatusCode)
	}

	r = p.decideHTMX(staff, "/applications/decisions/"+itoa(id)+"/check", nil)
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "decision-ok")) != 1 {
		t.Fatalf("checking again did not find the approval: %d %s", r.StatusCode, r.Body)
	}
	if n := p.writes(); n != writes {
		t.Fatal("checking again sent the decision again")
	}
	if _, err := p.db.CustomerByUin(t.Context(), uin); err != nil {
		t.Fatalf("the customer confirmed approved is not in the customers table: %v", err)
	}
	if rows := p.auditRows("job.check"); len(rows) != 1 {
		t.Fatalf("%d audit rows of the check, want 1", len(rows))
	}
}

func TestApplicationsDocumentedErrors(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")

	t.Run("lists", func(t *testing.T) {
		for _, tt := range []struct{ action, code, list string }{
			{partnerapi.ActionQueryPendingClientsV2, "UnauthorizedOperation.UinNoAuth", "customer"},
			{partnerapi.ActionQueryPendingClientsV2, "InvalidParameter.Page", "customer"},
			{partnerapi.ActionQueryPendingClientsV2, "AuthFailure.SecretIdNotFound", "customer"},
			{partnerapi.ActionQueryPendingClientsV2, "FailedOperation.UinNotReseller", "customer"},
			{partnerapi.ActionQueryPendingSubAgentsV2, "UnauthorizedOperation.UinNoAuth", "reseller"},
			{partnerapi.ActionQueryPendingSubAgentsV2, "InvalidParameter.Page", "reseller"},
			{partnerapi.ActionQueryPendingSubAgentsV2, "FailedOperation.UinNotAgent", "reseller"},
		} {
			t.Run(tt.action+"/"+tt.code, func(t *testing.T) {
				p.advance(2 * time.Minute) // what the cache holds is stale
				p.sandbox.InjectFault(sandbox.Fault{Action: tt.action, Code: tt.code})
				page := p.get(staff, "/applications")
				if page.StatusCode != http.StatusOK {
					t.Fatalf("the page answered %d", page.StatusCode)
				}
				section := byTestID(t, page.Body, tt.list+"-applications")
				if len(section) != 1 {
					t.Fatal("the list's section is missing")
				}
				problem := findIn(section[0], func(n *html.Node) bool { return attr(n, "data-testid") == "api-problem" })
				if len(problem) != 1 || !strings.Contains(text(problem[0]), english(t, "apierror."+tt.code)) {
					t.Fatalf("the list does not say %q", english(t, "apierror."+tt.code))
				}
				if len(findIn(problem[0], func(n *html.Node) bool { return attr(n, "data-testid") == "api-request-id" })) != 1 {
					t.Fatal("no RequestId beside the problem")
				}
				p.advance(time.Minute) // the failure is not remembered for the next case
			})
		}
	})

	t.Run("not allowlisted", func(t *testing.T) {
		p.advance(2 * time.Minute)
		if err := p.sandbox.SetAllowlisted(p.sandbox.DemoDistributor().Uin, partnerapi.ActionQueryPendingClientsV2, false); err != nil {
			t.Fatal(err)
		}
		defer p.sandbox.ResetAllowlist()
		page := p.get(staff, "/applications")
		if note := byTestID(t, page.Body, "api-note"); len(note) != 1 || !strings.Contains(text(note[0]), english(t, "apierror.not_allowlisted")) {
			t.Fatal("a partner without the allowlist is not told so")
		}
		p.advance(time.Minute)
	})

	decisions := []struct{ kind, code string }{
		{"customer", "FailedOperation.ClientNotApply"},
		{"customer", "InvalidParameterValue.UinAlreadyClient"},
		{"customer", "InvalidParameterValue.UinAlreadyAppliedClient"},
		{"customer", "FailedOperation.ClientBuySP"},
		{"customer", "FailedOperation.ExceedMaxBindCount"},
		{"customer", "FailedOperation.BindOrganizationAccount"},
		{"customer", "FailedOperation.UinAlreadyKA"},
		{"customer", "InvalidParameterValue.UinIsSubAccount"},
		{"customer", "UnauthorizedOperation.UinNoAuth"},
		{"reseller", "FailedOperation.ResellerNotApply"},
		{"reseller", "InvalidParameterValue.UinAlreadyReseller"},
		{"reseller", "FailedOperation.UinAppliedAgent"},
		{"reseller", "UnauthorizedOperation.UinNoAuth"},
	}
	for _, tt := range decisions {
		t.Run(tt.kind+"/"+tt.code, func(t *testing.T) {
			p.advance(2 * time.Minute)
			p.get(staff, "/applications")
			action, uin := partnerapi.ActionApproveClientApply, p.pendingCustomers(0)[0]
			if tt.kind == "reseller" {
				action, uin = partnerapi.ActionApproveSubAgentApply, p.pendingResellers()[0]
			}
			p.sandbox.InjectFault(sandbox.Fault{Action: action, Code: tt.code})
			r := p.decideHTMX(staff, "/applications/decide", decide(tt.kind, uin, "pass", ""))
			failed := byTestID(t, r.Body, "decision-failed")
			if r.StatusCode != http.StatusOK || len(failed) != 1 || !strings.Contains(text(failed[0]), english(t, "apierror."+tt.code)) {
				t.Fatalf("the refusal is not told in plain words: %d %s", r.StatusCode, r.Body)
			}
			if len(findIn(failed[0], func(n *html.Node) bool { return attr(n, "data-testid") == "api-request-id" })) != 1 {
				t.Fatal("no RequestId beside the refusal")
			}
			if len(byTestID(t, r.Body, "reject")) != 1 {
				t.Fatal("a refused approval does not offer to reject the application instead")
			}
		})
	}

	t.Run("approval not allowlisted", func(t *testing.T) {
		p.advance(2 * time.Minute)
		p.get(staff, "/applications")
		if err := p.sandbox.SetAllowlisted(p.sandbox.DemoDistributor().Uin, partnerapi.ActionApproveClientApply, false); err != nil {
			t.Fatal(err)
		}
		defer p.sandbox.ResetAllowlist()
		r := p.decideHTMX(staff, "/applications/decide", decide("customer", p.pendingCustomers(0)[0], "pass", ""))
		if failed := byTestID(t, r.Body, "decision-failed"); len(failed) != 1 || !strings.Contains(text(failed[0]), english(t, "apierror.not_allowlisted")) {
			t.Fatalf("an approval without the allowlist is not told so: %s", r.Body)
		}
	})

	t.Run("the list cannot be checked", func(t *testing.T) {
		p.advance(2 * time.Minute)
		uin := p.pendingCustomers(0)[0]
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryPendingClientsV2, Code: "UnauthorizedOperation.UinNoAuth"})
		before := p.writes()
		r := p.decideHTMX(staff, "/applications/decide", decide("customer", uin, "pass", ""))
		msg := byTestID(t, r.Body, "decide-error")
		if r.StatusCode != http.StatusBadGateway || len(msg) != 1 || !strings.Contains(text(msg[0]), english(t, "apierror.UnauthorizedOperation.UinNoAuth")) {
			t.Fatalf("answered %d without the API's sentence beside the form: %s", r.StatusCode, r.Body)
		}
		if len(byTestID(t, r.Body, "approve")) != 1 {
			t.Fatal("the row's forms are gone")
		}
		if p.writes() != before {
			t.Fatal("a decision was sent without checking the list")
		}
		p.advance(time.Minute)
	})

	t.Run("a binding refusal the sandbox keeps", func(t *testing.T) {
		// An applicant whose account cannot be bound: approving is refused
		// for the reason, and it can be rejected instead.
		inv := p.sandboxClient(p.sandbox.DemoDistributor().Credential)
		link, err := inv.CreateAndSendClientInvitationMail(t.Context(), &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "sp@example.com", InvitationRole: "Client"})
		if err != nil {
			t.Fatal(err)
		}
		token := jobs.InvitationToken(link.InvitationLink)
		applicant, err := p.sandbox.AcceptInvitation(token, "FailedOperation.ClientBuySP")
		if err != nil {
			t.Fatal(err)
		}
		p.advance(2 * time.Minute)
		p.get(staff, "/applications")
		r := p.decideHTMX(staff, "/applications/decide", decide("customer", applicant, "pass", ""))
		if failed := byTestID(t, r.Body, "decision-failed"); len(failed) != 1 || !strings.Contains(text(failed[0]), english(t, "apierror.FailedOperation.ClientBuySP")) {
			t.Fatalf("the binding refusal is not told: %s", r.Body)
		}
		r = p.decideHTMX(staff, "/applications/decide", decide("customer", applicant, "reject", "Bought a Savings Plan"))
		if len(byTestID(t, r.Body, "decision-ok")) != 1 {
			t.Fatalf("the refused applicant could not be rejected: %s", r.Body)
		}
	})
}

func TestSubagentDecidesOnlyItsOwnApplications(t *testing.T) {
	p := newPortal(t)
	sub := p.login("subagent")

	// Without its reseller's key, the page says so instead of listing.
	page := p.get(sub, "/applications")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("the page answered %d", page.StatusCode)
	}
	want := english(t, "partner.no_reseller_key", map[string]any{"Uin": p.subUin})
	if note := byTestID(t, page.Body, "api-note"); len(note) == 0 || !strings.Contains(text(note[0]), want) {
		t.Fatalf("the page does not say the reseller's key is missing")
	}
	if len(byTestID(t, page.Body, "reseller-applications")) != 0 {
		t.Fatal("a reseller's login sees the distributor's reseller applications")
	}
	before := p.writes()
	if r := p.decideHTMX(sub, "/applications/decide", decide("customer", p.pendingCustomers(p.subUin)[0], "pass", "")); r.StatusCode != http.StatusForbidden {
		t.Fatalf("deciding without the reseller's key answered %d", r.StatusCode)
	}

	p.storeResellerKey(p.subUin)
	own, distributors := p.pendingCustomers(p.subUin), p.pendingCustomers(0)
	page = p.get(sub, "/applications")
	listed := applicationUins(t, page.Body, "customer")
	if len(listed) != len(own) {
		t.Fatalf("the reseller's login sees %d applications, want its own %d", len(listed), len(own))
	}
	for _, u := range listed {
		for _, d := range distributors {
			if u == uinText(d) {
				t.Fatalf("the reseller's login sees the distributor's application %s", u)
			}
		}
	}
	// Another partner's applicant, by form tampering: refused, nothing sent.
	var another uint64
	for _, rs := range p.partnerResellers() {
		if uint64(rs.SubAgentUin) != p.subUin {
			another = uint64(rs.SubAgentUin)
			break
		}
	}
	anothers := p.pendingCustomers(another)
	if len(anothers) == 0 {
		t.Fatalf("reseller %d has no pending applications", another)
	}
	for _, uin := range []uint64{distributors[0], anothers[0]} {
		r := p.decideHTMX(sub, "/applications/decide", decide("customer", uin, "pass", ""))
		if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "decide-error")) != 1 {
			t.Fatalf("another partner's applicant %d: %d", uin, r.StatusCode)
		}
		for _, u := range listed {
			if u == uinText(uin) {
				t.Fatalf("the reseller's login sees another partner's application %d", uin)
			}
		}
	}
	var r response
	r = p.post(sub, "/applications/bulk", url.Values{"kind": {"customer"}, "uin": {uinText(own[0]), uinText(distributors[0])}, "customer_decision": {"pass"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bulk decision with another partner's applicant: %d", r.StatusCode)
	}
	for _, kind := range []string{"reseller"} {
		if r := p.decideHTMX(sub, "/applications/decide", decide(kind, p.pendingResellers()[0], "pass", "")); r.StatusCode != http.StatusForbidden {
			t.Fatalf("a reseller's login decided a %s application: %d", kind, r.StatusCode)
		}
		r := p.post(sub, "/applications/bulk", url.Values{"kind": {kind}, "uin": {uinText(p.pendingResellers()[0])}, "reseller_decision": {"pass"}})
		if r.StatusCode != http.StatusForbidden || len(byTestID(t, r.Body, "decision-refused")) != 1 {
			t.Fatalf("a reseller's login decided %s applications in bulk: %d", kind, r.StatusCode)
		}
	}
	if n := p.writes(); n != before {
		t.Fatalf("%d decisions were sent for refused requests", n-before)
	}

	// Its own: approved with its own key, and filed under the reseller.
	r = p.decideHTMX(sub, "/applications/decide", decide("customer", own[0], "pass", ""))
	if len(byTestID(t, r.Body, "decision-ok")) != 1 {
		t.Fatalf("the reseller's login could not approve its own applicant: %s", r.Body)
	}
	row, err := p.db.CustomerByUin(t.Context(), own[0])
	if err != nil || row.ResellerUin != p.subUin {
		t.Fatalf("the approved customer is filed under %d (%v), want reseller %d", row.ResellerUin, err, p.subUin)
	}
	decision := attr(byTestID(t, r.Body, "decision")[0], "data-job")

	// Others' decisions stay theirs, both ways.
	staff := p.login("staff")
	p.get(staff, "/applications")
	staffDecision := p.post(staff, "/applications/decide", decide("customer", distributors[0], "reject", "No"))
	staffID := strings.TrimSuffix(strings.TrimPrefix(staffDecision.Header.Get("Location"), "/applications?decision="), "#decision")
	if got := p.get(sub, "/applications?decision="+staffID); len(byTestID(t, got.Body, "decision")) != 0 {
		t.Fatal("a reseller's login sees staff's decision")
	}
	if got := p.get(staff, "/applications?decision="+decision); len(byTestID(t, got.Body, "decision")) != 0 {
		t.Fatal("staff sees a reseller login's decision on the applications page")
	}
	if got := p.getHTMX(sub, "/applications/decisions/"+staffID); got.StatusCode != http.StatusNotFound {
		t.Fatalf("a reseller's login polled staff's decision: %d", got.StatusCode)
	}

	// And the resellers pages are not theirs by any route.
	for _, path := range []string{"/resellers", "/resellers/", "/resellers/" + uinText(p.subUin), "/resellers/" + uinText(p.subUin) + "?page=2"} {
		if r := p.get(sub, path); r.StatusCode != http.StatusForbidden {
			t.Fatalf("%s answered %d to a reseller's login", path, r.StatusCode)
		}
	}
}

func TestFinanceSeesNoApplications(t *testing.T) {
	p := newPortal(t)
	finance := p.login("finance")
	for _, path := range []string{"/applications", "/resellers"} {
		if r := p.get(finance, path); r.StatusCode != http.StatusForbidden {
			t.Fatalf("finance opened %s: %d", path, r.StatusCode)
		}
	}
	if r := p.post(finance, "/applications/decide", decide("customer", p.pendingCustomers(0)[0], "pass", "")); r.StatusCode != http.StatusForbidden {
		t.Fatalf("finance decided: %d", r.StatusCode)
	}
	dash := p.get(finance, "/")
	if links := find(t, dash.Body, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "/applications") }); len(links) != 0 {
		t.Fatal("finance's dashboard links to the applications page")
	}
}

func TestDashboardCountsLinkToApplications(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	cards := p.get(staff, "/dashboard/cards")
	for _, id := range []string{"pending-customers-link", "pending-resellers-link"} {
		link := byTestID(t, cards.Body, id)
		if len(link) != 1 || !strings.HasPrefix(attr(link[0], "href"), "/applications") {
			t.Fatalf("the dashboard's %s does not lead to the applications page", id)
		}
	}
}

// TestServiceMessagesExist checks the message ids the applications and
// resellers services name: the catalogue test does not read those packages.
func TestServiceMessagesExist(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, id := range cat.MessageIDs() {
		ids[id] = true
	}
	literal := regexp.MustCompile(`"((?:applications|resellers)\.[a-z_]+)"`)
	found := 0
	for _, dir := range []string{"../../applications", "../../resellers"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
				found++
				if !ids[m[1]] {
					t.Errorf("%s names message %q, which the catalogue lacks", f, m[1])
				}
			}
		}
	}
	if found < 10 {
		t.Fatalf("found only %d message ids in the services", found)
	}
}
