package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"resellerportal/store"
)

func TestCredentialsLifecycle(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	var sub struct{ id, key string }
	for _, c := range p.sandbox.Credentials() {
		if c.Uin == p.subUin {
			sub.id, sub.key = c.SecretId, c.SecretKey
		}
	}
	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"subagent without UIN", url.Values{"kind": {"subagent"}, "secret_id": {sub.id}, "secret_key": {sub.key}}, http.StatusUnprocessableEntity},
		{"missing key", url.Values{"kind": {"subagent"}, "subagent_uin": {itoa(int64(p.subUin))}, "secret_id": {sub.id}}, http.StatusUnprocessableEntity},
		{"unknown kind", url.Values{"kind": {"root"}, "secret_id": {sub.id}, "secret_key": {sub.key}}, http.StatusUnprocessableEntity},
		{"subagent's own key", url.Values{"kind": {"subagent"}, "subagent_uin": {itoa(int64(p.subUin))}, "label": {"reseller key"}, "secret_id": {sub.id}, "secret_key": {sub.key}}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := p.post(admin, "/admin/credentials/", tc.form); r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.want)
			}
		})
	}
	page := p.get(admin, "/admin/credentials/")
	if strings.Contains(page.Body, sub.key) || strings.Contains(page.Body, sub.id) {
		t.Fatal("the credentials page shows a key in full")
	}
	rows := byTestID(t, page.Body, "credentials")
	if len(rows) != 1 {
		t.Fatal("the saved credential is not listed")
	}
	list, err := p.db.ListCredentials(t.Context())
	if err != nil || len(list) != 1 || strings.Contains(string(list[0].SecretKeyCipher), sub.key) {
		t.Fatalf("stored credential %+v, %v: want one, sealed", list, err)
	}
	id := itoa(list[0].ID)

	// Test connection, as htmx asks for it.
	req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/admin/credentials/"+id+"/test", nil)
	req.Header.Set("HX-Request", "true")
	if r := p.do(admin, req); len(byTestID(t, r.Body, "test-ok")) != 1 {
		t.Fatalf("test connection with the reseller's key failed: %s", r.Body)
	}
	// A wrong key fails the test with the API's words.
	bad := url.Values{"kind": {"subagent"}, "subagent_uin": {itoa(int64(p.subUin))}, "secret_id": {sub.id}, "secret_key": {"not-the-key-not-the-key-12345678"}}
	p.post(admin, "/admin/credentials/", bad)
	req, _ = http.NewRequest(http.MethodPost, p.ts.URL+"/admin/credentials/"+id+"/test", nil)
	req.Header.Set("HX-Request", "true")
	if r := p.do(admin, req); len(byTestID(t, r.Body, "test-failed")) != 1 || !strings.Contains(r.Body, "request-id") {
		t.Fatalf("a wrong key did not fail the test with a RequestId: %s", r.Body)
	}
	if r := p.post(admin, "/admin/credentials/"+id+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := p.post(admin, "/admin/credentials/"+id+"/delete", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleting again: %d, want 404", r.StatusCode)
	}
	for _, action := range []string{"credential.save", "credential.test", "credential.delete"} {
		entries, _, _ := p.db.QueryAudit(t.Context(), store.AuditFilter{Action: action})
		if len(entries) == 0 {
			t.Errorf("%s not audited", action)
		}
		for _, e := range entries {
			for _, v := range e.Params {
				if strings.Contains(v, sub.key) || v == sub.id {
					t.Errorf("%s audit row reveals the credential: %v", action, e.Params)
				}
			}
		}
	}
}

