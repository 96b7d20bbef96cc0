package handlers_test

import (
	"bytes"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"resellerportal/credit"
	"resellerportal/export"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// upload sends a bulk allocation's file as a browser's form does.
func (p *portal) upload(c *http.Client, key, file string) response {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", "lines.csv")
	_, _ = fw.Write([]byte(file))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/credit/bulk", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return p.do(c, req)
}

// bulkKey opens the upload page and returns its form's key.
func (p *portal) bulkKey(c *http.Client) string {
	p.t.Helper()
	return p.allocationForm(c, "/credit/bulk")
}

func TestBulkAllocationPreview(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(4)
	p.fillCustomers()
	staff := p.login("staff")
	u := func(i int) string { return strconv.FormatUint(uins[i], 10) }
	var reseller string
	for _, c := range mustCustomers(t, p) {
		if c.ResellerUin != 0 {
			reseller = strconv.FormatUint(c.Uin, 10)
			break
		}
	}
	file := export.BOM + "uin,amount,remark\n" +
		u(0) + ",10,first\n" +
		u(1) + ",abc\n" +
		"12x,5\n" +
		u(2) + ",1\n" +
		u(2) + ",2\n" +
		"999999999999,5\n" +
		u(3) + ",0\n" +
		u(3) + "\n"
	if reseller != "" {
		file += reseller + ",5\n"
	}
	r := p.upload(staff, p.bulkKey(staff), file)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.StatusCode, r.Body)
	}
	page := p.follow(staff, r)
	want := map[string]string{"1": "", "2": credit.LineBadAmount, "3": credit.LineBadUin, "4": credit.LineDuplicate, "5": credit.LineDuplicate,
		"6": credit.LineNotCustomer, "7": credit.LineZero, "8": credit.LineColumns, "9": credit.LineNotDirect}
	lines := byTestID(t, page.Body, "bulk-line")
	if len(lines) != len(want) && !(reseller == "" && len(lines) == len(want)-1) {
		t.Fatalf("%d lines shown", len(lines))
	}
	for _, l := range lines {
		if got := attr(l, "data-problem"); got != want[attr(l, "data-line")] {
			t.Errorf("line %s: problem %q, want %q", attr(l, "data-line"), got, want[attr(l, "data-line")])
		}
	}
	if len(byTestID(t, page.Body, "bulk-problems")) != 1 || len(byTestID(t, page.Body, "bulk-confirm")) != 0 {
		t.Error("a batch with problems offers to send it")
	}
	loc := r.Header.Get("Location")
	if c := p.post(staff, loc+"/confirm", nil); c.StatusCode != http.StatusSeeOther {
		t.Errorf("confirming a batch with problems: %d", c.StatusCode)
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != 0 {
		t.Errorf("%d allocations sent from a batch with problems", n)
	}

	// Nothing to read, a file that is not CSV, and another person's batch.
	for _, tc := range []struct {
		name, file string
	}{{"empty", ""}, {"not csv", "\"unclosed,5\n1,2"}} {
		if r := p.upload(staff, p.bulkKey(staff), tc.file); r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-file")) != 1 {
			t.Errorf("%s: %d", tc.name, r.StatusCode)
		}
	}
	if r := p.get(p.login("admin"), loc); r.StatusCode != http.StatusOK {
		t.Errorf("an admin reading staff's batch: %d", r.StatusCode)
	}
	if r := p.get(p.login("subagent"), loc); r.StatusCode != http.StatusNotFound {
		t.Errorf("a reseller's login reading staff's batch: %d", r.StatusCode)
	}
	if r := p.get(p.login("finance"), "/credit/bulk"); r.StatusCode != http.StatusForbidden {
		t.Errorf("finance: %d", r.StatusCode)
	}
}

