package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

func TestCredentialsLifecycle(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	sub := p.sandbox.DemoSubAgent().Credential
	uin := itoa(int64(p.subUin))
	cases := []struct {
		name  string
		form  url.Values
		want  int
		field string // the field whose problem is shown
	}{
		{"subagent without UIN", url.Values{"kind": {"subagent"}, "secret_id": {sub.SecretId}, "secret_key": {sub.SecretKey}}, http.StatusUnprocessableEntity, "subagent_uin"},
		{"missing key", url.Values{"kind": {"subagent"}, "subagent_uin": {uin}, "secret_id": {sub.SecretId}}, http.StatusUnprocessableEntity, "secret_key"},
		{"unknown kind", url.Values{"kind": {"root"}, "secret_id": {sub.SecretId}, "secret_key": {sub.SecretKey}}, http.StatusUnprocessableEntity, "kind"},
		{"a key the API refuses", url.Values{"kind": {"subagent"}, "subagent_uin": {uin}, "secret_id": {sub.SecretId}, "secret_key": {"not-the-key-not-the-key-12345678"}}, http.StatusUnprocessableEntity, "secret_key"},
		{"subagent's own key", url.Values{"kind": {"subagent"}, "subagent_uin": {uin}, "label": {"reseller key"}, "secret_id": {sub.SecretId}, "secret_key": {sub.SecretKey}}, http.StatusSeeOther, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(admin, "/admin/credentials/", tc.form)
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.want)
			}
			if tc.field != "" && len(byTestID(t, r.Body, "error-"+tc.field)) != 1 {
				t.Fatalf("no message beside %s", tc.field)
			}
		})
	}
	page := p.get(admin, "/admin/credentials/")
	if strings.Contains(page.Body, sub.SecretKey) || strings.Contains(page.Body, sub.SecretId) {
		t.Fatal("the credentials page shows a key in full")
	}
	if len(byTestID(t, page.Body, "credentials")) != 1 {
		t.Fatal("the saved credential is not listed")
	}
	list, err := p.db.ListCredentials(t.Context(), store.TargetSandbox)
	if err != nil || len(list) != 1 || strings.Contains(string(list[0].SecretKeyCipher), sub.SecretKey) {
		t.Fatalf("stored credential %+v, %v: want one, sealed", list, err)
	}
	id := itoa(list[0].ID)

	// Test connection, as htmx asks for it.
	test := func() response {
		req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/admin/credentials/"+id+"/test", nil)
		req.Header.Set("HX-Request", "true")
		return p.do(admin, req)
	}
	if r := test(); len(byTestID(t, r.Body, "test-ok")) != 1 {
		t.Fatalf("test connection with the reseller's key failed: %s", r.Body)
	}
	// A refusal is shown in the API's words, with its RequestId.
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryPartnerCredit, Code: "AuthFailure.SecretIdNotFound", Count: 1})
	if r := test(); len(byTestID(t, r.Body, "test-failed")) != 1 || len(byTestID(t, r.Body, "api-request-id")) != 1 {
		t.Fatalf("a refused key did not fail the test with a RequestId: %s", r.Body)
	}
	if r := p.post(admin, "/admin/credentials/"+id+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := p.post(admin, "/admin/credentials/"+id+"/delete", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleting again: %d, want 404", r.StatusCode)
	}
	for _, action := range []string{"credential.save", "credential.test", "credential.delete"} {
		entries := p.auditRows(action)
		if len(entries) == 0 {
			t.Errorf("%s not audited", action)
		}
		for _, e := range entries {
			for _, v := range e.Params {
				if strings.Contains(v, sub.SecretKey) || v == sub.SecretId {
					t.Errorf("%s audit row reveals the credential: %v", action, e.Params)
				}
			}
		}
	}
	if rows := p.auditRows("credential.save"); len(rows) != 2 || rows[1].Outcome != store.OutcomeFailed {
		t.Fatalf("the refused key was not audited as a failure: %+v", rows)
	}
}

