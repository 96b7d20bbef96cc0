package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCustomerRemarkAndSuspension follows a staff member from the
// navigation to a customer: the list read from Tencent Cloud, a search, the
// customer's page, its remark changed in place, its services suspended
// and restored, each behind its confirmation.
func TestCustomerRemarkAndSuspension(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0]) // the navigation shows beside the page
	tb.open(t, "/")

	tb.do(t, "open Customers from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/customers"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("customers-empty-table")),
		chromedp.Click(testID("customers-refresh"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("flash")),
	)
	// While the refresh runs the list links to its job, whose page follows
	// it to the end.
	if tb.count(t, testID("customers-refreshing")) > 0 {
		tb.do(t, "follow the refresh", chromedp.Click(testID("customers-refreshing")), chromedp.WaitVisible(testID("job-status")))
		tb.waitUntil(t, "the refresh to finish", `document.querySelector("[data-testid=job-status]").innerText === "Done"`)
		tb.do(t, "back to Customers", chromedp.Click(chromedp.CSS(`nav.side a[href="/customers"]`)), chromedp.WaitVisible(testID("customer-filters")))
	}
	tb.waitUntil(t, "the customer list", `document.querySelectorAll("[data-testid=customer-row]").length > 0`)

	// The partner's own customers: its resellers' need their keys to change.
	tb.do(t, "show the direct customers", chromedp.Evaluate[chromedp.Void](
		`(s => { s.value = "direct"; s.dispatchEvent(new Event("change", {bubbles: true})) })(document.getElementById("f-reseller"))`))
	tb.waitUntil(t, "the direct customers", `location.search.includes("reseller=direct") && document.querySelectorAll("[data-testid=customer-row]").length > 0`)

	name := eval[string](t, tb, `document.querySelector("[data-testid=customer-row] td:nth-child(2)").textContent.trim()`)
	uin := eval[string](t, tb, `document.querySelector("[data-testid=customer-row]").dataset.uin`)
	word := strings.Fields(name)[0]
	tb.do(t, "search by the customer's name",
		chromedp.SendKeys(testID("customer-search"), word),
	)
	tb.waitUntil(t, "the search results", fmt.Sprintf(
		`location.search.includes("q=") && [...document.querySelectorAll("[data-testid=customer-row]")].some(r => r.dataset.uin === %q)`, uin))
	tb.do(t, "open the customer",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=customer-row][data-uin=%q] [data-testid=customer-link]`, uin)), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("customer-account")),
	)
	if got := tb.text(t, testID("customer-name")); got != name {
		t.Fatalf("the page is about %q, want %q", got, name)
	}
	tb.waitUntil(t, "the customer's details", `document.querySelector("[data-testid=customer-credit-total]") !== null`)
	if problems := tb.pageProblems(t, pageVisit{"/customers/" + uin, http.StatusOK}); len(problems) > 0 {
		t.Errorf("the customer's page: %s", strings.Join(problems, "; "))
	}

	remark := "Renewal call in January — 一月续约"
	tb.do(t, "edit the remark in place",
		chromedp.Click(testID("remark-edit"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("remark-input")),
		chromedp.SetValue(testID("remark-input"), remark),
		chromedp.Click(testID("remark-save")),
		chromedp.WaitVisible(testID("remark-saved")),
	)
	if got := tb.text(t, testID("remark-text")); got != remark {
		t.Errorf("the remark shows %q, want %q", got, remark)
	}
	if path := tb.path(t); path != "/customers/"+uin {
		t.Errorf("saving in place left the page for %s", path)
	}

	tb.do(t, "ask to suspend",
		chromedp.Click(testID("customer-suspend"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("suspend-confirm")),
	)
	if h := tb.text(t, chromedp.CSS("h1")); !strings.Contains(h, name) || !strings.Contains(h, uin) {
		t.Errorf("the confirmation does not name the customer: %q", h)
	}
	tb.do(t, "confirm the suspension",
		chromedp.Click(testID("suspend-confirm")),
		chromedp.WaitVisible(testID("customer-restore")),
	)
	if msg := tb.text(t, testID("flash")); msg == "" {
		t.Error("no word that the services are suspended")
	}
	tb.do(t, "restore",
		chromedp.Click(testID("customer-restore"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("restore-confirm")),
		chromedp.Click(testID("restore-confirm")),
		chromedp.WaitVisible(testID("customer-suspend")),
	)

	// The list shows the new remark at once, and the audit trail on the
	// customer's page has the three changes.
	tb.open(t, "/customers?q="+uin)
	if got := tb.text(t, testID("customer-remark")); got != remark {
		t.Errorf("the list shows the remark %q", got)
	}
	tb.open(t, "/customers/"+uin)
	if n := tb.count(t, testID("customer-audit-row")); n < 6 {
		t.Errorf("%d audit rows on the customer's page, want an intent and an outcome for each of three changes", n)
	}

	// Money → Credit: the partner's line and the customers' from the list
	// just read, the ones running low first, filtered in place.
	tb.do(t, "open Credit from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/credit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("credit-partner-total")),
		chromedp.WaitVisible(testID("credit-row")),
	)
	tb.do(t, "show those with nothing left", chromedp.Evaluate[chromedp.Void](
		`(s => { s.value = "0"; s.dispatchEvent(new Event("change", {bubbles: true})) })(document.getElementById("f-watch"))`))
	tb.waitUntil(t, "the filtered list", `location.search.includes("watch=0") && [...document.querySelectorAll("[data-testid=credit-row]")].every(r => r.dataset.level === "3")`)
}
