package handlers_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resellerportal/cmd/portal/app"
	"resellerportal/partnerapi/sandbox"
)

// countingLog counts what the portal logs, and keeps the first errors.
type countingLog struct {
	records, bytes, errors atomic.Int64
	mu                     sync.Mutex
	first                  []string
}

func (c *countingLog) Enabled(context.Context, slog.Level) bool { return true }
func (c *countingLog) Handle(_ context.Context, r slog.Record) error {
	c.records.Add(1)
	c.bytes.Add(int64(len(r.Message)))
	r.Attrs(func(a slog.Attr) bool {
		c.bytes.Add(int64(len(a.Key) + len(a.Value.String())))
		return true
	})
	if r.Level >= slog.LevelError {
		c.errors.Add(1)
		line := r.Message
		r.Attrs(func(a slog.Attr) bool {
			line += " " + a.Key + "=" + a.Value.String()
			return true
		})
		c.mu.Lock()
		if len(c.first) < 5 {
			c.first = append(c.first, line)
		}
		c.mu.Unlock()
	}
	return nil
}
func (c *countingLog) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingLog) WithGroup(string) slog.Handler      { return c }

// hangUp sends a request on a raw connection and closes it before the
// answer has been read, as a closed tab or an aborted poll does.
func hangUp(t *testing.T, base, method, path, cookie, body string, after time.Duration) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		method, path, u.Host, cookie, len(body), body)
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if after > 0 {
		// Read the first bytes of the answer when it starts, then leave.
		conn.SetReadDeadline(time.Now().Add(after))
		bufio.NewReader(conn).ReadByte()
	}
	conn.Close()
}

// TestClientsThatHangUpDoNotHurtThePortal hangs up on every signed-in page
// and on sign-in, many times, before and during the answer, while the
// partner API is slow: the portal keeps serving, logs a bounded amount and
// does not grow.
func TestClientsThatHangUpDoNotHurtThePortal(t *testing.T) {
	log := &countingLog{}
	p := newPortal(t, func(c *app.Config) { c.Logger = slog.New(log) })
	admin := p.login("admin")
	u, _ := url.Parse(p.ts.URL)
	var cookie string
	for _, c := range admin.Jar.Cookies(u) {
		cookie = c.Name + "=" + c.Value
	}
	// Every call of the partner API takes a while, so pages are caught
	// waiting on it.
	p.sandbox.InjectFault(sandbox.Fault{Latency: 300 * time.Millisecond, Count: 1 << 20})

	var paths []string
	for _, route := range walkRoutes(t, p) {
		method, pattern, _ := strings.Cut(route, " ")
		if method == http.MethodGet && !strings.Contains(pattern, "{") && !strings.Contains(pattern, "*") {
			paths = append(paths, pattern)
		}
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	requests := 0
	for round := range 5 {
		for _, path := range paths {
			hangUp(t, p.ts.URL, http.MethodGet, path, cookie, "", time.Duration(round)*5*time.Millisecond)
			requests++
		}
		hangUp(t, p.ts.URL, http.MethodPost, "/login", "", "username=admin-user&password=wrong-password-1", time.Duration(round)*5*time.Millisecond)
		requests++
	}
	// The portal answers the next request as ever.
	if r := p.get(admin, "/account"); r.StatusCode != http.StatusOK {
		t.Fatalf("the portal does not serve after clients hung up: %d", r.StatusCode)
	}
	p.ts.CloseClientConnections()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 64<<20 {
		t.Fatalf("the heap grew by %d MB over %d hung-up requests", grown>>20, requests)
	}
	// A request log line each, perhaps one "went away" line each: bounded.
	if n := log.records.Load(); n > int64(4*requests+50) {
		t.Fatalf("%d log records for %d hung-up requests", n, requests)
	}
	if n := log.errors.Load(); n > 5 {
		log.mu.Lock()
		defer log.mu.Unlock()
		t.Fatalf("%d error records for clients that hung up, the first:\n%s", n, strings.Join(log.first, "\n"))
	}
	// Each wrong password that reached the check is in the audit log, even
	// though its client had gone.
	if rows := p.auditRows("login.failed"); len(rows) == 0 {
		t.Fatal("failed sign-ins whose client hung up were not audited")
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		next, want string
	}{
		{"/jobs/", "/jobs/"},
		{"/audit?from=2026-01-01", "/audit?from=2026-01-01"},
		{"/\t/evil.example/x", "/"},
		{"/%09/evil.example/x", "/%09/evil.example/x"}, // an escaped tab is a harmless path
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/x\\y", "/"},
		{"https://evil.example/", "/"},
		{"/\r\nSet-Cookie: x=y", "/"},
		{"javascript:alert(1)", "/"},
		{"", "/"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.next), func(t *testing.T) {
			r := p.post(p.browser(), "/login", url.Values{"username": {"staff-user"}, "password": {testPassword}, "next": {tc.next}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
				t.Fatalf("after signing in: %d to %q, want %q", r.StatusCode, r.Header.Get("Location"), tc.want)
			}
		})
	}
}

func TestFieldsAndBodiesAreBounded(t *testing.T) {
	p := newPortal(t)
	// A body beyond the limit is refused before anything reads it.
	huge := url.Values{"username": {strings.Repeat("x", 1<<20)}, "password": {"x"}}
	if r := p.post(p.browser(), "/login", huge); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 MB sign-in body got %d, want 413", r.StatusCode)
	}
	// A long name within the body limit is refused like any wrong name and
	// recorded only in a bounded, escaped form.
	long := url.Values{"username": {strings.Repeat("y", 50000) + "\r\nforged"}, "password": {"x"}}
	if r := p.post(p.browser(), "/login", long); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a 50 kB user name got %d, want 401", r.StatusCode)
	}
	rows := p.auditRows("login.failed")
	if len(rows) != 1 || len(rows[0].Actor) > 200 || strings.ContainsAny(rows[0].Actor, "\r\n") {
		t.Fatalf("the failed sign-in recorded %d rows, the name %.80q (%d bytes)", len(rows), rows[0].Actor, len(rows[0].Actor))
	}
	if r := p.post(p.browser(), "/login", url.Values{"username": {"staff-user"}, "password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in after the long names: %d", r.StatusCode)
	}
}

