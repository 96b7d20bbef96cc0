package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// applicationRows lists the UINs of the pending customer applications the
// page shows.
func (tb *tab) applicationRows(t *testing.T) []string {
	t.Helper()
	return eval[[]string](t, tb, `[...document.querySelectorAll('[data-testid="customer-applications-table"] tbody tr')].map(
		r => r.getAttribute("data-testid").replace("application-", ""))`)
}

// inRow is the selector of an element of one application's row.
func inRow(uin, id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-testid="application-%s"] [data-testid=%q]`, uin, id))
}

// activate clicks an element from the page's script, as a person's click
// would reach it: the element must be there and visible.
func (tb *tab) activate(t *testing.T, what string, sel chromedp.CSS) {
	t.Helper()
	tb.do(t, "find "+what, chromedp.WaitVisible(sel))
	if !eval[bool](t, tb, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false; el.click(); return true; })()`, string(sel))) {
		tb.fatalf(t, "%s is not on the page", what)
	}
}

// TestApplicationsFromTheNavigation works through customer applications
// as staff would: from the navigation entry, one approved and one rejected
// in place, then two approved at once, whose job lists each outcome.
func TestApplicationsFromTheNavigation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0]) // a desktop, where the navigation is open
	tb.open(t, "/")

	tb.activate(t, "the navigation's Applications", chromedp.CSS(`nav.side a[href="/applications"]`))
	tb.do(t, "wait for the applications", chromedp.WaitVisible(testID("customer-applications-table")))
	rows := tb.applicationRows(t)
	if len(rows) < 4 {
		tb.fatalf(t, "%d customer applications listed, want at least 4", len(rows))
	}

	approve, reject := rows[0], rows[1]
	tb.activate(t, "approve "+approve, inRow(approve, "approve"))
	tb.do(t, "wait for the approval of "+approve, chromedp.WaitVisible(inRow(approve, "decision-ok")))
	if got := tb.text(t, inRow(approve, "decision-ok")); !strings.Contains(got, approve) {
		tb.fatalf(t, "the approval's outcome %q does not name %s", got, approve)
	}
	if tb.count(t, inRow(approve, "approve")) != 0 {
		tb.fatalf(t, "the approved application still offers to approve it")
	}

	tb.activate(t, "reject "+reject, inRow(reject, "reject-open"))
	tb.do(t, "give the reason", chromedp.SetValue(inRow(reject, "reject-reason"), "The documents do not match the account"))
	tb.activate(t, "send the rejection of "+reject, inRow(reject, "reject"))
	tb.do(t, "wait for the rejection of "+reject, chromedp.WaitVisible(inRow(reject, "decision-ok")))

	// The list, read again, no longer has them.
	tb.activate(t, "the lists' refresh", testID("applications-refresh"))
	tb.do(t, "wait for the lists read again", chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`[data-testid="application-%s"]`, approve))))
	left := tb.applicationRows(t)
	for _, u := range left {
		if u == approve || u == reject {
			tb.fatalf(t, "decided application %s is still listed: %v", u, left)
		}
	}
	if len(left) != len(rows)-2 {
		tb.fatalf(t, "%d applications left, want %d", len(left), len(rows)-2)
	}

	// Two at once.
	first, second := left[0], left[1]
	tb.activate(t, "select "+first, testID("select-"+first))
	tb.activate(t, "select "+second, testID("select-"+second))
	tb.do(t, "choose to approve", chromedp.SetValue(testID("bulk-customer-decision"), "pass"))
	tb.activate(t, "send the decision on the selected", testID("bulk-customer-submit"))
	tb.do(t, "wait for the job's page", chromedp.WaitVisible(testID("job-status")))
	if path := tb.path(t); !strings.HasPrefix(path, "/jobs/") {
		tb.fatalf(t, "the bulk decision went to %s, want its job's page", path)
	}
	tb.waitUntil(t, "the job to finish", `document.querySelector('[data-testid="job-status"]').textContent.trim() === "Done"`)
	if got := tb.text(t, testID("job-detail")); !strings.Contains(got, "2 done") {
		tb.fatalf(t, "the job's page does not count two approvals: %q", got)
	}
	id := strings.TrimPrefix(tb.path(t), "/jobs/")

	// Each application's outcome, named.
	tb.open(t, "/applications?decision="+id)
	tb.do(t, "wait for the decision's outcomes", chromedp.WaitVisible(testID("decision-ok")))
	outcomes := eval[[]string](t, tb, `[...document.querySelectorAll('[data-testid="decision-ok"]')].map(d => d.getAttribute("data-uin"))`)
	if len(outcomes) != 2 || !strings.Contains(strings.Join(outcomes, " "), first) || !strings.Contains(strings.Join(outcomes, " "), second) {
		tb.fatalf(t, "the decision lists outcomes for %v, want %s and %s", outcomes, first, second)
	}
	for _, u := range tb.applicationRows(t) {
		if u == first || u == second {
			tb.fatalf(t, "application %s, approved in bulk, is still listed", u)
		}
	}
	tb.checkAccessibility(t)
}
