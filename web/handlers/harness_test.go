package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/htmltest"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/users"
)

// portal is a portal under test, built by the same constructor as `portal
// serve`: its database, the sandbox it talks to, and the users it knows.
type portal struct {
	t       testing.TB
	app     *app.App
	db      *store.DB
	sandbox *sandbox.Server
	ts      *httptest.Server
	routes  http.Handler
	users   map[string]store.User // by role; each has testPassword
	subUin  uint64
	clock   *testClock
}

// testClock is the real time moved ahead by tests, so cached figures can
// age without waiting.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advance moves the portal's clock ahead.
func (p *portal) advance(d time.Duration) {
	p.clock.mu.Lock()
	defer p.clock.mu.Unlock()
	p.clock.offset += d
}

// testPassword is the password every test user is given.
const testPassword = "correct-horse-battery-42"

// options adjust a test portal's configuration.
type options func(*app.Config)

func newPortal(t testing.TB, opts ...options) *portal {
	t.Helper()
	ctx := t.Context()
	clock := &testClock{}
	cfg := app.Config{
		DataDir: t.TempDir(), SandboxSeed: 11, SandboxCustomers: 30, RateScale: 100, HashCost: auth.TestCost, Now: clock.now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	sb, err := a.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	p := &portal{t: t, app: a, db: a.DB, sandbox: sb, users: map[string]store.User{}, subUin: sb.DemoSubAgent().Uin, clock: clock}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(runCtx) })
	t.Cleanup(func() { stop(); wg.Wait() })
	p.routes = a.Handler()
	p.ts = httptest.NewServer(p.routes)
	t.Cleanup(p.ts.Close)

	for _, role := range auth.Roles() {
		in := users.Input{Username: string(role) + "-user", DisplayName: "Test " + string(role), Role: string(role)}
		if role == auth.RoleSubagent {
			in.SubagentUin = strconv.FormatUint(p.subUin, 10)
		}
		u, _, err := a.Users.Create(ctx, audit.CommandLine(), in)
		if err != nil {
			t.Fatal(err)
		}
		p.setPassword(u, testPassword)
		p.users[string(role)] = u
	}
	return p
}

// setPassword gives a test user a known password.
func (p *portal) setPassword(u store.User, password string) {
	p.t.Helper()
	hash, err := auth.NewHasher(auth.HasherOptions{Cost: auth.TestCost}).Hash(p.t.Context(), password)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.db.Write(p.t.Context(), func(tx *store.Tx) error { return tx.SetPassword(p.t.Context(), u.ID, hash, false) }); err != nil {
		p.t.Fatal(err)
	}
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see them.
func (p *portal) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// login signs a role's user in and returns its client.
func (p *portal) login(role string) *http.Client {
	p.t.Helper()
	c := p.browser()
	resp := p.post(c, "/login", url.Values{"username": {p.users[role].Username}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("login as %s: status %d", role, resp.StatusCode)
	}
	return c
}

type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func (p *portal) do(c *http.Client, req *http.Request) response {
	p.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func (p *portal) get(c *http.Client, path string) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+path, nil)
	return p.do(c, req)
}

func (p *portal) post(c *http.Client, path string, form url.Values) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(c, req)
}

// follow gets the page a redirect points to.
func (p *portal) follow(c *http.Client, r response) response {
	p.t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		p.t.Fatalf("expected a redirect, got %d", r.StatusCode)
	}
	return p.get(c, loc)
}

// Page readers, by element (see internal/htmltest).
var (
	find       = htmltest.Find
	byTestID   = htmltest.ByTestID
	byTag      = htmltest.ByTag
	attr       = htmltest.Attr
	inputValue = htmltest.InputValue
	text       = htmltest.Text
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// auditRows reads the audit rows of an action.
func (p *portal) auditRows(action string) []store.AuditEntry {
	p.t.Helper()
	entries, _, err := p.db.QueryAudit(p.t.Context(), store.AuditFilter{Action: action, Limit: store.MaxAuditLimit})
	if err != nil {
		p.t.Fatal(err)
	}
	return entries
}
