package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"resellerportal/export"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// allocationForm opens the allocation form and returns its key.
func (p *portal) allocationForm(c *http.Client, path string) string {
	p.t.Helper()
	r := p.get(c, path)
	if r.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s: %d", path, r.StatusCode)
	}
	key := inputValue(p.t, r.Body, "key")
	if key == "" {
		p.t.Fatalf("GET %s: no key in the form", path)
	}
	return key
}

// history counts, per portal marker, the customer's allocation history
// entries as the sandbox holds them.
func (p *portal) history(uin uint64) (map[string]int, int) {
	p.t.Helper()
	c, err := p.app.Keys.Distributor(p.t.Context())
	if err != nil {
		p.t.Fatal(err)
	}
	out, n := map[string]int{}, 0
	for h, err := range c.AllQueryCreditAllocationHistory(p.t.Context(), partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: uin}) {
		if err != nil {
			p.t.Fatal(err)
		}
		n++
		if i := strings.Index(h.Remark, "[portal job "); i >= 0 {
			out[h.Remark[i:]]++
		}
	}
	return out, n
}

// TestAllocationHappensOnce sends each of many allocations the ways people
// send forms twice — a double click (two at once), a reload of the answer
// to the POST, the back button and confirm again, a second tab with the
// same form — and checks that Tencent Cloud's history holds each once.
func TestAllocationHappensOnce(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(4)
	p.fillCustomers()
	staff := p.login("staff")
	second := p.login("staff") // the same person in another browser
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	_, before := p.history(uins[0])
	seen := map[string]bool{}
	for i := range rounds {
		uin := uins[i%len(uins)]
		path := "/credit/" + strconv.FormatUint(uin, 10) + "/allocate"
		key := p.allocationForm(staff, path)
		form := url.Values{"key": {key}, "amount": {"1.01"}, "remark": {"round " + strconv.Itoa(i)}}
		review := p.get(staff, path+"?step=review&"+form.Encode())
		if review.StatusCode != http.StatusOK || len(byTestID(t, review.Body, "allocate-confirm")) != 1 {
			t.Fatalf("round %d: review %d", i, review.StatusCode)
		}
		// A double click and a second tab: three at once.
		locs := make([]string, 3)
		var wg sync.WaitGroup
		for j, c := range []*http.Client{staff, staff, second} {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, p.ts.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther {
					locs[j] = resp.Header.Get("Location")
				}
			})
		}
		wg.Wait()
		// A reload, and back-and-confirm again: the same form once more.
		again := p.post(staff, path, form)
		first := strings.SplitN(locs[0], "?", 2)[0]
		if first == "" {
			t.Fatalf("round %d: no allocation page: %q", i, locs)
		}
		for _, l := range append(locs[1:], again.Header.Get("Location")) {
			if strings.SplitN(l, "?", 2)[0] != first {
				t.Fatalf("round %d: the same form led to %q and %q", i, first, l)
			}
		}
		if seen[first] {
			t.Fatalf("round %d: a new form led to an old allocation %s", i, first)
		}
		seen[first] = true
		page := p.get(staff, first)
		if got := byTestID(t, page.Body, "allocation-result"); len(got) != 1 || attr(got[0], "data-state") != "ok" {
			t.Fatalf("round %d: allocation %s not ok", i, first)
		}
	}
	// The same key with another amount is refused, and sends nothing.
	path := "/credit/" + strconv.FormatUint(uins[0], 10) + "/allocate"
	key := p.allocationForm(staff, path)
	if r := p.post(staff, path, url.Values{"key": {key}, "amount": {"2"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use of a key: %d", r.StatusCode)
	}
	if r := p.post(staff, path, url.Values{"key": {key}, "amount": {"3"}}); r.StatusCode != http.StatusConflict {
		t.Errorf("the same key with another amount: %d, want 409", r.StatusCode)
	}
	total := 0
	for _, uin := range uins {
		marks, _ := p.history(uin)
		for m, n := range marks {
			if n != 1 {
				t.Errorf("customer %d: %s applied %d times", uin, m, n)
			}
			total++
		}
	}
	if want := rounds + 1; total != want {
		t.Errorf("%d allocations in Tencent Cloud's history, want %d", total, want)
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != rounds+1 {
		t.Errorf("%d allocation requests reached the sandbox, want %d", n, rounds+1)
	}
	if _, after := p.history(uins[0]); after <= before {
		t.Errorf("history of %d did not grow: %d → %d", uins[0], before, after)
	}
}

func TestAllocationForm(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(3)
	c, err := p.app.Keys.Distributor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Some credit to take back.
	if _, err := c.AllocateCustomerCredit(t.Context(), &partnerapi.AllocateCustomerCreditRequest{ClientUin: uins[0], AddedCredit: partnerapi.MustAmount("100")}); err != nil {
		t.Fatal(err)
	}
	p.fillCustomers()
	uin := strconv.FormatUint(uins[0], 10)
	path := "/credit/" + uin + "/allocate"
	staff := p.login("staff")
	key := p.allocationForm(staff, path)
	available := p.row(uins[0]).RemainingCredit

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		field  string
	}{
		{"no amount", url.Values{"key": {key}}, http.StatusUnprocessableEntity, "amount"},
		{"words", url.Values{"key": {key}, "amount": {"ten"}}, http.StatusUnprocessableEntity, "amount"},
		{"nine decimals", url.Values{"key": {key}, "amount": {"1.000000005"}}, http.StatusUnprocessableEntity, "amount"},
		{"zero", url.Values{"key": {key}, "amount": {"0.00"}}, http.StatusUnprocessableEntity, "amount"},
		{"float notation", url.Values{"key": {key}, "amount": {"1e3"}}, http.StatusUnprocessableEntity, "amount"},
		{"huge", url.Values{"key": {key}, "amount": {"9999999999999"}}, http.StatusUnprocessableEntity, "amount"},
		{"more than available taken back", url.Values{"key": {key}, "amount": {"-" + available + "1"}}, http.StatusUnprocessableEntity, "amount"},
		{"remark too long", url.Values{"key": {key}, "amount": {"1"}, "remark": {strings.Repeat("备", 161)}}, http.StatusUnprocessableEntity, "remark"},
		{"remark with a line break", url.Values{"key": {key}, "amount": {"1"}, "remark": {"a\nb"}}, http.StatusUnprocessableEntity, "remark"},
		{"remark posing as a marker", url.Values{"key": {key}, "amount": {"1"}, "remark": {"see [portal job 2/0]"}}, http.StatusUnprocessableEntity, "remark"},
		{"no key", url.Values{"amount": {"1"}}, http.StatusUnprocessableEntity, "key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Checked on the confirmation step and again on the POST.
			review := p.get(staff, path+"?step=review&"+tc.form.Encode())
			if tc.field != "key" && (review.StatusCode != tc.status || len(byTestID(t, review.Body, "error-"+tc.field)) != 1) {
				t.Errorf("review: status %d, want %d with a message for %s", review.StatusCode, tc.status, tc.field)
			}
			r := p.post(staff, path, tc.form)
			shown := len(byTestID(t, r.Body, "error-"+tc.field)) == 1
			if tc.field == "key" {
				shown = len(byTestID(t, r.Body, "api-problem")) == 1
			}
			if r.StatusCode != tc.status || !shown {
				t.Errorf("confirm: status %d, want %d with a message for %s", r.StatusCode, tc.status, tc.field)
			}
		})
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != 1 {
		t.Errorf("%d refused forms reached the API", n-1)
	}

	// The confirmation shows the figures after.
	review := p.get(staff, path+"?step=review&"+url.Values{"key": {key}, "amount": {"10"}}.Encode())
	if len(byTestID(t, review.Body, "review-credit-after")) != 1 || len(byTestID(t, review.Body, "review-allocable-after")) != 1 {
		t.Error("the confirmation does not show the figures after")
	}
	// Taking everything back says the services stop.
	all := p.get(staff, path+"?step=review&"+url.Values{"key": {key}, "amount": {"-" + available}}.Encode())
	if len(byTestID(t, all.Body, "review-to-zero")) != 1 {
		t.Errorf("taking back all %s does not warn that services stop", available)
	}
	// More than the partner may allocate: warned, and Tencent Cloud's
	// refusal shown with its RequestId.
	over := url.Values{"key": {key}, "amount": {"999999999"}}
	if r := p.get(staff, path+"?step=review&"+over.Encode()); len(byTestID(t, r.Body, "review-warning")) != 1 {
		t.Error("no warning for more than may be allocated")
	}
	r := p.post(staff, path, over)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("over-allocation: %d", r.StatusCode)
	}
	page := p.follow(staff, r)
	if got := byTestID(t, page.Body, "allocation-result"); len(got) != 1 || attr(got[0], "data-state") != "failed" {
		t.Fatalf("over-allocation not shown as refused")
	}
	if len(byTestID(t, page.Body, "allocation-request-id")) == 0 || !strings.Contains(page.Body, "more than the credit you can still allocate") {
		t.Error("the API's refusal is not told in words with its RequestId")
	}

	// Roles: finance reads credit but allocates nothing; a reseller's login
	// cannot reach the distributor's customers.
	for _, tc := range []struct {
		role   string
		status int
	}{{"finance", http.StatusForbidden}, {"subagent", http.StatusNotFound}} {
		c := p.login(tc.role)
		if r := p.get(c, path); r.StatusCode != tc.status {
			t.Errorf("%s GET: %d, want %d", tc.role, r.StatusCode, tc.status)
		}
		if r := p.post(c, path, url.Values{"key": {credit32()}, "amount": {"1"}}); r.StatusCode != tc.status {
			t.Errorf("%s POST: %d, want %d", tc.role, r.StatusCode, tc.status)
		}
	}
}

