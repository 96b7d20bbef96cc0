package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"resellerportal/billfiles"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// lastMonth is the month before the portal's clock's, YYYY-MM.
func (p *portal) lastMonth() string {
	return p.clock.now().UTC().AddDate(0, -1, 0).Format("2006-01")
}

func TestBillFileThroughItsReadyState(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")
	uin := strconv.FormatUint(p.directCustomers(1)[0], 10)

	// The form is prefilled from the query a customer's month links with.
	r := p.get(staff, "/bills/files?uin="+uin+"&month=2025-03")
	if r.StatusCode != http.StatusOK || inputValue(t, r.Body, "customer") != uin || inputValue(t, r.Body, "month") != "2025-03" {
		t.Fatalf("prefilled form: status %d", r.StatusCode)
	}
	if len(byTestID(t, r.Body, "billfiles-none")) != 1 {
		t.Error("no empty state before any request")
	}

	r = p.post(staff, "/bills/files", url.Values{"customer": {uin}, "month": {p.lastMonth()}, "type": {"billDetail"}, "language": {"zh_cn"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/bills/files/") {
		t.Fatalf("request: status %d, %s", r.StatusCode, r.Header.Get("Location"))
	}
	href := r.Header.Get("Location")
	// The first answer is "generating": the page says so and polls.
	first := p.follow(staff, r)
	states := byTestID(t, first.Body, "file-state")
	if len(states) != 1 || attr(states[0], "data-state") != billfiles.Generating || attr(states[0], "hx-trigger") != "every 2s" {
		t.Fatalf("first state: %d regions", len(states))
	}
	if len(byTestID(t, first.Body, "file-check")) != 1 {
		t.Error("no check-again button for a browser without script")
	}
	// htmx's poll, a moment later, gets the region alone, ready now, and
	// no longer polling.
	p.advance(billfiles.CheckEvery)
	poll := p.htmx(staff, http.MethodGet, href, nil)
	states = byTestID(t, poll.Body, "file-state")
	if len(states) != 1 || attr(states[0], "data-state") != billfiles.Ready || attr(states[0], "hx-trigger") != "" {
		t.Fatalf("after a poll: %s", poll.Body)
	}
	links := byTestID(t, poll.Body, "file-download")
	if len(links) != 1 || !strings.Contains(attr(links[0], "href"), "/sandbox/files/billDetail-Customer-") {
		t.Fatalf("download link %v", links)
	}
	if len(byTag(t, poll.Body, "nav")) != 0 {
		t.Error("the poll answered a whole page")
	}
	// The link is listed with the person's requests, and audited once.
	list := p.get(staff, "/bills/files")
	if items := byTestID(t, list.Body, "file-item"); len(items) != 1 || attr(items[0], "data-state") != billfiles.Ready {
		t.Errorf("requests listed: %d", len(items))
	}
	rows := p.auditRows("billfile.request")
	if len(rows) != 1 || rows[0].TargetUin != p.directCustomers(1)[0] || rows[0].Params["language"] != "zh_cn" || rows[0].Outcome != store.OutcomeOK {
		t.Errorf("audit rows %+v", rows)
	}
	// Someone else cannot see the request.
	if r := p.get(p.login("finance"), href); r.StatusCode != http.StatusNotFound {
		t.Errorf("another person's request: status %d", r.StatusCode)
	}
	// Past its life the link is no longer offered.
	p.advance(billfiles.LinkLife + time.Minute)
	r = p.get(p.login("staff"), href) // a new session: the old one is idle past its time
	if states := byTestID(t, r.Body, "file-state"); len(states) != 1 || attr(states[0], "data-state") != billfiles.Expired {
		t.Fatalf("after the link's life: %s", r.Body)
	}
	if len(byTestID(t, r.Body, "file-download")) != 0 {
		t.Error("an expired link is still offered")
	}
}

func TestBillFileRequestRefused(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")
	uin := strconv.FormatUint(p.directCustomers(1)[0], 10)
	month := p.lastMonth()
	tests := []struct {
		name    string
		form    url.Values
		field   string // the field named, "" for the form's own problem
		apiText bool   // the API's answer is told with its RequestId
	}{
		{"no month", url.Values{"customer": {uin}, "type": {"billDetail"}}, "month", false},
		{"bad month", url.Values{"customer": {uin}, "month": {"2025-13"}, "type": {"billDetail"}}, "month", false},
		{"before 2022-06", url.Values{"customer": {uin}, "month": {"2022-05"}, "type": {"billDetail"}}, "month", false},
		{"future month", url.Values{"customer": {uin}, "month": {"2099-01"}, "type": {"billDetail"}}, "month", false},
		{"bad type", url.Values{"customer": {uin}, "month": {month}, "type": {"L3"}}, "type", false},
		{"bad language", url.Values{"customer": {uin}, "month": {month}, "type": {"billDetail"}, "language": {"fr"}}, "language", false},
		{"no customer", url.Values{"month": {month}, "type": {"billDetail"}}, "customer", false},
		{"customer for a package", url.Values{"customer": {uin}, "month": {month}, "type": {"billDetailPack"}}, "customer", false},
		{"unknown customer", url.Values{"customer": {"999999999999"}, "month": {month}, "type": {"billDetail"}}, "customer", false},
		{"resource bill too early", url.Values{"customer": {uin}, "month": {"2023-01"}, "type": {"billResource"}}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(staff, "/bills/files", tc.form)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.StatusCode)
			}
			if len(byTestID(t, r.Body, "billfile-problem")) != 1 {
				t.Error("the form does not say what is wrong")
			}
			if tc.field != "" && fieldError(t, r.Body, tc.field) == "" {
				t.Errorf("no message beside %s", tc.field)
			}
			if tc.apiText && !strings.Contains(text(byTestID(t, r.Body, "billfile-problem")[0]), "RequestId") {
				t.Errorf("the API's refusal has no RequestId: %q", text(byTestID(t, r.Body, "billfile-problem")[0]))
			}
		})
	}
	t.Run("API failure", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: "DescribeCustomerBillDownloadUrl", Code: "InternalError", Count: 10})
		defer p.sandbox.ClearFaults()
		r := p.post(staff, "/bills/files", url.Values{"customer": {uin}, "month": {month}, "type": {"billDetail"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "RequestId") {
			t.Fatalf("status %d", r.StatusCode)
		}
		rows := p.auditRows("billfile.request")
		if len(rows) == 0 || rows[0].Outcome != store.OutcomeFailed || rows[0].Code != "InternalError" {
			t.Errorf("audit rows %+v", rows)
		}
	})
}

