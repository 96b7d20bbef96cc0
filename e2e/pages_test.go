package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screen is a viewport the pages must work in.
type screen struct {
	name          string
	width, height int64
	phone         bool     // emulate a phone: mobile viewport rules, touch
	languages     []string // the languages every page is checked in here
}

// screens are a small laptop and a common phone. Chinese is checked where
// it is most at risk — the phone's narrow columns, where labels wrap — and
// English on both.
var screens = []screen{
	{"desktop-1366x900", 1366, 900, false, []string{"en"}},
	{"phone-390x844", 390, 844, true, []string{"en", "zh-CN"}},
}

// emulate sets the tab's viewport; it holds for the pages opened after it.
func (tb *tab) emulate(t *testing.T, s screen) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if s.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tb.do(t, "emulate a "+s.name+" screen", chromedp.EmulateViewport(s.width, s.height, opts...))
}

// pageVisit is a page to check and the status it must answer with.
type pageVisit struct {
	path   string
	status int64
}

// TestEveryPage opens every page each role can reach, and the sign-in page
// signed out, on a desktop and on a phone screen, in English and in
// Chinese. On each page it checks that the page does not scroll sideways,
// that axe-core finds no serious or critical violation, and that nothing
// was reported on the console; every problem of a page is reported
// together, naming the role, screen, language and page.
func TestEveryPage(t *testing.T) {
	t.Parallel()
	// One portal and one browser for all: each person works in a tab of
	// their own, side by side, as an office would.
	e := newEnvFor(t, 5*time.Minute, nil, staff, finance, subagent)
	people := []account{{"", "signed-out"}, {"admin", "admin"}, staff, finance, subagent}
	for _, who := range people {
		t.Run(who.role, func(t *testing.T) {
			t.Parallel()
			tb := e.newTab(t)
			var pages []pageVisit
			if who.username == "" {
				tb.open(t, "/login")
				pages = []pageVisit{{"/login", http.StatusOK}, {"/no/such/page", http.StatusNotFound}}
			} else {
				tb.signIn(t, who.username, e.portal.password(who.username))
				pages = tb.reachablePages(t, who.role)
			}
			for _, s := range screens {
				tb.emulate(t, s)
				for _, lang := range s.languages {
					if tb.lang(t) != lang {
						tb.chooseLanguage(t, lang)
					}
					for _, p := range pages {
						t.Run(s.name+"/"+lang+"/"+pageName(p.path), func(t *testing.T) {
							if problems := tb.pageProblems(t, p); len(problems) > 0 {
								t.Errorf("%s on %s (%dx%d) in %s, %s: %d problems:\n  - %s",
									who.role, s.name, s.width, s.height, lang, p.path, len(problems), strings.Join(problems, "\n  - "))
							}
						})
					}
				}
			}
		})
	}
}

// pageName names a page's subtest: its path, without slashes.
func pageName(path string) string {
	if path == "/" {
		return "dashboard"
	}
	return strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")
}

