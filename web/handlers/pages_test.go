package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/audit"
	"resellerportal/store"
)

// TestAuditPageSpeaksPlainly: in both languages the audit page names
// actions as phrases and details as labelled values, never as codes or
// key=value text; a failed sign-in shows no role; the CSV keeps the codes.
func TestAuditPageSpeaksPlainly(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	p.post(p.browser(), "/login", url.Values{"username": {"nobody"}, "password": {"wrong"}})
	p.post(admin, "/admin/users/", url.Values{"username": {"dana"}, "role": {"staff"}})
	codes := regexp.MustCompile(`\b(?:login\.failed|user\.create|[a-z_]+=[^ ]+)`)
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			fin := p.login("finance")
			p.post(fin, "/language", url.Values{"lang": {lang}})
			page := p.get(fin, "/audit")
			rows := byTestID(t, page.Body, "audit-row")
			if len(rows) < 3 {
				t.Fatalf("%d audit rows", len(rows))
			}
			for _, r := range rows {
				if c := codes.FindString(text(r)); c != "" {
					t.Errorf("a row shows the raw %q: %q", c, text(r))
				}
			}
			var failed []string
			for _, n := range byTestID(t, page.Body, "audit-action-phrase") {
				if attr(n, "title") == "login.failed" {
					failed = append(failed, text(n))
				}
			}
			if len(failed) == 0 || failed[0] == "login.failed" {
				t.Fatalf("the failed sign-in is not named as a phrase: %q", failed)
			}
		})
	}
	fin := p.login("finance")
	page := p.get(fin, "/audit?action=login.failed")
	if n := len(byTestID(t, page.Body, "audit-row")); n != 1 {
		t.Fatalf("filtering by the failed sign-in action shows %d rows", n)
	}
	if role := byTestID(t, page.Body, "audit-row"); strings.Contains(text(role[0]), "role.") {
		t.Fatal("a failed sign-in shows a raw role key")
	}
	// Each row opens to everything it recorded.
	open := byTestID(t, page.Body, "audit-open")
	entry := p.get(fin, attr(open[0], "href"))
	if entry.StatusCode != http.StatusOK || len(byTestID(t, entry.Body, "audit-entry")) != 1 || !strings.Contains(text(byTestID(t, entry.Body, "audit-entry")[0]), "login.failed") {
		t.Fatalf("the row's page: %d", entry.StatusCode)
	}
	if r := p.get(fin, "/audit/999999"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a missing row: %d", r.StatusCode)
	}
	// The CSV keeps codes and says its times are UTC.
	records, err := csv.NewReader(strings.NewReader(p.get(fin, "/audit.csv").Body)).ReadAll()
	if err != nil || records[0][1] != "time_utc" {
		t.Fatalf("CSV header %v, %v", records[0], err)
	}
	var actions []string
	for _, rec := range records[1:] {
		actions = append(actions, rec[6])
	}
	if !slices.Contains(actions, "login.failed") || !slices.Contains(actions, "user.create") {
		t.Fatalf("the CSV lacks the raw codes: %v", actions)
	}
	// Every action the filter offers is a known one.
	for _, a := range audit.Actions() {
		if len(find(t, page.Body, func(n *html.Node) bool { return n.Data == "option" && attr(n, "value") == a })) != 1 {
			t.Errorf("the action filter does not offer %s", a)
		}
	}
}