func credit32() string { return strings.Repeat("A", 26) }

// TestUnknownAllocationBlocksTheNext loses an allocation's answer where it
// cannot be read back, and checks the customer takes no other until a
// person checks it again.
func TestUnknownAllocationBlocksTheNext(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(2)
	p.fillCustomers()
	uin := strconv.FormatUint(uins[0], 10)
	path := "/credit/" + uin + "/allocate"
	staff := p.login("staff")
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryCreditAllocationHistory, Code: "InternalError", Count: 1000})
	r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"5"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("allocate: %d", r.StatusCode)
	}
	first := r.Header.Get("Location")
	page := p.get(staff, first)
	if got := byTestID(t, page.Body, "allocation-result"); len(got) != 1 || attr(got[0], "data-state") != "unknown" {
		t.Fatalf("state %v, want unknown", got)
	}
	// The next allocation is refused, and the form says why.
	if r := p.get(staff, path); len(byTestID(t, r.Body, "allocate-in-flight")) != 1 {
		t.Error("the form does not say an allocation is unknown")
	}
	if r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"5"}}); r.StatusCode != http.StatusConflict {
		t.Errorf("a second allocation while one is unknown: %d, want 409", r.StatusCode)
	}
	// Another customer is not held up.
	other := "/credit/" + strconv.FormatUint(uins[1], 10) + "/allocate"
	if r := p.post(staff, other, url.Values{"key": {p.allocationForm(staff, other)}, "amount": {"5"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("another customer: %d", r.StatusCode)
	}
	// Reading back works again: checked, it is found applied, once.
	p.sandbox.ClearFaults()
	id := strings.TrimPrefix(first, "/credit/allocations/")
	if r := p.post(staff, "/credit/allocations/"+id+"/check", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("check again: %d", r.StatusCode)
	}
	if got := byTestID(t, p.get(staff, first).Body, "allocation-result"); attr(got[0], "data-state") != "ok" {
		t.Errorf("after checking: %s", attr(got[0], "data-state"))
	}
	if r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"5"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after it is known: %d", r.StatusCode)
	}
	marks, _ := p.history(uins[0])
	if len(marks) != 2 {
		t.Errorf("%d allocations applied, want 2: %v", len(marks), marks)
	}
	for m, n := range marks {
		if n != 1 {
			t.Errorf("%s applied %d times", m, n)
		}
	}
}

