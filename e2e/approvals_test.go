package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSuspensionApprovedBySecondPerson: with four-eyes approval switched
// on by the administrator, a staff member's suspension waits — the
// customer page says so and nothing is suspended — until a second person
// (the administrator) approves it from Approvals; then it happens.
func TestSuspensionApprovedBySecondPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	admin := e.signedInTab(t, "admin")
	admin.emulate(t, screens[0])
	admin.open(t, "/")
	admin.do(t, "open the four-eyes settings from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/admin/four-eyes"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("foureyes-form")),
	)
	if problems := admin.pageProblems(t, pageVisit{"/admin/four-eyes", http.StatusOK}); len(problems) > 0 {
		t.Errorf("the settings page: %s", strings.Join(problems, "; "))
	}
	admin.do(t, "switch four-eyes approval on",
		chromedp.Click(testID("foureyes-enabled"), chromedp.NodeVisible),
		chromedp.Click(testID("foureyes-save")),
		chromedp.WaitVisible(testID("flash")),
	)
	if !eval[bool](t, admin, `document.querySelector("[data-testid=foureyes-enabled]").checked`) {
		t.Fatal("four-eyes approval is not on after saving")
	}

	sam := e.signedInTab(t, staff.username)
	sam.emulate(t, screens[0])
	sam.open(t, "/customers")
	sam.do(t, "read the customer list", chromedp.Click(testID("customers-refresh"), chromedp.NodeVisible), chromedp.WaitVisible(testID("flash")))
	if sam.count(t, testID("customers-refreshing")) > 0 {
		sam.do(t, "follow the refresh", chromedp.Click(testID("customers-refreshing")), chromedp.WaitVisible(testID("job-status")))
		sam.waitUntil(t, "the refresh to finish", `document.querySelector("[data-testid=job-status]").innerText === "Done"`)
	}
	sam.open(t, "/customers?reseller=direct")
	sam.waitUntil(t, "the direct customers", `document.querySelectorAll("[data-testid=customer-row]").length > 0`)
	uin := eval[string](t, sam, `document.querySelector("[data-testid=customer-row]").dataset.uin`)
	name := eval[string](t, sam, `document.querySelector("[data-testid=customer-row] td:nth-child(2)").textContent.trim()`)

	sam.open(t, "/customers/"+uin)
	sam.do(t, "ask to suspend",
		chromedp.Click(testID("customer-suspend"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("suspend-confirm")),
		chromedp.Click(testID("suspend-confirm")),
		chromedp.WaitVisible(testID("flash")),
	)
	if msg := sam.text(t, testID("flash")); !strings.Contains(msg, "second person") || !strings.Contains(msg, "#") {
		t.Errorf("the customer page says %q, want that the suspension waits for a second person", msg)
	}
	if path := sam.path(t); path != "/customers/"+uin {
		t.Errorf("the held suspension went to %s", path)
	}
	if sam.count(t, testID("customer-restore")) != 0 {
		t.Fatal("the customer was suspended before anyone approved")
	}
	sam.open(t, "/approvals?list=mine")
	sam.do(t, "open my request", chromedp.Click(testID("approval-link"), chromedp.NodeVisible), chromedp.WaitVisible(testID("approval-own")))
	if sam.count(t, testID("approve-form")) != 0 {
		t.Error("the requester is offered the approval")
	}

	admin.open(t, "/")
	if c := admin.text(t, testID("nav-count")); !strings.Contains(c, "1") {
		t.Errorf("the navigation counts %q waiting", c)
	}
	admin.do(t, "open Approvals from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/approvals"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("approval-row")),
	)
	for _, s := range screens {
		admin.emulate(t, s)
		if problems := admin.pageProblems(t, pageVisit{"/approvals", http.StatusOK}); len(problems) > 0 {
			t.Errorf("the Approvals page on %s: %s", s.name, strings.Join(problems, "; "))
		}
	}
	admin.emulate(t, screens[0])
	admin.do(t, "open the request", chromedp.Click(testID("approval-link"), chromedp.NodeVisible), chromedp.WaitVisible(testID("approve-confirm")))
	request := admin.path(t)
	if label := admin.text(t, testID("approve-confirm")); !strings.Contains(label, name) || !strings.Contains(label, uin) {
		t.Errorf("the approve button says %q, want the customer %s (%s)", label, name, uin)
	}
	for _, s := range screens {
		admin.emulate(t, s)
		for _, lang := range s.languages {
			if admin.lang(t) != lang {
				admin.chooseLanguage(t, lang)
			}
			if problems := admin.pageProblems(t, pageVisit{request, http.StatusOK}); len(problems) > 0 {
				t.Errorf("the request's page on %s in %s: %s", s.name, lang, strings.Join(problems, "; "))
			}
		}
	}
	admin.emulate(t, screens[0])
	admin.do(t, "approve",
		chromedp.Click(testID("approve-confirm"), chromedp.NodeVisible),
		chromedp.WaitVisible(testID("flash")),
	)
	admin.waitUntil(t, "the request to be used", fmt.Sprintf(`location.pathname === %q && document.querySelector("[data-testid=approval-state]").dataset.state === "used"`, request))

	sam.open(t, "/customers/"+uin)
	sam.do(t, "see the customer suspended", chromedp.WaitVisible(testID("customer-restore")))
}