// TestOneTimePasswordMustBeChanged: someone signing in with a password an
// admin gave them is sent to choose their own before anything else.
func TestOneTimePasswordMustBeChanged(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	r := p.post(admin, "/admin/users/", url.Values{"username": {"newbie"}, "role": {"staff"}})
	once := text(byTestID(t, p.follow(admin, r).Body, "new-password-value")[0])
	c := p.browser()
	if r := p.post(c, "/login", url.Values{"username": {"newbie"}, "password": {once}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.StatusCode)
	}
	for _, path := range []string{"/", "/jobs/", "/audit"} {
		if r := p.get(c, path); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("%s with a one-time password: %d %q, want a redirect to /account", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if page := p.get(c, "/account"); len(byTestID(t, page.Body, "must-change")) != 1 {
		t.Fatal("the account page does not say why")
	}
	form := url.Values{"current": {once}, "new": {"my-own-password-42"}, "confirm": {"my-own-password-42"}}
	if r := p.post(c, "/account/password", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("choosing a password: %d", r.StatusCode)
	}
	if r := p.get(c, "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("after choosing a password the dashboard answers %d", r.StatusCode)
	}
}

// TestTimesInTheReadersZone: times are shown in the chosen zone, named by
// its offset; the browser's zone applies until one is chosen; a bad zone
// is refused beside the field.
func TestTimesInTheReadersZone(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	zoneOf := func(c *http.Client) string {
		cells := byTestID(t, p.get(c, "/account").Body, "zone-now")
		if len(cells) != 1 {
			t.Fatal("no time zone on the account page")
		}
		return text(cells[0])
	}
	if z := zoneOf(staff); !strings.Contains(z, "UTC") {
		t.Fatalf("without a choice: %q, want UTC", z)
	}
	// The browser's zone, as app.js tells it.
	u, _ := url.Parse(p.ts.URL)
	staff.Jar.SetCookies(u, []*http.Cookie{{Name: "tz", Value: "America/New_York", Path: "/"}})
	if z := zoneOf(staff); !strings.Contains(z, "America/New_York") {
		t.Fatalf("with the browser's zone: %q", z)
	}
	if r := p.post(staff, "/account/time-zone", url.Values{"time_zone": {"Asia/Shanghai"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose a zone: %d", r.StatusCode)
	}
	if z := zoneOf(staff); !strings.Contains(z, "Asia/Shanghai (UTC+8)") {
		t.Fatalf("after choosing Asia/Shanghai: %q", z)
	}
	sessions := byTestID(t, p.get(staff, "/account").Body, "sessions")
	if len(sessions) != 1 || !strings.Contains(text(sessions[0]), "UTC+8") {
		t.Fatal("the session times are not in the chosen zone")
	}
	r := p.post(staff, "/account/time-zone", url.Values{"time_zone": {"Mars/Base"}})
	if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-time_zone")) != 1 {
		t.Fatalf("a bad zone: %d", r.StatusCode)
	}
	// A user without a choice and a hostile cookie sees UTC.
	fin := p.login("finance")
	fin.Jar.SetCookies(u, []*http.Cookie{{Name: "tz", Value: "../../etc/passwd", Path: "/"}})
	if z := zoneOf(fin); !strings.Contains(z, "UTC") {
		t.Fatalf("with a hostile cookie: %q", z)
	}
}

// TestCancelledJobOffersTheRest: a cancelled refresh says how many items it
// skipped, and runs them again on request.
func TestCancelledJobOffersTheRest(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	ctx := t.Context()
	j, err := store.WriteReturning(ctx, p.db, func(tx *store.Tx) (store.Job, error) {
		return tx.CreateJob(ctx, store.Job{Kind: "bills.refresh", OwnerID: p.users["staff"].ID, Scope: time.Now().UTC().Format("2006-01"),
			Params: []byte(`{"Month":"` + time.Now().UTC().Format("2006-01") + `"}`)},
			[]store.JobItem{{Key: "1", Payload: []byte(`{}`)}, {Key: "2", Payload: []byte(`{}`)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.StartJob(ctx, j.ID); err != nil {
			return err
		}
		if err := tx.RequestCancel(ctx, j.ID); err != nil {
			return err
		}
		return tx.FinishJob(ctx, j.ID, store.JobCancelled, "")
	}); err != nil {
		t.Fatal(err)
	}
	page := p.get(staff, "/jobs/"+itoa(j.ID))
	if len(byTestID(t, page.Body, "job-skipped")) != 1 || len(byTestID(t, page.Body, "job-rest")) != 1 {
		t.Fatal("a cancelled job does not say what it skipped or offer the rest")
	}
	if len(byTestID(t, page.Body, "back-to-jobs")) != 1 || len(byTestID(t, page.Body, "job-data")) != 1 {
		t.Fatal("the job page does not link back or to its data")
	}
	if r := p.post(p.login("finance"), "/jobs/"+itoa(j.ID)+"/rest", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("finance ran the rest: %d", r.StatusCode)
	}
	rest := jobIDFrom(t, p.post(staff, "/jobs/"+itoa(j.ID)+"/rest", nil))
	if got := p.waitJob(rest); got.Total != 2 {
		t.Fatalf("the rest has %d items, want the 2 skipped", got.Total)
	}
}