func TestPoolAllocation(t *testing.T) {
	p := newPortal(t)
	path := "/resellers/" + strconv.FormatUint(p.subUin, 10) + "/pool"
	for _, tc := range []struct {
		role   string
		status int
	}{{"finance", http.StatusForbidden}, {"subagent", http.StatusForbidden}} {
		if r := p.get(p.login(tc.role), path); r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.role, r.StatusCode, tc.status)
		}
	}
	admin := p.login("admin")
	if r := p.get(admin, "/resellers/123/pool"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a UIN that is no reseller: %d", r.StatusCode)
	}
	key := p.allocationForm(admin, path)
	form := url.Values{"key": {key}, "amount": {"250.50"}}
	r := p.post(admin, path, form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("pool allocation: %d %s", r.StatusCode, r.Body)
	}
	page := p.follow(admin, r)
	if got := byTestID(t, page.Body, "allocation-result"); len(got) != 1 || attr(got[0], "data-state") != "ok" {
		t.Fatal("pool allocation not ok")
	}
	if again := p.post(admin, path, form); again.Header.Get("Location") != r.Header.Get("Location")+"?replayed=1" {
		t.Errorf("the pool form sent again went to %q", again.Header.Get("Location"))
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCreditPool); n != 1 {
		t.Errorf("%d pool allocations sent, want 1", n)
	}
}

