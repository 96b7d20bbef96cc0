package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSignInShowsDashboard signs in with each role and checks the dashboard
// and the navigation that role gets.
func TestSignInShowsDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff, finance)
	cases := []struct {
		username    string
		displayName string          // what the top bar names
		nav         map[string]bool // side navigation links that must be there (true) or absent (false)
	}{
		{"admin", "Administrator", map[string]bool{"/": true, "/audit": true, "/admin/users": true, "/admin/credentials": true}},
		{staff.username, staff.username, map[string]bool{"/": true, "/audit": false, "/admin/users": false, "/admin/credentials": false}},
		{finance.username, finance.username, map[string]bool{"/": true, "/audit": true, "/admin/users": false, "/admin/credentials": false}},
	}
	for _, c := range cases {
		t.Run(c.username, func(t *testing.T) {
			tb := e.signedInTab(t, c.username)
			if got := tb.path(t); got != "/" {
				tb.fatalf(t, "after signing in the browser is on %s, want /", got)
			}
			tb.do(t, "wait for the dashboard",
				chromedp.WaitVisible(testID("dashboard-cards")),
				chromedp.WaitVisible(testID("sandbox-banner")),
			)
			if tb.count(t, testID("credit-total")) != 1 {
				tb.fatalf(t, "the dashboard has no credit figure")
			}
			if got := tb.text(t, testID("credit-total")); got == "" {
				tb.fatalf(t, "the credit figure is empty")
			}
			if got := tb.text(t, testID("signed-in-as")); !strings.Contains(got, c.displayName) {
				tb.fatalf(t, "the top bar says %q, want it to name %q", got, c.displayName)
			}
			links := eval[[]string](t, tb, `[...document.querySelectorAll("nav.side a")].map(a => a.getAttribute("href"))`)
			for href, want := range c.nav {
				if got := slices.Contains(links, href); got != want {
					tb.fatalf(t, "side navigation links %v: has %s = %v, want %v", links, href, got, want)
				}
			}
		})
	}
}

// TestWrongPasswordIsRefused checks the one generic failure message, and
// that a failure does not spoil the next, correct attempt.
func TestWrongPasswordIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tb := e.newTab(t)
	attempts := []struct{ name, username, password string }{
		{"wrong password", "admin", "not-the-password-1"},
		{"unknown user", "nobody", "not-the-password-1"},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			tb.submitLogin(t, a.username, a.password)
			tb.do(t, "wait for the failure message", chromedp.WaitVisible(testID("login-error")))
			tb.checkAccessibility(t)
			if got := tb.path(t); got != "/login" {
				tb.fatalf(t, "after a failed sign-in the browser is on %s, want /login", got)
			}
			if tb.count(t, testID("signed-in-as")) != 0 {
				tb.fatalf(t, "a failed sign-in shows a signed-in top bar")
			}
			if v := eval[string](t, tb, `document.querySelector("[data-testid=password]").value`); v != "" {
				tb.fatalf(t, "the password field is filled in again after a failure: %q", v)
			}
		})
	}
	tb.signIn(t, "admin", adminPassword)
	if got := tb.path(t); got != "/" {
		tb.fatalf(t, "after signing in the browser is on %s, want /", got)
	}
	if tb.count(t, testID("login-error")) != 0 {
		t.Fatal("the dashboard still shows the sign-in failure")
	}
}

// TestSignOut signs out and checks that signed-in pages send the browser
// back to the sign-in page.
func TestSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tb := e.signedInTab(t, "admin")
	tb.do(t, "sign out",
		chromedp.Click(testID("logout")),
		chromedp.WaitVisible(testID("login-form")),
	)
	if got := tb.path(t); got != "/login" {
		tb.fatalf(t, "after signing out the browser is on %s, want /login", got)
	}
	for _, path := range []string{"/", "/audit", "/account"} {
		t.Run(path, func(t *testing.T) {
			tb.open(t, path)
			if got := tb.path(t); got != "/login" {
				tb.fatalf(t, "after signing out, %s shows %s, want /login", path, got)
			}
			if tb.count(t, testID("login-form")) != 1 || tb.count(t, testID("signed-in-as")) != 0 {
				tb.fatalf(t, "after signing out, %s does not show the sign-in form alone", path)
			}
		})
	}
}

