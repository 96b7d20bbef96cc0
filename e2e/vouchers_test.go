package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestVoucherListWithAFilter follows finance from the navigation to the
// vouchers, filters them by status in place, and opens one voucher's usage.
func TestVoucherListWithAFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, finance)
	tb := e.signedInTab(t, finance.username)
	tb.emulate(t, screens[0]) // the navigation shows beside the page
	tb.open(t, "/")

	tb.do(t, "open Vouchers from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/vouchers"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("voucher-filters")),
	)
	tb.waitUntil(t, "the vouchers and the pool", `document.querySelectorAll("[data-testid=voucher-row]").length > 0 && document.querySelector("[data-testid=voucher-pool-total]") !== null`)
	tb.do(t, "show the used vouchers", chromedp.Evaluate[chromedp.Void](
		`(s => { s.value = "Used"; s.dispatchEvent(new Event("change", {bubbles: true})) })(document.getElementById("f-status"))`))
	tb.waitUntil(t, "only used vouchers", `location.search.includes("status=Used") && (rows => rows.length > 0 && rows.every(r => r.dataset.status === "vouchers.status_Used"))([...document.querySelectorAll("[data-testid=voucher-row]")])`)
	if path := tb.path(t); path != "/vouchers" {
		t.Errorf("filtering left the page for %s", path)
	}
	tb.do(t, "open a voucher's usage",
		chromedp.Click(chromedp.CSS(`[data-testid=voucher-row] [data-testid=voucher-usage-link]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("usage-title")),
	)
	tb.waitUntil(t, "its usage", `document.querySelectorAll("[data-testid=usage-row]").length > 0`)
}

// TestBillFileDownloadThroughItsReadyState asks for last month's bill
// package, watches the page say it is being generated, and follows it,
// without a click, until the download link is ready; the link serves the
// file.
func TestBillFileDownloadThroughItsReadyState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.open(t, "/vouchers")
	tb.do(t, "open Bill files",
		chromedp.Click(testID("vouchers-bill-files"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("billfile-form")),
	)
	month := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	tb.do(t, "ask for last month's detailed bill package",
		chromedp.SetValue(testID("billfile-month"), month),
		chromedp.SetValue(testID("billfile-type"), "billDetailPack"),
		chromedp.Click(testID("billfile-request")),
		chromedp.WaitVisible(testID("file-generating")),
	)
	if !strings.HasPrefix(tb.path(t), "/bills/files/") {
		t.Fatalf("the request went to %s", tb.path(t))
	}
	tb.do(t, "wait until the file is ready", chromedp.WaitVisible(testID("file-ready")))
	href := eval[string](t, tb, `document.querySelector("[data-testid=file-state] [data-testid=file-download]").href`)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "PayerUin,") {
		t.Fatalf("the link %s answered %d: %.80q", href, resp.StatusCode, body)
	}
}
