// Package e2e drives the real portal with a real browser: each test starts
// `portal serve` on port 0 with a temporary data directory (so against the
// built-in partner API sandbox), and a headless Chromium through chromedp.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"resellerportal/cmd/portal/app"
	"resellerportal/cmd/portal/cli"
	"resellerportal/internal/runtest"
	"resellerportal/partnerapi/sandbox"
)

// adminPassword is the first administrator's password, given to the portal
// through PORTAL_ADMIN_PASSWORD.
const adminPassword = "e2e-Admin-pass-2026"

// testTimeout bounds each test: the browser, its tabs and every wait die
// with it, so a missing element fails the test instead of hanging it.
const testTimeout = 60 * time.Second

// account is a portal user the harness creates with `portal user add`
// once the server runs (see startPortal).
type account struct {
	username, role string
}

// Accounts a test can ask newEnv for; admin, with adminPassword, is always there.
var (
	staff    = account{"sam", "staff"}
	finance  = account{"fay", "finance"}
	subagent = account{"sue", "subagent"} // acts for demoSubAgentUin
)

// env is one test's world: a running portal and a browser to drive it.
type env struct {
	portal  *portal
	browser context.Context // the browser's own chromedp context
}

// newEnv starts a browser and a portal with the given accounts. It skips the
// test when no browser is installed, except in CI, where that is a failure.
func newEnv(t *testing.T, accounts ...account) *env {
	t.Helper()
	return newEnvServing(t, nil, accounts...)
}

// password is a user's current password.
func (p *portal) password(username string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.passwords[username]
}

// newEnvServing is newEnv with more flags for `portal serve`, such as the
// built-in sandbox's size.
func newEnvServing(t *testing.T, serveFlags []string, accounts ...account) *env {
	t.Helper()
	return newEnvFor(t, testTimeout, serveFlags, accounts...)
}

// newEnvFor is newEnvServing for a test that may take longer than
// testTimeout, such as one that walks every page. Its tabs open in the
// package's one browser and die at the deadline.
func newEnvFor(t *testing.T, timeout time.Duration, serveFlags []string, accounts ...account) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(sharedBrowser(t), timeout)
	t.Cleanup(cancel)
	e := &env{browser: ctx}
	e.portal = startPortal(t, serveFlags, accounts)
	return e
}

// The package's browser: started by the first test that needs one, closed
// by TestMain. Every tab opens in a browser context of its own (its own
// cookies), so sharing the process costs the tests nothing but its start.
var browser struct {
	once    sync.Once
	ctx     context.Context
	err     error
	profile string
	stop    func()
}

// sharedBrowser returns the package's browser, starting it if needed.
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := browserPath(t)
	browser.once.Do(func() {
		if browser.profile, browser.err = os.MkdirTemp("", "e2e-chromium-"); browser.err != nil {
			return
		}
		browser.ctx, browser.stop, browser.err = startBrowser(exe, browser.profile)
	})
	if browser.err != nil {
		t.Fatalf("start %s: %v", exe, browser.err)
	}
	return browser.ctx
}

// TestMain closes the browser and removes its profile after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	if browser.profile != "" {
		os.RemoveAll(browser.profile)
	}
	os.Exit(code)
}

