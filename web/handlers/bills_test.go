package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"resellerportal/audit"
	"resellerportal/billing"
	"resellerportal/cmd/portal/app"
	"resellerportal/store"
)

// fillBills reads the month's bills as the refresh job does.
func (p *portal) fillBills(month string) {
	p.t.Helper()
	job, _, err := p.app.Billing.Refresh(p.t.Context(), audit.UserActor(p.users["staff"], "192.0.2.9"), month)
	if err != nil {
		p.t.Fatal(err)
	}
	if j := p.waitJob(job.ID); j.Status != store.JobDone {
		p.t.Fatalf("bills refresh %s: %s", j.Status, j.Error)
	}
}

func TestBillsOverview(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	months := p.app.Billing.Months()
	month, before := months[1], months[2]
	finance := p.login("finance")

	// An empty month: the page says so and offers no file.
	r := p.get(finance, "/bills?month="+month)
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "bills-empty")) != 1 || len(byTestID(t, r.Body, "bills-csv")) != 0 {
		t.Fatalf("empty month: %d, empty note %d", r.StatusCode, len(byTestID(t, r.Body, "bills-empty")))
	}
	p.fillBills(month)
	p.fillBills(before)

	r = p.get(finance, "/bills?month="+month)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	rows := byTestID(t, r.Body, "bills-row")
	direct := p.directCustomers(100)
	if len(rows) != min(len(direct), billing.PerPage) {
		t.Fatalf("%d rows for %d direct customers", len(rows), len(direct))
	}
	if n := len(byTestID(t, r.Body, "chart-bar")); n != billing.ChartMonths {
		t.Fatalf("the chart has %d bars", n)
	}
	if svg := byTestID(t, r.Body, "bills-chart"); len(svg) != 1 || attr(svg[0], "role") != "img" || attr(svg[0], "aria-labelledby") == "" {
		t.Fatal("the chart is not an image with a name")
	}
	if n := len(byTestID(t, r.Body, "bills-month-row")); n != billing.ChartMonths {
		t.Fatalf("the chart's table has %d rows", n)
	}
	// Biggest spender first, each row linked to the customer's month.
	f, err := p.app.Billing.ParseQuery(audit.UserActor(p.users["finance"], "test"), billing.Query{Month: month})
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.app.Billing.Overview(t.Context(), audit.UserActor(p.users["finance"], "test"), f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := attr(rows[0], "data-uin"), strconv.FormatUint(o.Rows[0].Uin, 10); got != want {
		t.Fatalf("first row %s, want %s", got, want)
	}
	if link := byTestID(t, r.Body, "bills-row-link"); attr(link[0], "href") != "/bills/"+attr(rows[0], "data-uin")+"/"+month {
		t.Fatalf("row link %s", attr(link[0], "href"))
	}
	if got := text(byTestID(t, r.Body, "bills-total")[0]); !strings.HasPrefix(got, "USD ") {
		t.Fatalf("partner total %q", got)
	}
	// Sorting by UIN, ascending, as an htmx fragment.
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+"/bills?month="+month+"&sort=uin&desc=0", nil)
	req.Header.Set("HX-Request", "true")
	frag := p.do(finance, req)
	fr := byTestID(t, frag.Body, "bills-row")
	if len(byTag(t, frag.Body, "nav")) != 0 || len(fr) < 2 || attr(fr[0], "data-uin") >= attr(fr[1], "data-uin") && len(attr(fr[0], "data-uin")) == len(attr(fr[1], "data-uin")) {
		t.Fatalf("fragment sorted by UIN: %d rows", len(fr))
	}

	// Edge cases of the form.
	for _, tt := range []struct {
		query string
		field string
	}{
		{"month=2020-01", "month"},
		{"month=garbage", "month"},
		{"month=" + month + "&sort=secret", ""},
		{"month=" + month + "&page=0", ""},
	} {
		t.Run(tt.query, func(t *testing.T) {
			r := p.get(finance, "/bills?"+tt.query)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.StatusCode)
			}
			if tt.field != "" && len(byTestID(t, r.Body, "error-"+tt.field)) != 1 {
				t.Fatalf("no problem beside %s", tt.field)
			}
		})
	}

	// A reseller's login sees none of the partner's direct customers.
	r = p.get(p.login("subagent"), "/bills?month="+month)
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "bills-row")) != 0 {
		t.Fatalf("a reseller's login: %d, %d rows", r.StatusCode, len(byTestID(t, r.Body, "bills-row")))
	}

	// Exports: CSV with a byte order mark, XLSX that opens, both audited.
	r = p.get(finance, "/bills.csv?month="+month)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Body, "\uFEFFuin,name,reseller_uin,month,total") || strings.Count(r.Body, "\n") != len(direct)+1 {
		t.Fatalf("CSV: %d, %d lines", r.StatusCode, strings.Count(r.Body, "\n"))
	}
	r = p.get(finance, "/bills.csv?month="+month+"&table=months")
	if r.StatusCode != http.StatusOK || strings.Count(r.Body, "\n") != billing.ChartMonths+1 {
		t.Fatalf("months CSV: %d %q", r.StatusCode, r.Body)
	}
	r = p.get(finance, "/bills.xlsx?month="+month)
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("XLSX: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	book, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	sheet, err := book.GetRows("customers")
	if err != nil || len(sheet) != len(direct)+1 {
		t.Fatalf("customers sheet: %d rows, %v", len(sheet), err)
	}
	if r := p.get(finance, "/bills.csv?month="+month+"&table=secrets"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown table: %d", r.StatusCode)
	}
	if rows := p.auditRows(billing.ExportAction); len(rows) != 3 || rows[0].Params["format"] != "xlsx" || rows[0].Actor != p.users["finance"].Username {
		t.Fatalf("export audit rows: %+v", rows)
	}

	// The navigation links to the page.
	home := p.get(finance, "/")
	found := false
	for _, a := range byTag(t, home.Body, "a") {
		found = found || attr(a, "href") == "/bills"
	}
	if !found {
		t.Fatal("no link to /bills in the navigation")
	}
}

