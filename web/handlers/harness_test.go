package handlers_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/keyring"
	"resellerportal/metrics"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/web/handlers"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/static"
)

// portal is a portal under test: its database, the sandbox it talks to,
// and the users it knows.
type portal struct {
	t       *testing.T
	db      *store.DB
	sandbox *sandbox.Server
	ts      *httptest.Server
	routes  http.Handler
	engine  *jobs.Engine
	users   map[string]store.User // by role
	subUin  uint64
}

const testPassword = "correct-horse-battery-42"

func newPortal(t *testing.T) *portal {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, t.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sb, err := sandbox.New(sandbox.Options{Seed: 11, Customers: 30, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	sbts := httptest.NewServer(sb)
	t.Cleanup(sbts.Close)
	p := &portal{t: t, db: db, sandbox: sb, users: map[string]store.User{}}
	var fallback partnerapi.Credential
	for _, c := range sb.Credentials() {
		switch {
		case c.Role == "distributor":
			fallback = partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey}
		case c.Role == "subagent" && p.subUin == 0:
			p.subUin = c.Uin
		}
	}
	sealer, err := keyring.NewSealer(bytes.Repeat([]byte{3}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	ring := keyring.New(db, sealer, partnerapi.Config{Endpoint: sbts.Listener.Addr().String(), Scheme: "http", Limiters: partnerapi.NewLimiters(100), Observe: m.ObserveAPI}, fallback)
	sessions, err := session.New(db, session.Options{Keys: [][]byte{bytes.Repeat([]byte{9}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	p.engine = jobs.New(db, ring, nil, jobs.DirectoryRefresh{DB: db}, jobs.BillsRefresh{DB: db}, jobs.ApplyWrites{DB: db})
	h, err := handlers.New(handlers.Config{
		Jobs: p.engine, Limiters: ring.Limiters(),
		DB: db, Sessions: sessions, Catalog: catalog, Assets: assets, Throttle: auth.NewThrottle(nil),
		Partner: ring, Metrics: m, Sandbox: true, Endpoint: sbts.Listener.Addr().String(),
		FallbackSecretID: fallback.SecretId,
	})
	if err != nil {
		t.Fatal(err)
	}
	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	go func() {
		p.engine.Run(engineCtx)
		close(engineDone)
	}()
	t.Cleanup(func() { stopEngine(); <-engineDone })
	p.routes = h.Routes()
	p.ts = httptest.NewServer(p.routes)
	t.Cleanup(p.ts.Close)

	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range auth.Roles() {
		u := store.User{Username: string(role) + "-user", DisplayName: "Test " + string(role), Role: string(role), PasswordHash: hash}
		if role == auth.RoleSubagent {
			u.SubagentUin = p.subUin
		}
		created, err := db.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		p.users[string(role)] = created
	}
	return p
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

// byTestID finds the elements carrying data-testid=id.
func byTestID(t *testing.T, body, id string) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "data-testid" && a.Val == id {
					out = append(out, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// text returns the text inside a node.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
