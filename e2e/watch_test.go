package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLowCreditWatch follows a staff member who gives a customer a
// threshold of its own, from the credit overview to its watch page, and
// finds it listed on the dashboard as running low, linked to its page.
func TestLowCreditWatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0])

	// The customer list read from the (sandbox) partner API; nobody in
	// its world is past a default threshold.
	tb.startDirectoryRefresh(t)
	tb.waitUntil(t, "the refresh to finish", `document.querySelector("[data-testid=job-status]").innerText === "Done"`)
	tb.open(t, "/")
	tb.do(t, "see that nobody runs low", chromedp.WaitVisible(testID("dashboard-watch-empty")))

	// The customer with the largest credit line.
	tb.open(t, "/credit?sort=credit&desc=1")
	tb.waitUntil(t, "the credit list", `document.querySelectorAll("[data-testid=credit-row]").length > 0`)
	uin := eval[string](t, tb, `document.querySelector("[data-testid=credit-row]").dataset.uin`)
	watchPath := "/credit/" + uin + "/watch"
	tb.do(t, "open its low-credit watch",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=credit-row][data-uin=%q] a[href=%q]`, uin, watchPath)), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("watch-form")),
	)
	if n := tb.count(t, testID("watch-threshold")); n != 3 {
		t.Errorf("%d thresholds in effect, want the three defaults", n)
	}
	tb.do(t, "watch it at 100 % of its credit",
		chromedp.SetValue(chromedp.CSS(`[name="value.0"]`), "100"),
		chromedp.Click(testID("watch-save")),
		chromedp.WaitVisible(testID("flash")),
	)
	if path := tb.path(t); path != watchPath {
		t.Fatalf("saving went to %s, want the watch page again", path)
	}
	if tb.count(t, testID("watch-past")) != 1 || tb.count(t, testID("watch-threshold")) != 4 {
		t.Errorf("the page does not show the customer past its new threshold")
	}
	if problems := tb.pageProblems(t, pageVisit{watchPath, http.StatusOK}); len(problems) > 0 {
		t.Errorf("the watch page: %s", strings.Join(problems, "; "))
	}

	tb.open(t, "/")
	row := chromedp.CSS(fmt.Sprintf(`[data-testid=dashboard-watch-row][data-uin=%q]`, uin))
	tb.do(t, "find it on the dashboard", chromedp.WaitVisible(row))
	if problems := tb.pageProblems(t, pageVisit{"/", http.StatusOK}); len(problems) > 0 {
		t.Errorf("the dashboard: %s", strings.Join(problems, "; "))
	}
	tb.do(t, "open the customer from the dashboard",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=dashboard-watch-row][data-uin=%q] a[href="/customers/%s"]`, uin, uin)), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("customer-account")),
	)
	if path := tb.path(t); path != "/customers/"+uin {
		t.Errorf("the dashboard's link went to %s", path)
	}
	tb.do(t, "see where it stands on its page", chromedp.WaitVisible(testID("customer-watch-past")))

	// The list and the form on a phone, in both languages.
	phone := screens[1]
	tb.emulate(t, phone)
	for _, lang := range phone.languages {
		if tb.lang(t) != lang {
			tb.chooseLanguage(t, lang)
		}
		for _, path := range []string{"/", watchPath, "/credit?watch=any"} {
			if problems := tb.pageProblems(t, pageVisit{path, http.StatusOK}); len(problems) > 0 {
				t.Errorf("%s on a phone in %s: %s", path, lang, strings.Join(problems, "; "))
			}
		}
	}
}