// TestLanguageSwitch picks Chinese and English with the language select, on
// the sign-in page and signed in, and checks that the choice is kept.
func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.newTab(t)
	tb.open(t, "/login")
	if got := tb.lang(t); got != "en" {
		t.Fatalf("the sign-in page starts in %q, want en", got)
	}
	english := tb.text(t, "h1")

	tb.chooseLanguage(t, "zh-CN")
	if got := tb.path(t); got != "/login" {
		tb.fatalf(t, "choosing a language went to %s, want back to /login", got)
	}
	chinese := tb.text(t, "h1")
	if chinese == english {
		tb.fatalf(t, "the heading %q is the same in zh-CN and en", chinese)
	}

	tb.chooseLanguage(t, "en")
	if got := tb.text(t, "h1"); got != english {
		tb.fatalf(t, "back in English the heading is %q, want %q", got, english)
	}

	// A choice made before signing in holds after it.
	tb.chooseLanguage(t, "zh-CN")
	tb.signIn(t, staff.username, e.portal.password(staff.username))
	for _, path := range []string{"/", "/account"} {
		tb.open(t, path)
		if got := tb.lang(t); got != "zh-CN" {
			tb.fatalf(t, "signed in, %s is in %q, want zh-CN", path, got)
		}
	}

	// A choice made signed in belongs to the user: it holds in a new
	// browser that signs in as them.
	tb.chooseLanguage(t, "en")
	if got := tb.path(t); got != "/account" {
		tb.fatalf(t, "choosing a language went to %s, want back to /account", got)
	}
	tb.chooseLanguage(t, "zh-CN")
	other := e.signedInTab(t, staff.username)
	if got := other.lang(t); got != "zh-CN" {
		other.fatalf(t, "a new sign-in of a user who chose zh-CN is in %q", got)
	}
}

// chooseLanguage picks a language in the top bar's select and submits its
// form, with the form's own button when it shows one (as a person would),
// and waits for the page that comes back in that language.
func (tb *tab) chooseLanguage(t *testing.T, code string) {
	t.Helper()
	if got := tb.lang(t); got == code {
		tb.fatalf(t, "the page is in %s already; nothing to wait for", code)
	}
	pick := fmt.Sprintf(`(() => {
		const sel = document.querySelector("[data-testid=language]");
		sel.value = %q;
		if (sel.value !== %[1]q) throw new Error("the language select has no option %[1]s");
		const button = sel.form.querySelector("button[type=submit], input[type=submit]");
		if (button) sel.form.requestSubmit(button); else sel.form.requestSubmit();
	})()`, code)
	tb.do(t, "choose "+code,
		chromedp.Evaluate[chromedp.Void](pick),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`html[lang=%q] h1`, code))),
	)
}

// TestStaffIsRefusedAdministration checks that staff get the 403 page on
// the administrator's pages, and no way there in the navigation.
func TestStaffIsRefusedAdministration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff)
	tb := e.signedInTab(t, staff.username)
	for _, path := range []string{"/admin/users", "/admin/users/1", "/admin/credentials"} {
		t.Run(path, func(t *testing.T) {
			expectForbidden(t, tb, path)
		})
	}
	if tb.count(t, "nav.side") != 1 {
		tb.fatalf(t, "the 403 page has no side navigation to check")
	}
	if n := tb.count(t, `a[href^="/admin/users"]`); n != 0 {
		tb.fatalf(t, "staff see %d links to /admin/users", n)
	}
}

// expectForbidden opens path and expects the 403 page.
func expectForbidden(t *testing.T, tb *tab, path string) {
	t.Helper()
	if status := tb.openStatus(t, path); status != http.StatusForbidden {
		tb.fatalf(t, "%s answered %d, want 403", path, status)
	}
	tb.do(t, "wait for the 403 page", chromedp.WaitVisible(testID("error-403")))
}