func TestBillsCustomerMonth(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	month := p.app.Billing.Months()[1]
	uin := strconv.FormatUint(p.directCustomers(1)[0], 10)
	finance := p.login("finance")

	r := p.get(finance, "/bills/"+uin+"/"+month)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	for _, id := range []string{"bills-month-total-value", "bills-paymodes", "bills-products", "bills-regions", "bills-daily", "bills-lines", "bills-files-link", "bills-month-xlsx"} {
		if len(byTestID(t, r.Body, id)) != 1 {
			t.Errorf("no %s", id)
		}
	}
	if len(byTestID(t, r.Body, "bills-mismatch")) != 0 {
		t.Error("the sandbox's parts add up, yet the page says they differ")
	}
	total := text(byTestID(t, r.Body, "bills-month-total-value")[0])
	for _, s := range byTestID(t, r.Body, "bills-sum") {
		if text(s) != total {
			t.Errorf("a breakdown sums to %s, the total is %s", text(s), total)
		}
	}
	if href := attr(byTestID(t, r.Body, "bills-files-link")[0], "href"); href != "/bills/files?month="+month+"&uin="+uin {
		t.Errorf("bill file link %s", href)
	}

	// The customer's page links here.
	c := p.get(finance, "/customers/"+uin)
	if l := byTestID(t, c.Body, "customer-bills-link"); len(l) != 1 || !strings.HasPrefix(attr(l[0], "href"), "/bills/"+uin+"/") {
		t.Fatalf("customer page's bills link: %d", len(l))
	}
	// The month picker's form lands on the month.
	if r := p.get(finance, "/bills/"+uin+"?month="+month); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/bills/"+uin+"/"+month {
		t.Fatalf("month picker: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"a month too old", "/bills/" + uin + "/2020-01", http.StatusUnprocessableEntity},
		{"not a month", "/bills/" + uin + "/november", http.StatusUnprocessableEntity},
		{"no customer of the partner", "/bills/42/" + month, http.StatusNotFound},
		{"not a UIN", "/bills/abc/" + month, http.StatusNotFound},
		{"a bad filter", "/bills/" + uin + "/" + month + "?paymode=free", http.StatusUnprocessableEntity},
		{"a filter", "/bills/" + uin + "/" + month + "?paymode=postPay&paid=1", http.StatusOK},
		{"an unknown export table", "/bills/" + uin + "/" + month + ".csv?table=secrets", http.StatusUnprocessableEntity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := p.get(finance, tt.path); r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.status)
			}
		})
	}

	// A reseller's login: another's customer is not found, by page and by export.
	sub := p.login("subagent")
	for _, path := range []string{"/bills/" + uin + "/" + month, "/bills/" + uin + "/" + month + ".xlsx", "/bills/" + uin + "/" + month + ".csv?table=products"} {
		if r := p.get(sub, path); r.StatusCode != http.StatusNotFound {
			t.Fatalf("%s as a reseller's login: %d", path, r.StatusCode)
		}
	}

	// Exports of the month.
	r = p.get(finance, "/bills/"+uin+"/"+month+".csv?table=products")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Body, "\uFEFFcode,name,original_cost,voucher_amount,total") {
		t.Fatalf("products CSV: %d %.60q", r.StatusCode, r.Body)
	}
	r = p.get(finance, "/bills/"+uin+"/"+month+".xlsx")
	book, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatalf("XLSX (%d): %v", r.StatusCode, err)
	}
	defer book.Close()
	if got := strings.Join(book.GetSheetList(), ","); got != "paymodes,products,regions,daily,details" {
		t.Fatalf("sheets %s", got)
	}
	rows := p.auditRows(billing.ExportAction)
	if len(rows) != 2 || strconv.FormatUint(rows[0].TargetUin, 10) != uin || rows[1].Params["table"] != "products" {
		t.Fatalf("export audit rows %+v", rows)
	}
}

