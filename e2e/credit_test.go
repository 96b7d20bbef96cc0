package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fillCustomers reads the customer list from Tencent Cloud through the
// customers page, as a person would before the credit pages have rows,
// following the refresh's job to its end.
func (tb *tab) fillCustomers(t *testing.T) {
	t.Helper()
	tb.open(t, "/customers")
	if tb.count(t, testID("customers-empty-table")) == 0 {
		return
	}
	tb.do(t, "read the customer list", chromedp.Click(testID("customers-refresh"), chromedp.NodeVisible), chromedp.WaitVisible(testID("flash")))
	if tb.count(t, testID("customers-refreshing")) > 0 {
		tb.do(t, "follow the refresh", chromedp.Click(testID("customers-refreshing")), chromedp.WaitVisible(testID("job-status")))
		tb.waitUntil(t, "the refresh to finish", `document.querySelector("[data-testid=job-status]").innerText === "Done"`)
		tb.open(t, "/customers")
	}
	tb.waitUntil(t, "the customer list", `document.querySelectorAll("[data-testid=customer-row]").length > 0`)
}

// here is the tab's address, with its query.
func (tb *tab) here(t *testing.T) string {
	t.Helper()
	return eval[string](t, tb, `location.pathname + location.search`)
}

// TestCreditAllocation allocates credit to a customer from Money → Credit
// through its confirmation, then tries more than the partner may allocate
// in Chinese and reads Tencent Cloud's refusal in Chinese, and finds both
// in the ledger.
func TestCreditAllocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0])
	tb.fillCustomers(t)

	tb.do(t, "open Credit from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/credit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("credit-row")),
	)
	uin := eval[string](t, tb, `document.querySelector("[data-testid=credit-row]").dataset.uin`)
	tb.do(t, "open the allocation form",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=credit-row][data-uin=%q] [data-testid=credit-allocate]`, uin)), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("allocate-amount")),
	)
	if problems := tb.pageProblems(t, pageVisit{tb.here(t), http.StatusOK}); len(problems) > 0 {
		t.Errorf("the allocation form: %s", strings.Join(problems, "; "))
	}
	tb.do(t, "type an amount and review it",
		chromedp.SendKeys(testID("allocate-amount"), "25.50"),
		chromedp.SendKeys(testID("allocate-remark"), "Top-up for December"),
		chromedp.Click(testID("allocate-review")),
		chromedp.WaitVisible(testID("allocate-confirmation")),
	)
	if got := tb.text(t, testID("review-amount")); !strings.Contains(got, "25.50") {
		t.Errorf("the confirmation shows %q", got)
	}
	tb.do(t, "confirm",
		chromedp.Click(testID("allocate-confirm")),
		chromedp.WaitVisible(`[data-testid=allocation-result][data-state=ok]`),
	)
	if got := tb.text(t, testID("allocation-credit-after")); got == "" {
		t.Error("no credit after the allocation")
	}
	// The allocation's page on every screen and in every language.
	allocation := tb.path(t)
	for _, s := range screens {
		tb.emulate(t, s)
		for _, lang := range s.languages {
			if tb.lang(t) != lang {
				tb.chooseLanguage(t, lang)
			}
			if problems := tb.pageProblems(t, pageVisit{allocation, http.StatusOK}); len(problems) > 0 {
				t.Errorf("the allocation's page on %s in %s: %s", s.name, lang, strings.Join(problems, "; "))
			}
		}
	}
	tb.emulate(t, screens[0])

	// In Chinese, more than the partner may allocate: warned on the
	// confirmation, refused by Tencent Cloud, the refusal in Chinese.
	if tb.lang(t) != "zh-CN" {
		tb.chooseLanguage(t, "zh-CN")
	}
	tb.open(t, "/credit/"+uin+"/allocate")
	tb.do(t, "try too much",
		chromedp.SendKeys(testID("allocate-amount"), "999999999"),
		chromedp.Click(testID("allocate-review")),
		chromedp.WaitVisible(testID("review-warning")),
		chromedp.Click(testID("allocate-confirm")),
		chromedp.WaitVisible(`[data-testid=allocation-result][data-state=failed]`),
	)
	if got := tb.text(t, testID("api-problem")); !strings.Contains(got, "超出了您当前可分配的信用额度") || !strings.Contains(got, "RequestId") {
		t.Errorf("the refusal reads %q", got)
	}

	tb.do(t, "open the ledger from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/credit/ledger"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("ledger")),
	)
	states := eval[[]string](t, tb, `[...document.querySelectorAll("[data-testid=ledger-row]")].map(r => r.dataset.state)`)
	if strings.Join(states, ",") != "failed,ok" {
		t.Errorf("the ledger lists %q, want the refusal then the allocation", states)
	}
}

// TestPoolAllocation allocates to a second-level reseller's pool from its
// page, and sends the confirmed form twice to see it applied once.
func TestPoolAllocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tb := e.signedInTab(t, "admin")
	tb.emulate(t, screens[1]) // on a phone
	tb.open(t, "/resellers")
	tb.do(t, "open a reseller",
		chromedp.Click(testID("reseller-open"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("reseller-pool")),
		chromedp.Click(testID("reseller-pool")),
		chromedp.WaitVisible(testID("allocate-amount")),
	)
	before := tb.text(t, testID("allocate-credit"))
	tb.do(t, "allocate to the pool",
		chromedp.SendKeys(testID("allocate-amount"), "100"),
		chromedp.Click(testID("allocate-review")),
		chromedp.WaitVisible(testID("allocate-confirmation")),
	)
	review := tb.here(t)
	if problems := tb.pageProblems(t, pageVisit{review, http.StatusOK}); len(problems) > 0 {
		t.Errorf("the pool's confirmation: %s", strings.Join(problems, "; "))
	}
	tb.do(t, "confirm",
		chromedp.Click(testID("allocate-confirm")),
		chromedp.WaitVisible(`[data-testid=allocation-result][data-state=ok]`),
	)
	page := tb.path(t)
	// Back to the confirmation (as the back button does) and confirm
	// again: the same allocation, told so.
	tb.open(t, review)
	tb.do(t, "confirm again",
		chromedp.WaitVisible(testID("allocate-confirm")),
		chromedp.Click(testID("allocate-confirm")),
		chromedp.WaitVisible(testID("allocation-replayed")),
	)
	if again := tb.path(t); again != page {
		t.Errorf("confirming again led to %s, not %s", again, page)
	}
	after := tb.text(t, testID("allocation-credit-after"))
	if after == "" || after == before {
		t.Errorf("the pool went from %q to %q", before, after)
	}
}

// TestBulkAllocation pastes three lines into Bulk allocation, reads the
// preview's totals, confirms, and follows the progress to each line's
// outcome.
func TestBulkAllocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0])
	tb.fillCustomers(t)
	tb.open(t, "/credit")
	uins := eval[[]string](t, tb, `[...document.querySelectorAll("[data-testid=credit-row]")].slice(0, 3).map(r => r.dataset.uin)`)
	if len(uins) != 3 {
		t.Fatalf("%d customers listed", len(uins))
	}
	lines := "uin,amount,remark\n" + uins[0] + ",10,December\n" + uins[1] + ",20.50,December\n" + uins[2] + ",5,December\n"
	tb.do(t, "open Bulk allocation from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/credit/bulk"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("bulk-text")),
		chromedp.SetValue(testID("bulk-text"), lines),
		chromedp.Click(testID("bulk-check")),
		chromedp.WaitVisible(testID("bulk-confirm")),
	)
	if got := tb.text(t, testID("bulk-added")); got != "USD 35.50" {
		t.Errorf("the preview adds %q", got)
	}
	preview := tb.here(t)
	for _, s := range screens {
		tb.emulate(t, s)
		for _, lang := range s.languages {
			if tb.lang(t) != lang {
				tb.chooseLanguage(t, lang)
			}
			if problems := tb.pageProblems(t, pageVisit{preview, http.StatusOK}); len(problems) > 0 {
				t.Errorf("the preview on %s in %s: %s", s.name, lang, strings.Join(problems, "; "))
			}
		}
	}
	tb.emulate(t, screens[0])
	tb.chooseLanguage(t, "en")
	tb.do(t, "confirm", chromedp.Click(testID("bulk-confirm")), chromedp.WaitVisible(testID("bulk-outcomes")))
	tb.waitUntil(t, "every line's outcome", `document.querySelector("[data-testid=bulk-body]").dataset.running === "false" &&
		[...document.querySelectorAll("[data-testid=bulk-line]")].every(l => l.dataset.state === "ok")`)
	if n := tb.count(t, testID("bulk-result-csv")); n != 1 {
		t.Error("no result file to download")
	}
}

// TestAllocationApprovedBySecondPerson: with four-eyes approval on for
// allocations above 100 dollars, a staff member's allocation of 300 waits;
// the administrator approves it from its request, and it is made.
func TestAllocationApprovedBySecondPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	admin := e.signedInTab(t, "admin")
	admin.emulate(t, screens[0])
	admin.open(t, "/admin/four-eyes")
	admin.do(t, "switch four-eyes approval on above USD 100",
		chromedp.Click(testID("foureyes-enabled"), chromedp.NodeVisible),
		chromedp.SetValue(testID("foureyes-threshold"), "100"),
		chromedp.Click(testID("foureyes-save")),
		chromedp.WaitVisible(testID("flash")),
	)
	sam := e.signedInTab(t, staff.username)
	sam.emulate(t, screens[0])
	sam.fillCustomers(t)
	sam.open(t, "/credit")
	uin := eval[string](t, sam, `document.querySelector("[data-testid=credit-row]").dataset.uin`)
	sam.open(t, "/credit/"+uin+"/allocate")
	sam.do(t, "allocate 300",
		chromedp.SendKeys(testID("allocate-amount"), "300"),
		chromedp.Click(testID("allocate-review")),
		chromedp.WaitVisible(testID("allocate-confirm")),
		chromedp.Click(testID("allocate-confirm")),
		chromedp.WaitVisible(testID("allocation-held")),
	)
	allocation := sam.path(t)
	request := eval[string](t, sam, `document.querySelector("[data-testid=allocation-approval]").getAttribute("href")`)

	admin.open(t, request)
	admin.do(t, "approve",
		chromedp.Click(testID("approve-confirm"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("flash")),
	)
	// Approved, it is on its way or made: the page follows it.
	sam.open(t, allocation)
	sam.waitUntil(t, "the allocation to be made", `document.querySelector("[data-testid=allocation-result]").dataset.state === "ok"`)
	if got := sam.text(t, testID("allocation-credit-after")); got == "" {
		t.Error("no credit after the approved allocation")
	}
}