// TestFinanceHasNoWriteForms checks that the read-only finance role is
// offered no form that changes anything but its own password, time zone and sessions,
// and is refused the administrator's pages.
func TestFinanceHasNoWriteForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, finance)
	// A second session, so that /account lists one to end.
	e.signedInTab(t, finance.username)
	tb := e.signedInTab(t, finance.username)

	everywhere := func(action string) bool { return action == "/logout" || action == "/language" }
	ownAccount := func(action string) bool {
		id, ok := strings.CutPrefix(action, "/account/sessions/")
		return everywhere(action) || action == "/account/password" || action == "/account/time-zone" ||
			(ok && strings.HasSuffix(id, "/end") && !strings.Contains(strings.TrimSuffix(id, "/end"), "/"))
	}
	pages := []struct {
		path    string
		allowed func(action string) bool
		want    []string // post forms that must be there
	}{
		{"/", everywhere, []string{"/logout", "/language"}},
		{"/audit", everywhere, []string{"/logout", "/language"}},
		{"/account", ownAccount, []string{"/logout", "/language", "/account/password"}},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			if status := tb.openStatus(t, p.path); status != http.StatusOK {
				tb.fatalf(t, "%s answered %d, want 200", p.path, status)
			}
			actions := eval[[]string](t, tb, `[...document.forms].filter(f => f.method === "post").map(f => f.getAttribute("action") || "")`)
			for _, a := range actions {
				if !p.allowed(a) {
					tb.fatalf(t, "finance is offered a form that posts to %q (all post forms: %v)", a, actions)
				}
			}
			for _, a := range p.want {
				if !slices.Contains(actions, a) {
					tb.fatalf(t, "the page has no form posting to %s (all post forms: %v)", a, actions)
				}
			}
			writes := eval[[]string](t, tb, `[...document.querySelectorAll(
				"[hx-post],[hx-put],[hx-patch],[hx-delete],[data-hx-post],[data-hx-put],[data-hx-patch],[data-hx-delete],[formmethod=post]"
			)].map(el => el.outerHTML.slice(0, 200))`)
			if len(writes) > 0 {
				tb.fatalf(t, "finance is offered elements that write: %v", writes)
			}
		})
	}
	if got := eval[int](t, tb, `document.querySelectorAll('form[action^="/account/sessions/"]').length`); got == 0 {
		t.Error("with two sessions, /account offers none to end; the session-end allowance went untested")
	}

	for _, path := range []string{"/admin/users", "/admin/credentials"} {
		t.Run(path, func(t *testing.T) {
			expectForbidden(t, tb, path)
		})
	}
}

// TestAuditListsLogins has staff and finance sign in (staff after one
// failure), then reads the audit log as the administrator.
func TestAuditListsLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, staff, finance)
	sam := e.newTab(t)
	sam.submitLogin(t, staff.username, "not-the-password-1")
	sam.do(t, "wait for the failure message", chromedp.WaitVisible(testID("login-error")))
	sam.signIn(t, staff.username, e.portal.password(staff.username))
	e.signedInTab(t, finance.username)
	admin := e.signedInTab(t, "admin")

	admin.open(t, "/audit")
	admin.do(t, "wait for the audit rows", chromedp.WaitVisible(testID("audit-rows")))
	type row struct{ actor, action string }
	// A cell that shows an action in words carries its code in its title.
	cells := eval[[][]string](t, admin, `[...document.querySelectorAll("[data-testid=audit-row]")].map(
		r => [...r.cells].map(c => (c.getAttribute("title") || c.innerText).trim()))`)
	if len(cells) < 1 {
		admin.fatalf(t, "the audit log shows no rows")
	}
	var rows []row
	for _, c := range cells {
		if len(c) < 3 {
			admin.fatalf(t, "audit row %q has fewer than 3 cells", c)
		}
		actor, _, _ := strings.Cut(c[1], "\n") // the name, then the role
		rows = append(rows, row{strings.TrimSpace(actor), c[2]})
	}
	for _, want := range []row{
		{"admin", "login"}, {staff.username, "login"}, {finance.username, "login"}, {staff.username, "login.failed"},
	} {
		if !slices.Contains(rows, want) {
			admin.fatalf(t, "the audit log has no %s entry for %s; rows (actor, action): %v", want.action, want.actor, rows)
		}
	}
}