// TestTargetSwitchIsExplicit: saving a key never moves the portal off the
// sandbox; switching to Tencent Cloud needs a key that works there, and
// the page says where calls go.
func TestTargetSwitchIsExplicit(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	dist := p.sandbox.DemoDistributor().Credential
	if r := p.post(admin, "/admin/credentials/", url.Values{"kind": {"distributor"}, "secret_id": {dist.SecretId}, "secret_key": {dist.SecretKey}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the sandbox's own key: %d", r.StatusCode)
	}
	page := p.get(admin, "/admin/credentials/")
	if len(byTestID(t, page.Body, "sandbox-banner")) != 1 {
		t.Fatal("saving a key switched the portal off the sandbox")
	}
	r := p.post(admin, "/admin/credentials/target", url.Values{"target": {"tencentcloud"}})
	if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "target-error")) != 1 {
		t.Fatalf("switching to Tencent Cloud without a key there: %d", r.StatusCode)
	}
	if r := p.post(admin, "/admin/credentials/target", url.Values{"target": {"elsewhere"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown target: %d", r.StatusCode)
	}
	if rows := p.auditRows("api.target"); len(rows) != 0 {
		t.Fatalf("a refused switch without a key to test was audited as done: %+v", rows)
	}
	if r := p.post(p.login("staff"), "/admin/credentials/target", url.Values{"target": {"sandbox"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("staff switched the target: %d", r.StatusCode)
	}
}

func TestUserAdministration(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	today := time.Now().UTC().Format(time.DateOnly)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	reseller := itoa(int64(p.subUin))
	cases := []struct {
		name  string
		form  url.Values
		want  int
		field string
	}{
		{"staff", url.Values{"username": {"dana"}, "role": {"staff"}}, http.StatusSeeOther, ""},
		{"taken name", url.Values{"username": {"DANA"}, "role": {"staff"}}, http.StatusConflict, "username"},
		{"bad name", url.Values{"username": {"a b"}, "role": {"staff"}}, http.StatusUnprocessableEntity, "username"},
		{"huge name", url.Values{"username": {strings.Repeat("a", 5000)}, "role": {"staff"}}, http.StatusUnprocessableEntity, "username"},
		{"unknown role", url.Values{"username": {"eve"}, "role": {"root"}}, http.StatusUnprocessableEntity, "role"},
		{"subagent without UIN", url.Values{"username": {"sub2"}, "role": {"subagent"}}, http.StatusUnprocessableEntity, "subagent_uin"},
		{"UIN for staff", url.Values{"username": {"sub3"}, "role": {"staff"}, "subagent_uin": {"123"}}, http.StatusUnprocessableEntity, "subagent_uin"},
		{"UIN 123 is no reseller", url.Values{"username": {"sub3"}, "role": {"subagent"}, "subagent_uin": {"123"}}, http.StatusUnprocessableEntity, "subagent_uin"},
		{"bad expiry", url.Values{"username": {"sub4"}, "role": {"subagent"}, "subagent_uin": {reseller}, "expires": {"tomorrow"}}, http.StatusUnprocessableEntity, "expires"},
		{"past expiry", url.Values{"username": {"sub4"}, "role": {"subagent"}, "subagent_uin": {reseller}, "expires": {yesterday}}, http.StatusUnprocessableEntity, "expires"},
		{"subagent until today", url.Values{"username": {"sub5"}, "role": {"subagent"}, "subagent_uin": {reseller}, "expires": {today}}, http.StatusSeeOther, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(admin, "/admin/users/", tc.form)
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.want)
			}
			if tc.field != "" {
				if len(byTestID(t, r.Body, "error-"+tc.field)) != 1 {
					t.Fatalf("no message beside %s", tc.field)
				}
				// What was typed stays in the form (but a huge name is not echoed whole).
				if v := tc.form.Get("username"); len(v) < 100 && inputValue(t, r.Body, "username") != v {
					t.Fatalf("the form lost the typed user name %q", v)
				}
				return
			}
			// Post/redirect/get: the one-time password shows once on the user's page.
			page := p.follow(admin, r)
			shown := byTestID(t, page.Body, "new-password-value")
			if len(shown) != 1 {
				t.Fatal("the new password is not shown after the redirect")
			}
			if again := p.follow(admin, r); len(byTestID(t, again.Body, "new-password-value")) != 0 {
				t.Fatal("reloading the page shows the one-time password again")
			}
			login := p.post(p.browser(), "/login", url.Values{"username": {tc.form.Get("username")}, "password": {text(shown[0])}})
			if login.StatusCode != http.StatusSeeOther {
				t.Fatalf("the shown password does not work: %d", login.StatusCode)
			}
		})
	}
	me := itoa(p.users["admin"].ID)
	if r := p.post(admin, "/admin/users/"+me+"/disable", nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("an admin disabled themself: %d", r.StatusCode)
	}
	if r := p.post(admin, "/admin/users/"+me, url.Values{"role": {"staff"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an admin changed their own role: %d", r.StatusCode)
	}
	if r := p.get(admin, "/admin/users/999999"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown user: %d", r.StatusCode)
	}
	// A reset shows the new password once, after a redirect.
	staff := itoa(p.users["staff"].ID)
	r := p.post(admin, "/admin/users/"+staff+"/password", nil)
	if r.StatusCode != http.StatusSeeOther || len(byTestID(t, p.follow(admin, r).Body, "new-password-value")) != 1 {
		t.Fatalf("reset password: %d", r.StatusCode)
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
	// The download holds exactly what the filters select, and its audit
	// row says which filters those were.
	onScreen := len(byTestID(t, p.get(fin, "/audit?action=login.failed").Body, "audit-row"))
	r = p.get(fin, "/audit.csv?action=login.failed&actor=staff-user")
	records, err = csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(records)-1 != onScreen || onScreen != 1 || records[1][6] != "login.failed" {
		t.Fatalf("the filtered export has %d rows (%v), the page shows %d", len(records)-1, err, onScreen)
	}
	entries := p.auditRows("audit.export")
	if len(entries) != 2 || entries[0].Actor != "finance-user" || entries[0].Params["action"] != "login.failed" ||
		entries[0].Params["actor"] != "staff-user" || entries[0].Params["rows"] != "1" {
		t.Fatalf("the export was not audited with its filters: %+v", entries)
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