func TestBillFilesOfAResellersLogin(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.saveSubagentKey()
	sub := p.login("subagent")
	month := p.lastMonth()
	own := strconv.FormatUint(p.resellerCustomers(p.subUin)[0], 10)
	direct := strconv.FormatUint(p.directCustomers(1)[0], 10)

	r := p.get(sub, "/bills/files")
	scopes := find(t, r.Body, func(n *html.Node) bool { return n.Data == "select" && attr(n, "name") == "scope" })
	packs := find(t, r.Body, func(n *html.Node) bool { return n.Data == "option" && strings.HasSuffix(attr(n, "value"), "Pack") })
	if len(scopes) != 0 || len(packs) != 0 {
		t.Error("a reseller's login is offered a bill package")
	}
	// Another's customer, by the form as posted.
	r = p.post(sub, "/bills/files", url.Values{"customer": {direct}, "month": {month}, "type": {"billDetail"}})
	if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, "customer") == "" {
		t.Fatalf("a direct customer's bill: status %d", r.StatusCode)
	}
	// A package, which would hold other resellers' customers, with a
	// tampered scope or without.
	for _, scope := range []string{"", "ResellerCustomer", "Customer"} {
		r = p.post(sub, "/bills/files", url.Values{"month": {month}, "type": {"billDetailPack"}, "scope": {scope}})
		if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, "type") == "" {
			t.Fatalf("a package of scope %q: status %d", scope, r.StatusCode)
		}
	}
	// Its own customer, with its reseller's key.
	r = p.post(sub, "/bills/files", url.Values{"customer": {own}, "month": {month}, "type": {"billDetail"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("its own customer's bill: status %d %s", r.StatusCode, text(byTestID(t, r.Body, "billfile-problem")[0]))
	}
	p.follow(sub, r)
	p.advance(billfiles.CheckEvery)
	page := p.follow(sub, r)
	if links := byTestID(t, page.Body, "file-download"); len(links) != 1 || !strings.Contains(attr(links[0], "href"), "ResellerCustomer-") {
		t.Errorf("the file is not of a reseller's customer: %v", links)
	}
	if rows := p.auditRows("billfile.request"); len(rows) != 1 || rows[0].OnBehalfOf != p.subUin {
		t.Errorf("audit rows %+v", rows)
	}
	// No commission.
	if r := p.post(sub, "/commission/file", url.Values{"month": {month}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("commission file: status %d", r.StatusCode)
	}
}

func TestCommissionPage(t *testing.T) {
	p := newPortal(t)
	fin := p.login("finance")
	r := p.get(fin, "/commission")
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "policy-ask")) != 1 {
		t.Fatalf("status %d, no invitation to enter a policy code", r.StatusCode)
	}
	r = p.get(fin, "/commission?policy=StandardPolicy2025")
	rows := byTestID(t, r.Body, "policy-row")
	if r.StatusCode != http.StatusOK || len(rows) == 0 || len(rows) > 50 {
		t.Fatalf("status %d, %d rows", r.StatusCode, len(rows))
	}
	total, _ := strconv.Atoi(attr(byTestID(t, r.Body, "policy-count")[0], "data-total"))
	if want := total > 50; want != (len(byTestID(t, r.Body, "policy-next")) == 1) {
		t.Errorf("%d lines; a next page linked: %v", total, !want)
	}
	r = p.get(fin, "/commission?policy=StandardPolicy2025&product=p_cvm")
	for _, row := range byTestID(t, r.Body, "policy-row") {
		if !strings.Contains(text(row), "p_cvm") {
			t.Errorf("a searched range lists %q", text(row))
		}
	}
	tests := []struct{ name, query string }{
		{"bad code", "?policy=Standard%20Policy"},
		{"long product", "?policy=StandardPolicy2025&product=" + strings.Repeat("x", 65)},
		{"bad page", "?policy=StandardPolicy2025&page=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.get(fin, "/commission"+tc.query)
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "policy-problem")) != 1 {
				t.Errorf("status %d", r.StatusCode)
			}
		})
	}
	// The whole range as a file.
	r = p.get(fin, "/commission?policy=StandardPolicy2025")
	x := p.get(fin, attr(byTestID(t, r.Body, "policy-xlsx")[0], "href"))
	book, err := excelize.OpenReader(strings.NewReader(x.Body))
	if x.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("policy export: status %d, %v", x.StatusCode, err)
	}
	lines, _ := book.GetRows(book.GetSheetName(0))
	book.Close()
	if len(lines)-1 != total || lines[0][0] != "policy_code" {
		t.Errorf("the file holds %d lines of %d", len(lines)-1, total)
	}
	if rows := p.auditRows("commission.export"); len(rows) != 1 || rows[0].Params["rows"] != strconv.Itoa(total) {
		t.Errorf("audit %+v", rows)
	}
	if r := p.get(fin, "/commission/export?format=csv"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an export without a policy: status %d", r.StatusCode)
	}
	if r := p.get(fin, "/commission?policy=NoSuchPolicy"); len(byTestID(t, r.Body, "policy-none")) != 1 {
		t.Error("an unknown policy does not say nothing matched")
	}

	// The commission file, through its ready state.
	r = p.post(fin, "/commission/file", url.Values{"month": {p.lastMonth()}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/commission/files/") {
		t.Fatalf("request: status %d", r.StatusCode)
	}
	if s := byTestID(t, p.follow(fin, r).Body, "file-state"); len(s) != 1 || attr(s[0], "data-state") != billfiles.Generating {
		t.Fatal("the first answer is not generating")
	}
	p.advance(billfiles.CheckEvery)
	if s := byTestID(t, p.follow(fin, r).Body, "file-state"); len(s) != 1 || attr(s[0], "data-state") != billfiles.Ready {
		t.Fatal("the second answer is not ready")
	}
	if rows := p.auditRows("commission.file"); len(rows) != 1 || rows[0].Params["month"] != p.lastMonth() {
		t.Errorf("audit rows %+v", rows)
	}
	// A commission request is not a bill file.
	if r := p.get(fin, strings.Replace(r.Header.Get("Location"), "/commission/", "/bills/", 1)); r.StatusCode != http.StatusNotFound {
		t.Errorf("a commission request as a bill file: status %d", r.StatusCode)
	}
	if r := p.post(fin, "/commission/file", url.Values{"month": {"last"}}); r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, "month") == "" {
		t.Errorf("a bad month: status %d", r.StatusCode)
	}
}
