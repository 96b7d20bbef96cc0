package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

func TestLogin(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		name     string
		user     string
		password string
		want     int
	}{
		{"right password", "staff-user", testPassword, http.StatusSeeOther},
		{"user name in other case", "STAFF-USER", testPassword, http.StatusSeeOther},
		{"wrong password", "staff-user", "nope", http.StatusUnauthorized},
		{"unknown user", "nobody", testPassword, http.StatusUnauthorized},
		{"empty", "", "", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := p.post(p.browser(), "/login", url.Values{"username": {tc.user}, "password": {tc.password}})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && len(byTestID(t, resp.Body, "login-error")) != 1 {
				t.Fatal("no generic failure message")
			}
		})
	}
	// One message for every failure: the page does not tell users apart.
	a := p.post(p.browser(), "/login", url.Values{"username": {"staff-user"}, "password": {"nope"}})
	b := p.post(p.browser(), "/login", url.Values{"username": {"nobody"}, "password": {"nope"}})
	if text(byTestID(t, a.Body, "login-error")[0]) != text(byTestID(t, b.Body, "login-error")[0]) {
		t.Fatal("wrong password and unknown user give different messages")
	}
}

func TestLoginThrottled(t *testing.T) {
	p := newPortal(t)
	for range 5 {
		p.post(p.browser(), "/login", url.Values{"username": {"finance-user"}, "password": {"wrong"}})
	}
	resp := p.post(p.browser(), "/login", url.Values{"username": {"finance-user"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures the right password got %d, want 429", resp.StatusCode)
	}
	entries, _, err := p.db.QueryAudit(t.Context(), store.AuditFilter{Action: "login.failed"})
	if err != nil || len(entries) != 5 {
		t.Fatalf("%d failed logins audited, want 5 (%v)", len(entries), err)
	}
}

func TestSessionCookieAndRenewal(t *testing.T) {
	p := newPortal(t)
	c := p.browser()
	p.get(c, "/login")
	before := cookieValue(c, p.ts.URL)
	resp := p.post(c, "/login", url.Values{"username": {"admin-user"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	set := resp.Header.Get("Set-Cookie")
	for _, flag := range []string{"portal_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, flag) {
			t.Errorf("session cookie %q lacks %s", set, flag)
		}
	}
	if after := cookieValue(c, p.ts.URL); after == "" || after == before {
		t.Fatal("the session id did not change at login")
	}
	// Logging out deletes the session: the old cookie is worth nothing.
	stolen := cookieValue(c, p.ts.URL)
	p.post(c, "/logout", nil)
	thief := p.browser()
	u, _ := url.Parse(p.ts.URL)
	thief.Jar.SetCookies(u, []*http.Cookie{{Name: "portal_session", Value: stolen}})
	if r := p.get(thief, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a logged-out session still opens the dashboard: %d", r.StatusCode)
	}
}

func cookieValue(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "portal_session" {
			return ck.Value
		}
	}
	return ""
}

func TestCrossOriginPostRefused(t *testing.T) {
	p := newPortal(t)
	c := p.login("admin")
	cases := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"username": {"created" + string(rune('a'+i))}, "role": {"staff"}}
			req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/admin/users/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp := p.do(c, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if _, err := p.db.UserByUsername(t.Context(), "createda"); err == nil {
		t.Fatal("the cross-origin request created a user")
	}
}

func TestDisabledUserIsSignedOutAtOnce(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	if r := p.get(staff, "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", r.StatusCode)
	}
	admin := p.login("admin")
	id := p.users["staff"].ID
	if r := p.post(admin, "/admin/users/"+itoa(id)+"/disable", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", r.StatusCode, r.Body)
	}
	if r := p.get(staff, "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the disabled user's session still works: %d", r.StatusCode)
	}
	if r := p.post(p.browser(), "/login", url.Values{"username": {"staff-user"}, "password": {testPassword}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled user logged in: %d", r.StatusCode)
	}
	entries, _, _ := p.db.QueryAudit(t.Context(), store.AuditFilter{Action: "user.disable"})
	if len(entries) != 1 || entries[0].Actor != "admin-user" {
		t.Fatalf("disabling was not audited: %+v", entries)
	}
}

func TestDashboardShowsSandboxFiguresAndProblems(t *testing.T) {
	p := newPortal(t)
	c := p.login("staff")
	resp := p.get(c, "/")
	if got := byTestID(t, resp.Body, "credit-total"); len(got) != 1 || !strings.HasPrefix(text(got[0]), "USD ") {
		t.Fatalf("no credit figure on the dashboard")
	}
	if len(byTestID(t, resp.Body, "sandbox-banner")) != 1 {
		t.Fatal("no sandbox banner")
	}
	if len(byTestID(t, resp.Body, "card-pending-resellers")) != 1 {
		t.Fatal("staff should see reseller applications")
	}
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryPartnerCredit, Code: "AuthFailure.SignatureFailure", Count: 1})
	p.advance(2 * time.Minute) // the figures are stale now
	resp = p.get(c, "/dashboard/cards")
	problems := byTestID(t, resp.Body, "api-problem")
	if resp.StatusCode != http.StatusOK || len(problems) != 1 || len(byTestID(t, resp.Body, "api-request-id")) != 1 {
		t.Fatalf("the API failure is not shown in plain words with its RequestId: %s", resp.Body)
	}
	if strings.Contains(resp.Body, "AuthFailure.SignatureFailure:") {
		t.Fatal("raw error text reached the page")
	}
}