func TestUserAdministration(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"staff", url.Values{"username": {"dana"}, "role": {"staff"}}, http.StatusCreated},
		{"taken name", url.Values{"username": {"DANA"}, "role": {"staff"}}, http.StatusConflict},
		{"bad name", url.Values{"username": {"a b"}, "role": {"staff"}}, http.StatusUnprocessableEntity},
		{"unknown role", url.Values{"username": {"eve"}, "role": {"root"}}, http.StatusUnprocessableEntity},
		{"subagent without UIN", url.Values{"username": {"sub2"}, "role": {"subagent"}}, http.StatusUnprocessableEntity},
		{"UIN for staff", url.Values{"username": {"sub3"}, "role": {"staff"}, "subagent_uin": {"123"}}, http.StatusUnprocessableEntity},
		{"bad expiry", url.Values{"username": {"sub4"}, "role": {"subagent"}, "subagent_uin": {"123"}, "expires": {"tomorrow"}}, http.StatusUnprocessableEntity},
		{"subagent with expiry", url.Values{"username": {"sub5"}, "role": {"subagent"}, "subagent_uin": {"123"}, "expires": {"2099-12-31"}}, http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(admin, "/admin/users/", tc.form)
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.want)
			}
			shown := byTestID(t, r.Body, "new-password-value")
			if (tc.want == http.StatusCreated) != (len(shown) == 1) {
				t.Fatalf("new password shown %d times", len(shown))
			}
			if len(shown) == 1 {
				// The shown password signs the new user in.
				login := p.post(p.browser(), "/login", url.Values{"username": {tc.form.Get("username")}, "password": {text(shown[0])}})
				if login.StatusCode != http.StatusSeeOther {
					t.Fatalf("the shown password does not work: %d", login.StatusCode)
				}
			}
		})
	}
	me := itoa(p.users["admin"].ID)
	if r := p.post(admin, "/admin/users/"+me+"/disable", nil); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an admin disabled themself: %d", r.StatusCode)
	}
	if r := p.post(admin, "/admin/users/"+me, url.Values{"role": {"staff"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an admin changed their own role: %d", r.StatusCode)
	}
	if r := p.get(admin, "/admin/users/999999"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown user: %d", r.StatusCode)
	}
}

func TestAuditPageAndExport(t *testing.T) {
	p := newPortal(t)
	p.login("staff")
	p.post(p.browser(), "/login", url.Values{"username": {"staff-user"}, "password": {"wrong"}})
	fin := p.login("finance")
	cases := []struct {
		name  string
		query string
		want  int
		rows  func(int) bool
	}{
		{"everything", "", http.StatusOK, func(n int) bool { return n >= 3 }},
		{"by action", "?action=login.failed", http.StatusOK, func(n int) bool { return n == 1 }},
		{"by actor", "?actor=staff-user&action=login", http.StatusOK, func(n int) bool { return n == 1 }},
		{"future dates", "?from=2099-01-01", http.StatusOK, func(n int) bool { return n == 0 }},
		{"bad date", "?from=yesterday", http.StatusUnprocessableEntity, func(n int) bool { return n == 0 }},
		{"bad customer", "?customer=abc", http.StatusUnprocessableEntity, func(n int) bool { return n == 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.get(fin, "/audit"+tc.query)
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.want)
			}
			if n := len(byTestID(t, r.Body, "audit-row")); !tc.rows(n) {
				t.Fatalf("%d rows", n)
			}
		})
	}
	r := p.get(fin, "/audit.csv")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(records) < 4 {
		t.Fatalf("export has %d records: %v", len(records), err)
	}
	entries, _, _ := p.db.QueryAudit(t.Context(), store.AuditFilter{Action: "audit.export"})
	if len(entries) != 1 || entries[0].Actor != "finance-user" {
		t.Fatalf("the export was not audited: %+v", entries)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	p := newPortal(t)
	c := p.login("staff")
	p.get(c, "/")
	if r := p.get(p.browser(), "/healthz"); r.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
	r := p.get(p.browser(), "/metrics")
	for _, want := range []string{"portal_http_request_duration_seconds", `portal_partner_api_calls_total{action="QueryPartnerCredit",outcome="ok"}`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
