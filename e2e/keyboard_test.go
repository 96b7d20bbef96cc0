package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// maxTabs bounds the Tab presses to reach one element: more than any page
// of the portal has stops in all (Shift+Tab from the first stop may wrap
// round the whole page, as on the applications page with its many rows,
// before it reaches the start).
const maxTabs = 100

// pageLoadWait bounds the wait for the page a key press leads to, so that
// a press that leads nowhere fails at once rather than at testTimeout.
const pageLoadWait = 15 * time.Second

// TestKeyboardOnly uses the portal with the keyboard alone: it signs in,
// reaches every navigation entry, starts a directory refresh and cancels
// it, and refreshes the dashboard's figures, with Tab, Shift+Tab, Enter and
// Space only. On every page the first Tab stop must be a skip link to the
// content, and focus must survive the regions htmx replaces.
func TestKeyboardOnly(t *testing.T) {
	t.Parallel()
	// A world large enough that a directory refresh runs for about a
	// minute: long enough to watch it poll, and to cancel it.
	e := newEnvServing(t, []string{"--sandbox-customers", "20000"})
	tb := e.newTab(t)
	tb.emulate(t, screens[0])
	tb.open(t, "/login")

	// The steps share the tab, each starting where the last one left it;
	// without signing in there is nothing more to try.
	signedIn := false
	t.Run("sign in", func(t *testing.T) {
		tb.expectSkipLinkFirst(t)
		tb.tabTo(t, testID("username"))
		tb.press(t, "type the user name", "admin")
		tb.tabTo(t, testID("password"))
		// Shift+Tab goes back to the user name and Tab forward again.
		tb.press(t, "press Shift+Tab", kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
		if got := tb.focused(t); got.TestID != "username" {
			t.Errorf("Shift+Tab from the password went to %s, want the user name", got)
		}
		tb.press(t, "press Tab", kb.Tab)
		if got := tb.focused(t); got.TestID != "password" {
			tb.fatalf(t, "Tab from the user name went to %s, want the password", got)
		}
		tb.press(t, "type the password", adminPassword)
		tb.pressForPage(t, "press Enter to sign in", kb.Enter)
		if tb.count(t, testID("signed-in-as")) != 1 {
			tb.fatalf(t, "pressing Enter in the password field did not sign in")
		}
		signedIn = true
	})
	if !signedIn {
		t.FailNow()
	}

	links := eval[[]string](t, tb, `[...document.querySelectorAll("nav.side a[href]")].map(a => a.getAttribute("href"))`)
	if len(links) == 0 {
		tb.fatalf(t, "the side navigation has no links")
	}
	t.Run("skip link", func(t *testing.T) {
		if !tb.expectSkipLinkFirst(t) {
			return // Enter on whatever else comes first proves nothing
		}
		tb.press(t, "press Enter on the skip link", kb.Enter)
		if f := tb.focused(t); !f.InMain {
			// A target that cannot take focus still moves where the
			// next Tab starts from.
			tb.press(t, "press Tab", kb.Tab)
			if f2 := tb.focused(t); !f2.InMain {
				t.Errorf("after Enter on the skip link focus is on %s, and the next Tab goes to %s; want both inside #main", f, f2)
			}
		}
	})
	for _, href := range links {
		t.Run("navigate to "+href, func(t *testing.T) {
			tb.focusPageStart(t)
			tb.tabTo(t, chromedp.CSS(fmt.Sprintf(`nav.side a[href=%q]`, href)))
			tb.pressForPage(t, "press Enter on the navigation link to "+href, kb.Enter)
			if got := tb.path(t); got != href {
				tb.fatalf(t, "Enter on the navigation link to %s went to %s", href, got)
			}
			tb.expectSkipLinkFirst(t)
		})
	}

	t.Run("start and cancel a directory refresh", func(t *testing.T) {
		tb.tabTo(t, `nav.side a[href="/jobs"]`)
		tb.pressForPage(t, "press Enter on the navigation link to /jobs", kb.Enter)
		tb.tabTo(t, testID("refresh-directory"))
		tb.pressForPage(t, "press Space on the directory refresh button", " ")
		if p := tb.path(t); !strings.HasPrefix(p, "/jobs/") {
			tb.fatalf(t, "starting a directory refresh went to %s, want the job's page", p)
		}
		tb.expectSkipLinkFirst(t)
		if tb.count(t, testID("job-cancel")) == 0 {
			tb.fatalf(t, "the job's page offers no cancel button (status %q): did the refresh end already? The sandbox world is meant to keep it running for a minute",
				tb.text(t, testID("job-status")))
		}
		tb.tabTo(t, testID("job-cancel"))
		tb.expectFocusKeptThroughSwap(t, "the job's progress poll", "/progress", "", false)
		if f := tb.focused(t); f.TestID != "job-cancel" {
			tb.tabTo(t, testID("job-cancel")) // reported above; carry on to the cancel
		}
		confirm := tb.acceptNextDialog(t)
		tb.pressForPage(t, "press Enter on the cancel button", kb.Enter)
		select {
		case msg := <-confirm:
			if msg == "" {
				t.Errorf("the cancel button asked for confirmation with an empty message")
			}
		default:
			t.Errorf("the cancel button asked for no confirmation")
		}
		tb.waitUntil(t, "the job's page to show it cancelled",
			`(document.querySelector("[data-testid=job-status]") || {}).innerText === "Cancelled"`)
	})

	t.Run("refresh the dashboard", func(t *testing.T) {
		tb.tabTo(t, `nav.side a[href="/"]`)
		tb.pressForPage(t, "press Enter on the navigation link to the dashboard", kb.Enter)
		// Let the figures' own background refresh finish first, so that
		// the swap checked below is the one the button asked for.
		tb.waitUntil(t, "the dashboard's figures to settle",
			`!document.querySelector("[data-testid=dashboard-loading], [data-testid=dashboard-stale], .htmx-request")`)
		tb.tabTo(t, testID("dashboard-refresh"))
		tb.expectFocusKeptThroughSwap(t, "the dashboard's refresh", "/dashboard/cards", kb.Enter, true)
	})
}

// focus is the element that has the keyboard focus.
type focus struct {
	Desc   string `json:"desc"`   // a CSS-like description
	TestID string `json:"testid"` // its data-testid
	ID     string `json:"id"`
	Href   string `json:"href"`
	Body   bool   `json:"body"`   // nothing has focus: it fell back to <body>
	InMain bool   `json:"inMain"` // it is #main or inside it
	// Visible: it has a box inside the viewport (a skip link shows on focus).
	Visible bool `json:"visible"`
}

func (f focus) String() string { return f.Desc }

// focusScript describes document.activeElement.
const focusScript = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body || e === document.documentElement) return {desc: "<body>", body: true};
	let desc = e.localName;
	if (e.id) desc += "#" + e.id;
	for (const a of ["data-testid", "href", "type", "name"]) {
		if (e.hasAttribute(a)) desc += "[" + a + '="' + e.getAttribute(a) + '"]';
	}
	const text = (e.innerText || "").trim().replace(/\s+/g, " ");
	if (text) desc += ' "' + text.slice(0, 40) + '"';
	const r = e.getBoundingClientRect();
	return {
		desc, testid: e.getAttribute("data-testid") || "", id: e.id, href: e.getAttribute("href") || "",
		body: false, inMain: !!e.closest("#main"),
		visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < document.documentElement.clientHeight && r.left < document.documentElement.clientWidth,
	};
})()`

// focused describes the element with the focus.
func (tb *tab) focused(t *testing.T) focus {
	t.Helper()
	return eval[focus](t, tb, focusScript)
}

// press sends key presses, typing text or keys from chromedp/kb.
func (tb *tab) press(t *testing.T, what, keys string, opts ...chromedp.KeyOption) {
	t.Helper()
	tb.do(t, what, chromedp.KeyEvent(keys, opts...))
}

// pressForPage sends key presses that must load a new page, and waits for
// it (at most pageLoadWait).
func (tb *tab) pressForPage(t *testing.T, what, keys string) {
	t.Helper()
	before := tb.focused(t)
	ctx, cancel := context.WithTimeout(tb.ctx, pageLoadWait)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(keys))); err != nil {
		tb.fatalf(t, "%s (focus on %s) loaded no page within %s: %v", what, before, pageLoadWait, err)
	}
}

// tabTo presses Tab until sel has the focus (at once if it has it already),
// failing with the stops it went through when it never does.
func (tb *tab) tabTo(t *testing.T, sel chromedp.CSS) {
	t.Helper()
	matches := fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, string(sel))
	var stops []string
	for range maxTabs {
		if eval[bool](t, tb, matches) {
			return
		}
		tb.press(t, "press Tab", kb.Tab)
		stops = append(stops, tb.focused(t).Desc)
	}
	if eval[bool](t, tb, matches) {
		return
	}
	tb.fatalf(t, "%d Tab presses never reached %s; the stops were:\n    %s", maxTabs, sel, strings.Join(stops, "\n    "))
}

// maxPageStops bounds the Shift+Tab presses back to a page's start: from
// its first stop the browser wraps to its last, so the walk may cross
// every stop of the page (a list of applications has many), not only
// those before its content.
const maxPageStops = 4 * maxTabs

// focusPageStart moves the focus back to the start of the page with
// Shift+Tab, until nothing has it, so that the next Tab goes to the first
// stop; it is how a page that focuses a field when it loads is started
// from the top.
func (tb *tab) focusPageStart(t *testing.T) {
	t.Helper()
	for i := 0; !tb.focused(t).Body; i++ {
		if i == maxPageStops {
			tb.fatalf(t, "%d Shift+Tab presses never left the page's first element", maxPageStops)
		}
		tb.press(t, "press Shift+Tab", kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
}

// expectSkipLinkFirst checks that the first Tab stop of the page is a link
// to #main that shows when focused, and reports whether it is. It leaves
// the focus on that first stop.
func (tb *tab) expectSkipLinkFirst(t *testing.T) bool {
	t.Helper()
	tb.focusPageStart(t)
	tb.press(t, "press Tab", kb.Tab)
	f := tb.focused(t)
	switch {
	case f.Href != "#main":
		t.Errorf("%s: the first Tab stop is %s, want a skip link to #main", tb.path(t), f)
		return false
	case !f.Visible:
		t.Errorf("%s: the skip link %s does not show when it has the focus", tb.path(t), f)
	}
	return true
}

// expectFocusKeptThroughSwap waits for htmx to replace a region with the
// answer to a request whose path contains path, while an element has the
// focus, and checks that the same element (same test id or id) has it
// afterwards; with regionWill, the region htmx replaced (or an element
// inside it) may have it instead. keys, when not empty, are pressed to
// cause the request; otherwise the region's own polling does.
func (tb *tab) expectFocusKeptThroughSwap(t *testing.T, what, path, keys string, regionWill bool) {
	t.Helper()
	before := tb.focused(t)
	tb.do(t, "watch htmx swaps", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`
		window.e2eSwaps = [];
		document.addEventListener("htmx:afterSettle", ev => {
			const p = (ev.detail.pathInfo && ev.detail.pathInfo.requestPath) || "";
			if (p.includes(%q)) window.e2eSwaps.push(ev.detail.target);
		});`, path)))
	if keys != "" {
		tb.press(t, "press "+keyName(keys)+" on "+before.Desc, keys)
	}
	tb.waitUntil(t, "htmx to replace a region with the answer from "+path+" ("+what+"; focus was on "+before.Desc+")",
		`window.e2eSwaps.length > 0`)
	after := tb.focused(t)
	same := (before.TestID != "" && after.TestID == before.TestID) || (before.ID != "" && after.ID == before.ID)
	if same {
		return
	}
	if regionWill && eval[bool](t, tb, `window.e2eSwaps.some(r => r === document.activeElement || r.contains(document.activeElement))`) {
		return
	}
	t.Errorf("%s: through %s the focus moved from %s to %s", tb.path(t), what, before, after)
}

// keyName names a key for a message.
func keyName(keys string) string {
	switch keys {
	case kb.Enter:
		return "Enter"
	case " ":
		return "Space"
	case kb.Tab:
		return "Tab"
	}
	return fmt.Sprintf("%q", keys)
}

// acceptNextDialog accepts the next confirm (or alert) dialog the page
// opens, as a person pressing Enter on its OK would, and sends its message
// on the channel; the key press that opens it waits until it is answered.
func (tb *tab) acceptNextDialog(t *testing.T) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(tb.ctx)
	t.Cleanup(cancel)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening) // subscribed now, before the press
	messages := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			messages <- ev.Message
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				t.Errorf("accept the dialog %q: %v", ev.Message, err)
			}
			return
		}
	}()
	return messages
}

// waitUntil evaluates a JavaScript condition until it holds, failing the
// test after pageLoadWait (or at the harness's deadline, if sooner).
// Polling is the one way to wait for a page state that no protocol event
// marks; chromedp.Poll cannot be used under the portal's
// Content-Security-Policy (see eval).
func (tb *tab) waitUntil(t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageLoadWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%s is still false", cond)
			}
			tb.fatalf(t, "waiting for %s: %v (last check: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
