package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// invitationState is the state the invitations list shows for an address.
func (tb *tab) invitationState(t *testing.T, email string) string {
	t.Helper()
	return eval[string](t, tb, fmt.Sprintf(`(() => {
		const row = [...document.querySelectorAll('[data-testid=invitation-row]')].find(r => r.cells[0].innerText.trim() === %q);
		return row ? row.getAttribute("data-state") : "";
	})()`, email))
}

// TestInvitationFromTheNavigation sends an invitation from the navigation
// entry, sees it unused, accepts it as the invited party through the
// sandbox outbox, and sees it used.
func TestInvitationFromTheNavigation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0]) // a desktop, where the navigation is open
	tb.open(t, "/")
	const addr = "invited.customer@example.com"

	tb.do(t, "open onboarding from the navigation and its invitations",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/onboarding"]`)),
		chromedp.WaitVisible(testID("go-invitations")),
		chromedp.Click(testID("go-invitations")),
		chromedp.WaitVisible(testID("invite-email")),
	)
	tb.do(t, "send an invitation",
		chromedp.SendKeys(testID("invite-email"), addr),
		chromedp.Click(testID("invite-submit")),
		chromedp.WaitVisible(testID("flash")),
	)
	if got := tb.text(t, testID("flash")); !strings.Contains(got, addr) {
		tb.fatalf(t, "after sending, the page says %q", got)
	}
	if got := tb.invitationState(t, addr); got != "unused" {
		tb.fatalf(t, "the new invitation is %q, want unused", got)
	}
	link := eval[string](t, tb, `document.querySelector("[data-testid=invitation-link]").value`)
	if !strings.Contains(link, "RegisterToken=") {
		tb.fatalf(t, "the invitation's link is %q", link)
	}
	tb.checkAccessibility(t)

	tb.do(t, "accept it as the invited party in the sandbox outbox",
		chromedp.Click(testID("outbox-link")),
		chromedp.WaitVisible(testID("outbox-accept")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-to=%q] [data-testid=outbox-accept]`, addr))),
		chromedp.WaitVisible(testID("outbox-accepted")),
	)
	if got := tb.text(t, testID("flash")); !strings.Contains(got, "Applications") {
		tb.fatalf(t, "after accepting, the outbox says %q", got)
	}
	tb.checkAccessibility(t)

	tb.open(t, "/onboarding/invitations")
	tb.do(t, "wait for the list", chromedp.WaitVisible(testID("invitations")))
	if got := tb.invitationState(t, addr); got != "used" {
		tb.fatalf(t, "after acceptance the invitation is %q, want used", got)
	}
	if got := tb.text(t, testID("invitation-detail")); !strings.Contains(got, "By account") {
		tb.fatalf(t, "the used invitation says %q, want by whom", got)
	}
	// The pages with rows, on a phone, in both languages.
	tb.emulate(t, screens[1])
	for _, lang := range screens[1].languages {
		if tb.lang(t) != lang {
			tb.chooseLanguage(t, lang)
		}
		for _, path := range []string{"/onboarding", "/onboarding/invitations", "/sandbox/outbox"} {
			if problems := tb.pageProblems(t, pageVisit{path, http.StatusOK}); len(problems) > 0 {
				t.Errorf("%s on a phone in %s: %s", path, lang, strings.Join(problems, "\n  - "))
			}
		}
	}
}

// setSelect chooses a value of a select as a person would, so that its
// change event fires (htmx listens to it).
func setSelect(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector('[data-testid=%q]');
		s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, id, value))
}

// TestAccountCreatedWithTheCodeFromTheOutbox creates a customer account
// from the navigation entry: the second-level industry loaded by htmx, the
// SMS code sent and read in a second tab from the sandbox outbox, and the
// new customer's UIN with a link to its page.
func TestAccountCreatedWithTheCodeFromTheOutbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	tb.emulate(t, screens[0])
	tb.open(t, "/")
	const phone = "61239876"

	tb.do(t, "open the account form from the navigation",
		chromedp.Click(chromedp.CSS(`nav.side a[href="/onboarding"]`)),
		chromedp.WaitVisible(testID("go-account")),
		chromedp.Click(testID("go-account")),
		chromedp.WaitVisible(testID("account-form")),
	)
	if tb.count(t, testID("choose-industry")+":not([hidden])") != 0 {
		tb.fatalf(t, "with script, the script-less industry button is shown")
	}
	tb.do(t, "fill in the account and choose the industries",
		setSelect("account-type", "company"),
		chromedp.SendKeys(testID("account-email"), "created.in.browser@example.com"),
		chromedp.SendKeys(testID("account-name"), "Lotus Games Ltd"),
		setSelect("trade-one", "kghy_07"),
		chromedp.WaitReady(chromedp.CSS(`[data-testid=trade-two] option[value="kghy_0701"]`)),
		setSelect("trade-two", "kghy_0701"),
		setSelect("account-country", "HK"),
		chromedp.SendKeys(testID("account-phone"), phone),
	)
	tb.do(t, "send the code",
		chromedp.Click(testID("send-code")),
		chromedp.WaitVisible(testID("code-sent")),
		chromedp.WaitVisible(testID("code-countdown")),
	)
	if got := tb.text(t, testID("code-countdown")); !strings.Contains(got, "seconds") {
		tb.fatalf(t, "the countdown says %q", got)
	}
	if !eval[bool](t, tb, `document.getElementById("send-code").disabled`) {
		tb.fatalf(t, "the send button is not disabled while the countdown runs")
	}
	// What was typed in the other steps is still there.
	if got := eval[string](t, tb, `document.querySelector("[data-testid=account-email]").value`); got != "created.in.browser@example.com" {
		tb.fatalf(t, "sending the code lost the address: %q", got)
	}

	// The code, read from the sandbox outbox in another tab.
	outbox := e.signedInTab(t, staff.username)
	outbox.emulate(t, screens[0])
	outbox.open(t, "/sandbox/outbox")
	sel := chromedp.CSS(fmt.Sprintf(`tr[data-to="+852 %s"] [data-testid=outbox-code]`, phone))
	outbox.do(t, "find the code in the outbox", chromedp.WaitVisible(sel))
	code := outbox.text(t, sel)
	if len(code) != 6 {
		outbox.fatalf(t, "the outbox shows code %q", code)
	}
	outbox.checkAccessibility(t)

	tb.do(t, "type the password and the code, and create the account",
		chromedp.SendKeys(testID("account-password"), "Lotus#2026go"),
		chromedp.SendKeys(testID("account-confirm"), "Lotus#2026go"),
		chromedp.SendKeys(testID("account-code"), code),
		chromedp.Click(testID("account-submit")),
		chromedp.WaitVisible(testID("new-uin")+", "+testID("account-problem")),
	)
	if tb.count(t, testID("new-uin")) != 1 {
		tb.fatalf(t, "the account was not created")
	}
	uin := tb.text(t, testID("new-uin"))
	if href := eval[string](t, tb, `document.querySelector("[data-testid=new-customer-link]").getAttribute("href")`); href != "/customers/"+uin {
		tb.fatalf(t, "the new customer's link is %q, want /customers/%s", href, uin)
	}
	if strings.Contains(tb.path(t), "Lotus") {
		tb.fatalf(t, "the password is in the address: %s", tb.path(t))
	}
	tb.checkAccessibility(t)
}
