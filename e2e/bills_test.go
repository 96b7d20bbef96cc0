package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"resellerportal/cmd/portal/app"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// TestBillsOverviewAndCustomerMonth follows finance work on Money → Bills:
// a staff member refreshes last month's bills and watches the progress
// bar, the overview shows the month's total with its twelve-month chart
// and every customer's total, a customer's month shows its breakdowns as
// charts and tables, and its XLSX export opens in a spreadsheet library.
func TestBillsOverviewAndCustomerMonth(t *testing.T) {
	t.Parallel()
	// A small world at fifty times the documented rates: the refresh of a
	// month's bills takes seconds.
	e := newEnvServing(t, []string{"--sandbox-customers", "20", "--sandbox-rate-scale", "50"}, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0])
	tb.open(t, "/")
	month := time.Now().UTC().AddDate(0, -1, 0)
	month = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	m := month.Format("2006-01")

	tb.do(t, "open Bills from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/bills"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("bills-month-form")),
	)
	tb.open(t, "/bills?month="+m)
	tb.do(t, "refresh the month",
		chromedp.WaitVisible(testID("bills-empty")),
		chromedp.Click(testID("bills-refresh"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("flash")),
	)
	// The progress bar follows the refresh to its end (htmx polls it), or
	// the refresh was quicker than the page.
	tb.waitUntil(t, "the refresh to end", `document.querySelector("[data-testid=bills-finished]") !== null || document.querySelector("[data-testid=bills-row]") !== null`)
	if tb.count(t, testID("bills-finished")) > 0 {
		tb.do(t, "show the new figures", chromedp.Click(chromedp.CSS(`[data-testid=bills-finished] a`)), chromedp.WaitVisible(testID("bills-rows")))
	}
	tb.waitUntil(t, "the customers' totals", `document.querySelectorAll("[data-testid=bills-row]").length > 0`)
	if n := tb.count(t, chromedp.CSS(`svg[data-testid=bills-chart][role=img] [data-testid=chart-bar]`)); n != 12 {
		t.Errorf("the twelve-month chart has %d bars", n)
	}
	if n := tb.count(t, testID("bills-month-row")); n != 12 {
		t.Errorf("the chart's table has %d months", n)
	}
	if total := tb.text(t, testID("bills-total")); !strings.HasPrefix(total, "USD ") {
		t.Errorf("the month's total reads %q", total)
	}
	if problems := tb.pageProblems(t, pageVisit{"/bills?month=" + m, http.StatusOK}); len(problems) > 0 {
		t.Errorf("the overview: %s", strings.Join(problems, "; "))
	}

	// The biggest spender's month.
	uin := eval[string](t, tb, `document.querySelector("[data-testid=bills-row]").dataset.uin`)
	tb.do(t, "open the customer's month",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=bills-row][data-uin=%q] [data-testid=bills-row-link]`, uin)), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("bills-month-total")),
	)
	tb.waitUntil(t, "the breakdowns", `["paymodes", "products", "regions"].every(id => document.querySelector("[data-testid=bills-" + id + "-table]") !== null) && document.querySelector("[data-testid=bills-daily-table]") !== null`)
	if n := tb.count(t, chromedp.CSS(`svg.chart[role=img]`)); n != 4 {
		t.Errorf("%d charts on the customer's month, want pay modes, products, regions and days", n)
	}
	if n := tb.count(t, testID("bills-mismatch")); n != 0 {
		t.Errorf("%d breakdowns do not add up", n)
	}
	total := tb.text(t, testID("bills-month-total-value"))
	if sums := eval[[]string](t, tb, `[...document.querySelectorAll("[data-testid=bills-sum]")].map(e => e.textContent.trim())`); len(sums) != 3 || sums[0] != total || sums[1] != total || sums[2] != total {
		t.Errorf("the breakdowns sum to %v, the month's total is %s", sums, total)
	}
	path := "/bills/" + uin + "/" + m
	if problems := tb.pageProblems(t, pageVisit{path, http.StatusOK}); len(problems) > 0 {
		t.Errorf("the customer's month: %s", strings.Join(problems, "; "))
	}

	// The XLSX export, fetched with the browser's session as the link
	// would, opens with every table as a sheet.
	href := eval[string](t, tb, `document.querySelector("[data-testid=bills-month-xlsx]").getAttribute("href")`)
	cookies, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tb.base+href, nil)
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %d %v", href, resp.StatusCode, err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	defer book.Close()
	if got := strings.Join(book.GetSheetList(), ","); got != "paymodes,products,regions,daily,details" {
		t.Errorf("sheets %s", got)
	}
	rows, err := book.GetRows("products")
	if err != nil || len(rows) < 1 || strings.Join(rows[0], ",") != "code,name,original_cost,voucher_amount,total" {
		t.Errorf("products sheet %v, %v", rows, err)
	}
}

// demoDirectCustomerUin is the UIN of a direct customer of the built-in
// sandbox's distributor in the world `portal serve` builds by default (see
// demoSubAgentUin), read from that world's partner API.
func demoDirectCustomerUin(t *testing.T) uint64 {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Seed: app.DefaultSandboxSeed, Customers: app.DefaultSandboxCustomers})
	if err != nil {
		t.Fatalf("build the sandbox world: %v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := partnerapi.New(partnerapi.Config{Credential: srv.DemoDistributor().Credential, Endpoint: strings.TrimPrefix(ts.URL, "http://"), Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryCustomersCredit(t.Context(), &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil || len(r.Data) == 0 {
		t.Fatalf("the sandbox's direct customers: %v", err)
	}
	return r.Data[0].ClientUin
}