// browserPath finds Chromium or Chrome on PATH; the suite never downloads one.
func browserPath(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("e2e: no browser found on PATH (looked for %s); install Chromium, e.g. apt-get install chromium",
		strings.Join(names, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser launches a headless browser with a fresh profile in dir,
// and returns its context and the function that closes it.
func startBrowser(exe, dir string) (context.Context, func(), error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir),
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		// The portal picks its language from Accept-Language until one is
		// chosen; pin it so the tests start from English on any machine.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Closing goes browser first, then the allocator, which waits for the
	// process to end.
	stop := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(browserCtx); err != nil {
		stop()
		return nil, nil, err
	}
	return browserCtx, stop, nil
}

// portal is a running portal and the passwords of its users.
type portal struct {
	mu        sync.Mutex // guards passwords: parallel tabs sign in at once
	url       string     // http://127.0.0.1:PORT
	passwords map[string]string
}

// startPortal runs `portal serve` on a free port in a temporary data
// directory until the test ends, and adds the accounts with `portal user add`.
func startPortal(t *testing.T, serveFlags []string, accounts []account) *portal {
	t.Helper()
	dir := t.TempDir()
	getenv := func(key string) string {
		if key == "PORTAL_ADMIN_PASSWORD" {
			return adminPassword
		}
		return "" // no TENCENTCLOUD_* credentials: the built-in sandbox
	}
	args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, serveFlags...)
	cmd := runtest.Start(t, cli.Run, args, getenv, "Portal listening on ")
	p := &portal{url: cmd.Ready, passwords: map[string]string{"admin": adminPassword}}

	// The server creates admin only when it finds no administrator, so the
	// other accounts are added once it runs, as an operator would.
	for _, a := range accounts {
		var out bytes.Buffer
		args := []string{"user", "add", "--data", dir, "--username", a.username, "--role", a.role}
		if a.role == "subagent" {
			args = append(args, "--subagent-uin", strconv.FormatUint(demoSubAgentUin(t), 10))
		}
		if err := cli.Run(t.Context(), args, getenv, &out, io.Discard); err != nil {
			t.Fatalf("portal %s: %v", strings.Join(args, " "), err)
		}
		_, pw, ok := strings.Cut(out.String(), "shown only once: ")
		if pw = strings.TrimSpace(pw); !ok || pw == "" {
			t.Fatalf("portal user add printed no password: %q", out.String())
		}
		p.passwords[a.username] = pw
	}
	return p
}

// demoSubAgentUin is the UIN of a real second-level reseller of the
// built-in sandbox's distributor, which `portal user add --role subagent`
// checks with the partner API. `portal serve` without credentials builds its
// sandbox world from app.DefaultSandboxSeed and app.DefaultSandboxCustomers;
// a sandbox built here from the same options is the same world, so it has
// the same resellers.
func demoSubAgentUin(t *testing.T) uint64 {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Seed: app.DefaultSandboxSeed, Customers: app.DefaultSandboxCustomers})
	if err != nil {
		t.Fatalf("build the sandbox world to find its second-level reseller: %v", err)
	}
	return srv.DemoSubAgent().Uin
}

// tab is one browser tab in its own browser context, so each tab has its
// own cookies: one tab, one signed-in person.
type tab struct {
	ctx     context.Context
	base    string
	portal  *portal
	console *consoleLog
}

// newTab opens a tab with an empty cookie jar on the test's browser. The
// tab records its console from the start (see consoleErrors).
func (e *env) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{ctx: ctx, base: e.portal.url, portal: e.portal, console: &consoleLog{}}
	// chromedp enables the runtime and log domains on every tab it opens;
	// the listener sees their events in the order the browser sent them.
	if err := chromedp.Listen(ctx, tb.console.record); err != nil {
		t.Fatalf("listen to the tab's console: %v", err)
	}
	return tb
}

// consoleLog collects the errors a tab's pages report: console.error calls,
// uncaught exceptions and error entries of the browser log (a resource that
// failed to load, a Content-Security-Policy violation).
type consoleLog struct {
	mu     sync.Mutex
	errors []consoleError
}

// consoleError is one error a page reported.
type consoleError struct {
	kind string // "console.error", "exception" or "log/<source>"
	text string
	url  string // where it came from, when the browser says
}

func (e consoleError) String() string {
	s := e.kind + ": " + e.text
	if e.url != "" && !strings.Contains(e.text, e.url) {
		s += " (" + e.url + ")"
	}
	return s
}

// record is the tab's listener: it runs in chromedp's event loop, so it
// only appends.
func (c *consoleLog) record(ev any) {
	var e consoleError
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			switch {
			case a.Type == runtime.RemoteObjectTypeString:
				var s string
				if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
					parts = append(parts, s)
					continue
				}
				parts = append(parts, string(a.Value))
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Value))
			}
		}
		e = consoleError{kind: "console." + string(ev.Type), text: strings.Join(parts, " ")}
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			e.url = fmt.Sprintf("%s:%d", st.CallFrames[0].URL, st.CallFrames[0].LineNumber+1)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			desc, _, _ := strings.Cut(d.Exception.Description, "\n    at ")
			text += " " + desc
		}
		e = consoleError{kind: "exception", text: text}
		if d.URL != "" {
			e.url = fmt.Sprintf("%s:%d", d.URL, d.LineNumber+1)
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		e = consoleError{kind: "log/" + string(ev.Entry.Source), text: ev.Entry.Text, url: ev.Entry.URL}
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, e)
}

// consoleErrors returns the errors the tab's pages reported since the last
// call, and forgets them.
func (tb *tab) consoleErrors() []consoleError {
	tb.console.mu.Lock()
	defer tb.console.mu.Unlock()
	errs := tb.console.errors
	tb.console.errors = nil
	return errs
}