// reachablePages lists what the signed-in person can open: every link of
// the side navigation, their account, one audit entry's page where the
// audit log links to one, and the error pages; for an administrator also
// one user's page and the page of a directory refresh it starts here.
func (tb *tab) reachablePages(t *testing.T, role string) []pageVisit {
	t.Helper()
	tb.open(t, "/")
	var pages []pageVisit
	add := func(path string, status int64) {
		if !slices.ContainsFunc(pages, func(p pageVisit) bool { return p.path == path }) {
			pages = append(pages, pageVisit{path, status})
		}
	}
	links := eval[[]string](t, tb, `[...document.querySelectorAll("nav.side a[href]")].map(a => a.getAttribute("href"))`)
	if len(links) == 0 {
		tb.fatalf(t, "the side navigation has no links")
	}
	for _, href := range links {
		add(href, http.StatusOK)
	}
	add("/account", http.StatusOK)
	if slices.Contains(links, "/audit") {
		// One entry of the audit log has its own page, where the log links
		// each entry to one.
		tb.open(t, "/audit")
		if entry := eval[string](t, tb, `(document.querySelector('[data-testid=audit-row] a[href^="/audit/"]') || {getAttribute: () => ""}).getAttribute("href")`); entry != "" {
			add(entry, http.StatusOK)
		}
	}
	if slices.Contains(links, "/resellers") {
		// A second-level reseller's page, where the list links to one.
		tb.open(t, "/resellers")
		if reseller := eval[string](t, tb, `(document.querySelector('[data-testid=reseller-open]') || {getAttribute: () => ""}).getAttribute("href")`); reseller != "" {
			add(reseller, http.StatusOK)
		}
	}
	if slices.Contains(links, "/credit") {
		// A customer's low-credit watch, where the credit overview links
		// to one.
		tb.open(t, "/credit")
		if watch := eval[string](t, tb, `(document.querySelector('[data-testid=credit-row] a[href$="/watch"]') || {getAttribute: () => ""}).getAttribute("href")`); watch != "" {
			add(watch, http.StatusOK)
		}
	}
	if slices.Contains(links, "/onboarding") {
		// Onboarding's pages, and the outbox of the sandbox every e2e
		// portal runs on.
		for _, path := range []string{"/onboarding/invitations", "/onboarding/accounts/new", "/sandbox/outbox"} {
			add(path, http.StatusOK)
		}
	}
	if slices.Contains(links, "/approvals") {
		// Four-eyes approval's other listings: decided requests and one's own.
		for _, path := range []string{"/approvals?list=decided", "/approvals?list=mine"} {
			add(path, http.StatusOK)
		}
	}
	if slices.Contains(links, "/bills") {
		// A customer's month: the partner's people see a direct customer's,
		// a reseller's login is told it is not one of its customers.
		status := int64(http.StatusOK)
		if role == "subagent" {
			status = http.StatusNotFound
		}
		add(fmt.Sprintf("/bills/%d/%s", demoDirectCustomerUin(t), time.Now().UTC().AddDate(0, 0, -time.Now().UTC().Day()).Format("2006-01")), status)
	}
	if slices.Contains(links, "/vouchers") {
		// Bill files, linked from the vouchers, and one voucher's usage.
		add("/bills/files", http.StatusOK)
		tb.open(t, "/vouchers")
		tb.waitUntil(t, "the vouchers", `document.querySelector("[data-testid=voucher-row], [data-testid=vouchers-none], [data-testid=api-note]") !== null`)
		if usage := eval[string](t, tb, `(document.querySelector('[data-testid=voucher-usage-link]') || {getAttribute: () => ""}).getAttribute("href")`); usage != "" {
			add(usage, http.StatusOK)
			// The voucher's customer's own view (without its key: the note).
			if uin := strings.Split(strings.TrimPrefix(usage, "/vouchers/"), "/")[0]; uin != "" {
				add("/customers/"+uin+"/own", http.StatusOK)
			}
		}
	}
	if role == "admin" {
		for _, path := range []string{"/jobs", "/admin/users", "/admin/credentials", "/admin/api-status", "/admin/four-eyes"} {
			if !slices.Contains(links, path) {
				tb.fatalf(t, "the administrator's navigation has no link to %s: %v", path, links)
			}
		}
		tb.open(t, "/admin/users")
		user := eval[string](t, tb, `(document.querySelector('[data-testid="user-sam"] a[href^="/admin/users/"]') || {getAttribute: () => ""}).getAttribute("href")`)
		if user == "" {
			tb.fatalf(t, "the user list has no link to the page of user sam")
		}
		add(user, http.StatusOK)
		add(tb.startDirectoryRefresh(t), http.StatusOK)
	} else {
		add("/admin/users", http.StatusForbidden)
	}
	add("/no/such/page", http.StatusNotFound)
	return pages
}

// startDirectoryRefresh starts a directory refresh from /jobs and returns
// the path of the job's page, where the portal sends the browser.
func (tb *tab) startDirectoryRefresh(t *testing.T) string {
	t.Helper()
	tb.open(t, "/jobs")
	tb.do(t, "start a directory refresh",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=refresh-directory]").form.requestSubmit()`),
		chromedp.WaitVisible(testID("job-status")),
	)
	path := tb.path(t)
	if !strings.HasPrefix(path, "/jobs/") {
		tb.fatalf(t, "starting a directory refresh went to %s, want a job's page", path)
	}
	return path
}