func TestSubagentDashboardIsScoped(t *testing.T) {
	p := newPortal(t)
	resp := p.get(p.login("subagent"), "/")
	if resp.StatusCode != http.StatusOK || len(byTestID(t, resp.Body, "credit-total")) != 1 {
		t.Fatalf("subagent dashboard: %d", resp.StatusCode)
	}
	if len(byTestID(t, resp.Body, "card-pending-resellers")) != 0 {
		t.Fatal("a subagent sees reseller applications")
	}
}

func TestErrorPagesAndHeaders(t *testing.T) {
	p := newPortal(t)
	resp := p.get(p.login("finance"), "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || len(byTestID(t, resp.Body, "error-404")) != 1 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if len(byTestID(t, resp.Body, "request-id")) != 1 {
		t.Fatal("the 404 page shows no request id")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Errorf("security headers missing: %v", resp.Header)
	}
}

func TestLanguageFromBrowserAndChoice(t *testing.T) {
	p := newPortal(t)
	c := p.browser()
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+"/login", nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	if html := byTag(t, p.do(c, req).Body, "html"); len(html) != 1 || attr(html[0], "lang") != "zh-CN" {
		t.Fatal("Accept-Language zh-CN did not give a Chinese page")
	}
	p.post(c, "/language", url.Values{"lang": {"en"}})
	if html := byTag(t, p.do(c, req).Body, "html"); len(html) != 1 || attr(html[0], "lang") != "en" {
		t.Fatal("the chosen language did not override Accept-Language")
	}
	if r := p.post(c, "/language", url.Values{"lang": {"klingon"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown language got %d", r.StatusCode)
	}
}

// TestNotAllowlistedFeatureIsMarkedUnavailable: a partner Tencent has not
// allowlisted for pending applications sees that figure as unavailable,
// with the reason, as a note rather than a failure.
func TestNotAllowlistedFeatureIsMarkedUnavailable(t *testing.T) {
	p := newPortal(t)
	if err := p.sandbox.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionQueryPendingClientsV2, false); err != nil {
		t.Fatal(err)
	}
	resp := p.get(p.login("staff"), "/")
	card := byTestID(t, resp.Body, "card-pending-customers")
	if len(card) != 1 {
		t.Fatal("no pending customers card")
	}
	var notes int
	for _, n := range byTestID(t, resp.Body, "api-note") {
		if strings.Contains(text(n), "allowlist") {
			notes++
		}
	}
	if notes != 1 || len(byTestID(t, resp.Body, "pending-customers")) != 0 {
		t.Fatalf("the card does not say the feature is unavailable for want of the allowlist: %s", text(card[0]))
	}
	// The other figures are unaffected.
	if len(byTestID(t, resp.Body, "credit-total")) != 1 {
		t.Fatal("the credit figure is missing")
	}
}