func TestLedger(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(2)
	p.fillCustomers()
	staff := p.login("staff")
	for _, uin := range uins {
		path := "/credit/" + strconv.FormatUint(uin, 10) + "/allocate"
		if r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"12.34"}, "remark": {"=cmd"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("allocate: %d", r.StatusCode)
		}
	}
	for _, tc := range []struct {
		role  string
		query string
		rows  int
	}{
		{"finance", "", 2},
		{"admin", "?uin=" + strconv.FormatUint(uins[1], 10), 1},
		{"staff", "?state=failed", 0},
		{"subagent", "", 0}, // a reseller's login sees its own logins' allocations only
	} {
		t.Run(tc.role+tc.query, func(t *testing.T) {
			r := p.get(p.login(tc.role), "/credit/ledger"+tc.query)
			if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "ledger-row")) != tc.rows {
				t.Errorf("status %d, %d rows, want %d", r.StatusCode, len(byTestID(t, r.Body, "ledger-row")), tc.rows)
			}
		})
	}
	if r := p.get(staff, "/credit/ledger?from=yesterday"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad date: %d", r.StatusCode)
	}
	if r := p.get(staff, "/credit/ledger.csv?uin="+strings.Repeat("0", 4000)+"1"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a padded UIN: %d", r.StatusCode)
	}
	finance := p.login("finance")
	csv := p.get(finance, "/credit/ledger.csv")
	if !strings.HasPrefix(csv.Body, export.BOM+"id,created_at_utc,actor") || strings.Count(csv.Body, "\n") != 3 || !strings.Contains(csv.Body, "'=cmd") {
		t.Errorf("CSV:\n%s", csv.Body)
	}
	x := p.get(finance, "/credit/ledger.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(x.Body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetList()[0], excelize.Options{RawCellValue: true})
	if err != nil || len(rows) != 3 || rows[1][7] != "12.34" {
		t.Errorf("XLSX rows %q, %v", rows, err)
	}
	if n := len(p.auditRows("credit.ledger.export")); n != 2 {
		t.Errorf("%d export audit rows, want 2", n)
	}
	entries, _, err := p.db.CreditLedger(t.Context(), store.LedgerQuery{})
	if err != nil || len(entries) != 2 || entries[0].RequestId == "" {
		t.Errorf("ledger rows %+v %v", entries, err)
	}
}