func TestAuthenticatedPagesAreNotCached(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	for _, path := range []string{"/", "/account", "/admin/users/", "/audit", "/login"} {
		if cc := p.get(admin, path).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
	if cc := p.get(admin, "/static/app.css").Header.Get("Cache-Control"); cc == "no-store" {
		t.Error("static assets are not cacheable")
	}
}

// TestClientAddressBehindProxies: only what a trusted proxy appended to
// X-Forwarded-For is believed, and /metrics is not opened by "the peer is
// this machine" when a proxy makes every peer this machine.
func TestClientAddressBehindProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	p := newPortal(t, func(c *app.Config) { c.TrustedProxies = loopback; c.MetricsToken = "scrape-token-1234567890" })
	cases := []struct {
		name, xff, want string
	}{
		{"no header: the proxy itself", "", "127.0.0.1"},
		{"one hop", "203.0.113.7", "203.0.113.7"},
		{"spoofed left-most entry", "127.0.0.1, 203.0.113.7", "203.0.113.7"},
		{"a chain of trusted proxies", "198.51.100.2, 10.1.2.3", "198.51.100.2"},
		{"garbage", "not-an-address", "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/login", strings.NewReader("username=nobody-"+strings.ReplaceAll(tc.name, " ", "-")+"&password=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			p.do(p.browser(), req)
			rows := p.auditRows("login.failed")
			if len(rows) == 0 || rows[0].ClientAddr != tc.want {
				t.Fatalf("the attempt was recorded from %q, want %q", rows[0].ClientAddr, tc.want)
			}
		})
	}
	// Behind a proxy, a local peer proves nothing: /metrics needs an admin
	// or the token.
	if r := p.get(p.browser(), "/metrics"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("/metrics through a proxy without credentials: %d", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-token-1234567890")
	if r := p.do(p.browser(), req); r.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", r.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer wrong")
	if r := p.do(p.browser(), req); r.StatusCode != http.StatusForbidden {
		t.Fatalf("/metrics with a wrong token: %d", r.StatusCode)
	}
	if r := p.get(p.login("admin"), "/metrics"); r.StatusCode != http.StatusOK {
		t.Fatalf("/metrics as an admin: %d", r.StatusCode)
	}
	if r := p.get(p.login("staff"), "/metrics"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("/metrics as staff through a proxy: %d", r.StatusCode)
	}
}

// TestLanguageChangeKeepsAdminChanges: choosing a language writes only the
// language, never an old copy of the rest of the user.
func TestLanguageChangeKeepsAdminChanges(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	admin := p.login("admin")
	id := itoa(p.users["staff"].ID)
	if r := p.post(admin, "/admin/users/"+id, url.Values{"role": {"finance"}, "display_name": {"Renamed"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin update: %d", r.StatusCode)
	}
	p.post(staff, "/language", url.Values{"lang": {"zh-CN"}})
	u, err := p.db.UserByID(t.Context(), p.users["staff"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != "finance" || u.DisplayName != "Renamed" || u.Locale != "zh-CN" {
		t.Fatalf("after the language change: role %s, name %q, locale %q", u.Role, u.DisplayName, u.Locale)
	}
}

// TestCurrentPasswordGuessesAreThrottled: "My account" limits and audits
// wrong current passwords as sign-in does.
func TestCurrentPasswordGuessesAreThrottled(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	form := url.Values{"current": {"guess-guess-1"}, "new": {"new-password-4242"}, "confirm": {"new-password-4242"}}
	for range 5 {
		if r := p.post(staff, "/account/password", form); r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-current")) != 1 {
			t.Fatalf("a wrong current password: %d", r.StatusCode)
		}
	}
	form.Set("current", testPassword)
	if r := p.post(staff, "/account/password", form); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong guesses the right password got %d, want 429", r.StatusCode)
	}
	if rows := p.auditRows("password.change"); len(rows) != 5 {
		t.Fatalf("%d wrong current passwords audited, want 5", len(rows))
	}
}

// TestConcurrentSignInsAreBounded: twenty wrong passwords for one account
// at once are not all checked.
func TestConcurrentSignInsAreBounded(t *testing.T) {
	p := newPortal(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			statuses <- p.post(p.browser(), "/login", url.Values{"username": {"admin-user"}, "password": {"wrong-password-1"}}).StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			checked++
		}
	}
	if checked != 5 || len(p.auditRows("login.failed")) != 5 {
		t.Fatalf("%d of 20 concurrent guesses were checked, want 5", checked)
	}
}