func mustCustomers(t *testing.T, p *portal) []store.Customer {
	t.Helper()
	cs, _, err := p.db.SearchCustomers(t.Context(), store.CustomerQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestBulkAllocationSends(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(5)
	p.fillCustomers()
	staff := p.login("staff")
	var file strings.Builder
	for i, uin := range uins {
		file.WriteString(strconv.FormatUint(uin, 10) + ";" + strconv.Itoa(i+1) + ".25;" + "bulk line\n")
	}
	key := p.bulkKey(staff)
	r := p.upload(staff, key, file.String())
	loc := r.Header.Get("Location")
	// The same form sent again is the same batch.
	if again := p.upload(staff, key, file.String()); again.Header.Get("Location") != loc {
		t.Errorf("the upload sent twice made %q and %q", loc, again.Header.Get("Location"))
	}
	page := p.get(staff, loc)
	if len(byTestID(t, page.Body, "bulk-confirm")) != 1 || text(byTestID(t, page.Body, "bulk-added")[0]) != "USD 16.25" {
		t.Fatalf("preview: confirm %d, added %q", len(byTestID(t, page.Body, "bulk-confirm")), text(byTestID(t, page.Body, "bulk-added")[0]))
	}
	// Confirmed twice (a double click): one job.
	for range 2 {
		if c := p.post(staff, loc+"/confirm", nil); c.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d", c.StatusCode)
		}
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/credit/bulk/"), 10, 64)
	b, err := p.db.CreditBatchByID(t.Context(), id)
	if err != nil || b.JobID == 0 {
		t.Fatalf("batch %+v %v", b, err)
	}
	if j := p.waitJob(b.JobID); j.Done != len(uins) {
		t.Fatalf("job: %s, %d done", j.Status, j.Done)
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != len(uins) {
		t.Errorf("%d allocations sent, want %d", n, len(uins))
	}
	page = p.get(staff, loc)
	for _, l := range byTestID(t, page.Body, "bulk-line") {
		if attr(l, "data-state") != "ok" {
			t.Errorf("line %s: %q", attr(l, "data-line"), attr(l, "data-state"))
		}
	}
	res := p.get(staff, loc+"/result.csv")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, export.BOM))).ReadAll()
	if err != nil || len(recs) != len(uins)+1 || recs[0][4] != "state" {
		t.Fatalf("result file: %v %v", recs, err)
	}
	for _, rec := range recs[1:] {
		if rec[4] != "ok" || rec[5] == "" || rec[8] == "" {
			t.Errorf("result line %v", rec)
		}
	}
	x := p.get(staff, loc+"/result.xlsx")
	if f, err := excelize.OpenReader(strings.NewReader(x.Body)); err != nil {
		t.Errorf("result XLSX: %v", err)
	} else {
		f.Close()
	}
	// The lines are in the ledger, under the bulk job.
	rows, n, err := p.db.CreditLedger(t.Context(), store.LedgerQuery{JobID: b.JobID})
	if err != nil || n != len(uins) || rows[0].Actor != p.users["staff"].Username {
		t.Errorf("ledger %d rows, %v", n, err)
	}
}

func TestBulkAllocationFromSelection(t *testing.T) {
	p := newPortal(t)
	uins := p.directCustomers(3)
	p.fillCustomers()
	staff := p.login("staff")
	page := p.get(staff, "/credit")
	key := inputValue(t, page.Body, "key")
	if key == "" || len(byTestID(t, page.Body, "credit-choose")) == 0 {
		t.Fatal("the credit list has no selection form")
	}
	form := url.Values{"key": {key}, "amount": {"7"}, "remark": {"campaign"}, "uin": {strconv.FormatUint(uins[0], 10), strconv.FormatUint(uins[1], 10)}}
	r := p.post(staff, "/credit/bulk/select", form)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/credit/bulk/") {
		t.Fatalf("selection: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	preview := p.follow(staff, r)
	if n := len(byTestID(t, preview.Body, "bulk-line")); n != 2 {
		t.Errorf("%d lines, want the 2 chosen", n)
	}
	if r := p.post(staff, "/credit/bulk/select", url.Values{"key": {credit.NewKey()}, "amount": {"7"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/credit" {
		t.Errorf("nothing chosen: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// The finance role sees the list without the selection.
	if f := p.get(p.login("finance"), "/credit"); len(byTestID(t, f.Body, "credit-choose")) != 0 {
		t.Error("finance is offered a selection to allocate")
	}
}