// TestAllocationWaitsForASecondPerson switches four-eyes approval on: an
// allocation above the amount, the same form sent again, and a bulk
// allocation with one such line all wait, with nothing sent, until a
// second person approves; then each is sent once.
func TestAllocationWaitsForASecondPerson(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(3)
	p.fillCustomers()
	p.fourEyesOn("100", 24)
	staff := p.login("staff")
	path := "/credit/" + strconv.FormatUint(uins[0], 10) + "/allocate"
	form := url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"500"}, "remark": {"big one"}}
	r := p.post(staff, path, form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("allocate: %d", r.StatusCode)
	}
	page := p.follow(staff, r)
	held := byTestID(t, page.Body, "allocation-result")
	if len(held) != 1 || attr(held[0], "data-state") != "held" || len(byTestID(t, page.Body, "allocation-approval")) != 1 {
		t.Fatalf("an allocation above the amount is not waiting")
	}
	// Replayed, it is the same waiting allocation, and one request.
	if again := p.post(staff, path, form); again.Header.Get("Location") != r.Header.Get("Location")+"?replayed=1" {
		t.Errorf("replayed to %q", again.Header.Get("Location"))
	}
	requestHref := attr(byTestID(t, page.Body, "allocation-approval")[0], "href")
	id := strings.TrimPrefix(requestHref, "/approvals/")
	// A small allocation goes straight through.
	other := "/credit/" + strconv.FormatUint(uins[1], 10) + "/allocate"
	if r := p.post(staff, other, url.Values{"key": {p.allocationForm(staff, other)}, "amount": {"50"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("small allocation: %d", r.StatusCode)
	} else if got := byTestID(t, p.follow(staff, r).Body, "allocation-result"); attr(got[0], "data-state") != "ok" {
		t.Errorf("a small allocation: %s", attr(got[0], "data-state"))
	}
	// A bulk allocation with a line above the amount waits whole.
	file := strconv.FormatUint(uins[2], 10) + ",10\n" + strconv.FormatUint(uins[1], 10) + ",150\n"
	up := p.upload(staff, p.bulkKey(staff), file)
	batch := up.Header.Get("Location")
	if c := p.post(staff, batch+"/confirm", nil); c.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk confirm: %d", c.StatusCode)
	}
	if len(byTestID(t, p.get(staff, batch).Body, "bulk-held")) != 1 {
		t.Error("the bulk allocation is not waiting")
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != 1 {
		t.Fatalf("%d allocations sent before approval, want only the small one", n)
	}
	// The requester cannot approve; a second person can.
	if r := p.post(staff, "/approvals/"+id+"/approve", nil); r.StatusCode == http.StatusSeeOther && p.approval(mustID(t, id)).State != "pending" {
		t.Fatal("the requester approved their own request")
	}
	admin := p.login("admin")
	if r := p.post(admin, "/approvals/"+id+"/approve", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.StatusCode, r.Body)
	}
	al, err := p.db.CreditAllocationByKey(t.Context(), form.Get("key"))
	if err != nil || al.JobID == 0 {
		t.Fatalf("approved allocation: %+v %v", al, err)
	}
	p.waitJob(al.JobID)
	if got := byTestID(t, p.get(staff, r.Header.Get("Location")).Body, "allocation-result"); attr(got[0], "data-state") != "ok" {
		t.Errorf("after approval: %s", attr(got[0], "data-state"))
	}
	bulkReq := attr(find(t, p.get(staff, batch).Body, func(n *html.Node) bool {
		return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "/approvals/")
	})[0], "href")
	if r := p.post(admin, bulkReq+"/approve", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve bulk: %d", r.StatusCode)
	}
	bid, _ := strconv.ParseInt(strings.TrimPrefix(batch, "/credit/bulk/"), 10, 64)
	page = p.get(staff, batch) // finds its job now
	if len(byTestID(t, page.Body, "bulk-outcomes")) != 1 {
		t.Fatal("the approved bulk allocation has no job on its page")
	}
	b, _ := p.db.CreditBatchByID(t.Context(), bid)
	p.waitJob(b.JobID)
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != 4 {
		t.Errorf("%d allocations sent in all, want 4", n)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnknownAllocationSettledByHand: when reading back cannot tell, an
// administrator who checked Tencent Cloud's console settles the outcome
// with a note, audited, and the customer takes allocations again.
func TestUnknownAllocationSettledByHand(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(1)
	p.fillCustomers()
	path := "/credit/" + strconv.FormatUint(uins[0], 10) + "/allocate"
	staff := p.login("staff")
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionAllocateCustomerCredit, Drop: true})
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryCreditAllocationHistory, Code: "InternalError", Count: 1000})
	r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"5"}})
	page := r.Header.Get("Location")
	resolve := page + "/resolve"
	admin := p.login("admin")
	if got := byTestID(t, p.get(admin, page).Body, "allocation-resolve"); len(got) != 1 {
		t.Fatal("an administrator is not offered to settle the unknown allocation")
	}
	if len(byTestID(t, p.get(staff, page).Body, "allocation-resolve")) != 0 {
		t.Error("staff is offered to settle it")
	}
	if r := p.post(staff, resolve, url.Values{"outcome": {"applied"}, "note": {"seen"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("staff settling: %d", r.StatusCode)
	}
	if r := p.post(admin, resolve, url.Values{"outcome": {"applied"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("without a note: %d", r.StatusCode)
	}
	if got := byTestID(t, p.get(admin, page).Body, "allocation-result"); attr(got[0], "data-state") != "unknown" {
		t.Fatalf("settled without a note: %s", attr(got[0], "data-state"))
	}
	if r := p.post(admin, resolve, url.Values{"outcome": {"applied"}, "note": {"console shows +5 at 10:02"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("settle: %d", r.StatusCode)
	}
	if got := byTestID(t, p.get(admin, page).Body, "allocation-result"); attr(got[0], "data-state") != "ok" {
		t.Errorf("after settling: %s", attr(got[0], "data-state"))
	}
	if rows := p.auditRows("credit.allocation.resolve"); len(rows) != 1 || rows[0].Params["note"] != "console shows +5 at 10:02" || rows[0].Params["outcome"] != "applied" {
		t.Errorf("audit rows %+v", rows)
	}
	// Settled, it can be settled no more, and the customer is free again.
	if r := p.post(admin, resolve, url.Values{"outcome": {"not_applied"}, "note": {"again"}}); r.StatusCode != http.StatusSeeOther || len(p.auditRows("credit.allocation.resolve")) != 1 {
		t.Errorf("settling twice: %d", r.StatusCode)
	}
	p.sandbox.ClearFaults()
	if r := p.post(staff, path, url.Values{"key": {p.allocationForm(staff, path)}, "amount": {"5"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("a new allocation after settling: %d", r.StatusCode)
	}
}