// signedInTab opens a tab and signs in as username.
func (e *env) signedInTab(t *testing.T, username string) *tab {
	t.Helper()
	tb := e.newTab(t)
	tb.signIn(t, username, e.portal.password(username))
	return tb
}

// testID is the CSS selector of an element by its data-testid.
func testID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id)) }

// do runs actions, failing the test with the page's state when one fails.
func (tb *tab) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.fatalf(t, "%s: %v", what, err)
	}
}

// open navigates to a path of the portal and waits for the page to load.
func (tb *tab) open(t *testing.T, path string) {
	t.Helper()
	tb.do(t, "open "+path, chromedp.Navigate(tb.base+path))
}

// openStatus navigates to a path and returns the HTTP status of the page
// the browser ends on.
func (tb *tab) openStatus(t *testing.T, path string) int64 {
	t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(tb.base+path))
	if err != nil {
		tb.fatalf(t, "open %s: %v", path, err)
	}
	return resp.Status
}

// submitLogin opens a fresh sign-in page, then fills in and submits the
// form; the caller waits for the outcome. The fresh page matters: a failure
// message left from an earlier attempt would satisfy the caller's wait.
func (tb *tab) submitLogin(t *testing.T, username, password string) {
	t.Helper()
	tb.open(t, "/login")
	tb.do(t, "sign in as "+username,
		chromedp.WaitVisible(testID("username")),
		chromedp.SetValue(testID("username"), username),
		chromedp.SetValue(testID("password"), password),
		chromedp.Click(testID("login-submit")),
	)
}

// signIn signs in and waits for a signed-in page; a refusal fails the test
// at once rather than at the deadline. Someone who signs in with the
// one-time password `portal user add` printed must choose their own first;
// signIn does that as they would, remembers the new password for the next
// sign-in, and goes on to the dashboard.
func (tb *tab) signIn(t *testing.T, username, password string) {
	t.Helper()
	tb.submitLogin(t, username, password)
	tb.do(t, "wait for the answer to signing in as "+username,
		chromedp.WaitVisible(testID("signed-in-as")+", "+testID("login-error")))
	if tb.count(t, testID("signed-in-as")) == 0 {
		tb.fatalf(t, "signing in as %s was refused", username)
	}
	if tb.count(t, testID("must-change")) == 0 {
		return
	}
	own := "e2e-Own-pass-2026-" + username
	tb.do(t, "choose "+username+"'s own password",
		chromedp.SetValue(testID("current-password"), password),
		chromedp.SetValue(testID("new-password"), own),
		chromedp.SetValue(testID("confirm-password"), own),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=change-password]").form.requestSubmit()`),
		chromedp.WaitVisible(testID("flash")+", "+testID("password-error")),
	)
	if tb.count(t, testID("must-change")) != 0 || tb.count(t, testID("password-error")) != 0 {
		tb.fatalf(t, "choosing %s's own password after the one-time one failed", username)
	}
	tb.portal.mu.Lock()
	tb.portal.passwords[username] = own
	tb.portal.mu.Unlock()
	tb.open(t, "/")
}

// path is the path of the tab's current page.
func (tb *tab) path(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("parse the location %q: %v", loc, err)
	}
	return u.Path
}

// text returns the visible text of the first element matching sel, waiting
// for it to exist.
func (tb *tab) text(t *testing.T, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(sel))
	if err != nil {
		tb.fatalf(t, "text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count returns how many elements match a CSS selector now, without waiting.
func (tb *tab) count(t *testing.T, sel chromedp.CSS) int {
	t.Helper()
	return eval[int](t, tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, string(sel)))
}

// lang is the lang attribute of the page's html element.
func (tb *tab) lang(t *testing.T) string {
	t.Helper()
	return eval[string](t, tb, `document.documentElement.lang`)
}

// eval evaluates a JavaScript expression in the page. It goes through the
// DevTools protocol, so the portal's strict Content-Security-Policy does not
// apply to it (chromedp.Poll, which compiles its predicate with new Function
// inside the page, does not work under that policy).
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fatalf(t, "evaluate %s: %v", expr, err)
	}
	return v
}

// fatalf fails the test, adding where the tab is and what the page says.
func (tb *tab) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	// A short, separate deadline: tb.ctx may be the one that expired.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.ctx), 2*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\n  page: " + loc
	}
	if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		if len(body) > 1500 {
			body = body[:1500] + "…"
		}
		msg += "\n  text: " + strings.ReplaceAll(strings.TrimSpace(body), "\n", "\n        ")
	}
	t.Fatal(msg)
}