// pageProblems opens a page and returns everything wrong with it: its
// status, sideways scrolling, serious or critical axe violations and
// errors on the console.
func (tb *tab) pageProblems(t *testing.T, p pageVisit) []string {
	t.Helper()
	tb.consoleErrors() // what earlier pages left behind is theirs
	var problems []string
	if status := tb.openStatus(t, p.path); status != p.status {
		problems = append(problems, fmt.Sprintf("answered %d, want %d", status, p.status))
	}
	tb.do(t, "wait for the page's fonts", chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise))
	problems = append(problems, tb.overflowProblems(t)...)
	problems = append(problems, tb.accessibilityProblems(t)...)
	for _, e := range tb.consoleErrors() {
		if p.status >= 400 && e.kind == "log/network" && e.url == tb.base+p.path &&
			strings.Contains(e.text, fmt.Sprintf("status of %d", p.status)) {
			continue // the browser's note that the page itself is the error page we asked for
		}
		problems = append(problems, "console "+e.String())
	}
	return problems
}

// overflowScript measures whether the page scrolls sideways and, if it
// does, which elements stick out past the viewport's right edge. The
// viewport is document.documentElement.clientWidth: on a phone (mobile
// emulation) window.innerWidth grows to the content's width when the
// content is too wide, so it would hide the very overflow sought. It names
// the element that reaches furthest (the
// reaching furthest (the deepest such element when several end there),
// and the outermost ones, where the overflow starts. Elements inside a
// box that scrolls or clips on its own do not widen the page, so the walk
// does not go into them; fixed elements do not scroll with it.
const overflowScript = `(() => {
	const vw = document.documentElement.clientWidth, sw = document.documentElement.scrollWidth;
	const out = {viewport: vw, innerWidth: window.innerWidth, scrollWidth: sw, widest: null, outermost: []};
	if (sw <= vw) return out;
	const describe = el => {
		const parts = [];
		for (let e = el; e && e !== document.documentElement && parts.length < 4; e = e.parentElement) {
			let s = e.localName;
			const tid = e.getAttribute("data-testid");
			if (e.id) s += "#" + e.id;
			else if (tid) s += '[data-testid="' + tid + '"]';
			else if (e.classList.length) s += "." + [...e.classList].join(".");
			parts.unshift(s);
			if (e.id || tid) break;
		}
		const r = el.getBoundingClientRect();
		return parts.join(" > ") + " (right edge " + Math.round(r.right + window.scrollX) + "px, " +
			Math.round(r.width) + "px wide): " + el.outerHTML.replace(/\s+/g, " ").slice(0, 160);
	};
	let widest = null, widestRight = vw, widestDepth = -1;
	const walk = (el, depth, parentOver) => {
		for (const c of el.children) {
			const st = getComputedStyle(c);
			if (st.position === "fixed" || st.display === "none") continue;
			const r = c.getBoundingClientRect();
			const right = r.right + window.scrollX;
			const over = r.width > 0 && right > vw + 0.5;
			if (over && (right > widestRight + 0.5 || (Math.abs(right - widestRight) <= 0.5 && depth > widestDepth))) {
				widest = c; widestRight = right; widestDepth = depth;
			}
			if (over && !parentOver && out.outermost.length < 3) out.outermost.push(describe(c));
			if (st.overflowX === "visible") walk(c, depth + 1, parentOver || over);
		}
	};
	walk(document.body, 0, false);
	if (widest) out.widest = describe(widest);
	return out;
})()`

// overflow is what overflowScript reports.
type overflow struct {
	Viewport    int      `json:"viewport"` // clientWidth
	InnerWidth  int      `json:"innerWidth"`
	ScrollWidth int      `json:"scrollWidth"`
	Widest      string   `json:"widest"`
	Outermost   []string `json:"outermost"`
}

// overflowProblems reports sideways scrolling of the whole page, naming
// the elements that cause it.
func (tb *tab) overflowProblems(t *testing.T) []string {
	t.Helper()
	o := eval[overflow](t, tb, overflowScript)
	if o.ScrollWidth <= o.Viewport {
		return nil
	}
	msg := fmt.Sprintf("the page scrolls sideways: document.documentElement.scrollWidth is %dpx in a viewport %dpx wide (clientWidth; window.innerWidth is %dpx)",
		o.ScrollWidth, o.Viewport, o.InnerWidth)
	if o.Widest != "" {
		msg += "\n      reaching furthest: " + o.Widest
	}
	for _, s := range o.Outermost {
		if s != o.Widest {
			msg += "\n      sticking out first: " + s
		}
	}
	return []string{msg}
}