// TestBillsRefreshRunning starts a month's refresh at the documented rate
// (one call a second), so it is surely running while the page is read.
func TestBillsRefreshRunning(t *testing.T) {
	p := newPortal(t, func(c *app.Config) { c.RateScale = 1 })
	month := p.app.Billing.Months()[0]
	staff := p.login("staff")
	r := p.post(staff, "/bills/refresh", url.Values{"month": {month}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/bills?month="+month {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	page := p.follow(staff, r)
	running := byTestID(t, page.Body, "bills-running")
	if len(running) != 1 || len(byTestID(t, page.Body, "bills-progress")) != 1 {
		t.Fatalf("no progress bar while the refresh runs")
	}
	poll := attr(running[0], "hx-get")
	if !strings.HasPrefix(poll, "/bills/progress?month="+month+"&job=") || attr(running[0], "hx-trigger") != "every 2s" {
		t.Fatalf("progress poll %q", poll)
	}
	if r := p.get(staff, poll); r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "bills-running")) != 1 {
		t.Fatalf("poll while running: %d", r.StatusCode)
	}
	// Starting it again joins the running one.
	if r := p.post(staff, "/bills/refresh", url.Values{"month": {month}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second refresh: %d", r.StatusCode)
	}
	if r := p.post(staff, "/bills/refresh", url.Values{"month": {"1999-01"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refresh of a bad month: %d", r.StatusCode)
	}
	// Once the refresh has ended, the poll says so and stops.
	id, _ := strconv.ParseInt(poll[strings.LastIndex(poll, "=")+1:], 10, 64)
	if err := p.app.Jobs.Cancel(t.Context(), audit.UserActor(p.users["staff"], "test"), id); err != nil {
		t.Fatal(err)
	}
	p.waitJob(id)
	r = p.get(staff, poll)
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "bills-finished")) != 1 || len(byTestID(t, r.Body, "bills-running")) != 0 {
		t.Fatalf("poll after the end: %d %s", r.StatusCode, r.Body)
	}
}

// TestBillsOfAResellersCustomer: a reseller's login opens its own
// customer's month, read with the reseller's own key; without one stored,
// the page says why instead of reading it with the distributor's.
func TestBillsOfAResellersCustomer(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	month := p.app.Billing.Months()[1]
	reseller := p.subUin
	mine, _, err := p.db.SearchCustomers(t.Context(), store.CustomerQuery{ResellerUin: &reseller, Sort: "uin", Limit: 1})
	if err != nil || len(mine) == 0 {
		t.Fatalf("reseller %d has no customers: %v", reseller, err)
	}
	path := "/bills/" + strconv.FormatUint(mine[0].Uin, 10) + "/" + month
	r := p.get(p.login("subagent"), path)
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "api-note")) != 1 || len(byTestID(t, r.Body, "bills-month-total")) != 0 {
		t.Fatalf("own customer without the reseller's key: %d, note %d", r.StatusCode, len(byTestID(t, r.Body, "api-note")))
	}
	// The partner's people see the same customer the same way: the
	// distributor's key cannot read a reseller's customer's bills.
	if r := p.get(p.login("finance"), path); r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "api-note")) != 1 {
		t.Fatalf("finance on a reseller's customer: %d", r.StatusCode)
	}
	if r := p.get(p.login("subagent"), path+".xlsx"); r.StatusCode == http.StatusOK {
		t.Fatal("an export of a month that cannot be read")
	}
}
