package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/users"
)

// onboardingPost posts a form; asHTMX posts it as htmx does.
func (p *portal) onboardingPost(c *http.Client, path string, form url.Values, asHTMX bool) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asHTMX {
		req.Header.Set("HX-Request", "true")
	}
	return p.do(c, req)
}

// saveSubagentKey stores the demo reseller's own key, as an administrator would.
func (p *portal) saveSubagentKey() {
	p.t.Helper()
	cred := p.sandbox.DemoSubAgent().Credential
	_, err := p.app.Keys.Save(p.t.Context(), audit.CommandLine(), keyring.Input{
		Kind: store.CredentialSubagent, SubagentUin: strconv.FormatUint(p.subUin, 10), SecretID: cred.SecretId, SecretKey: cred.SecretKey,
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

// invitationStates reads the invitations listed on a page: id → state.
func invitationStates(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, row := range byTestID(t, body, "invitation-row") {
		out[attr(row, "data-id")] = attr(row, "data-state")
	}
	return out
}

// fieldError is the message shown beside a field, or "".
func fieldError(t *testing.T, body, field string) string {
	t.Helper()
	nodes := byTestID(t, body, "error-"+field)
	if len(nodes) == 0 {
		return ""
	}
	return text(nodes[0])
}

// lastMail is the newest invitation mail of the sandbox's outbox to addr.
func (p *portal) lastMail(addr string) sandbox.OutboxMessage {
	p.t.Helper()
	for _, m := range slices.Backward(p.sandbox.Outbox()) {
		if m.Kind == "mail" && strings.EqualFold(m.To, addr) {
			return m
		}
	}
	p.t.Fatalf("no mail to %s in the outbox", addr)
	return sandbox.OutboxMessage{}
}

// lastCode is the newest SMS code the sandbox sent to a number.
func (p *portal) lastCode(to string) string {
	p.t.Helper()
	for _, m := range slices.Backward(p.sandbox.Outbox()) {
		if m.Kind == "sms" && m.To == to {
			return m.Code
		}
	}
	p.t.Fatalf("no SMS to %s in the outbox", to)
	return ""
}

func (p *portal) invitations(partner uint64) []store.Invitation {
	p.t.Helper()
	list, _, err := p.db.ListInvitations(p.t.Context(), store.InvitationFilter{PartnerUin: partner, Limit: 500})
	if err != nil {
		p.t.Fatal(err)
	}
	return list
}

func TestInvitationSentListedAcceptedAndSentAgain(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	empty := p.get(staff, "/onboarding/invitations")
	if empty.StatusCode != http.StatusOK || len(byTestID(t, empty.Body, "invitations-empty")) != 1 || len(byTestID(t, empty.Body, "invite-form")) != 1 {
		t.Fatalf("empty invitations page: %d, want the form and the empty state", empty.StatusCode)
	}
	if len(byTestID(t, empty.Body, "outbox-link")) != 1 {
		t.Fatal("on the sandbox, the invitations page does not link to the outbox")
	}

	const addr = "New.Customer@example.com"
	sent := p.post(staff, "/onboarding/invitations", url.Values{"email": {addr}, "role": {"Client"}})
	if sent.StatusCode != http.StatusSeeOther || sent.Header.Get("Location") != "/onboarding/invitations" {
		t.Fatalf("invite: %d %q", sent.StatusCode, sent.Header.Get("Location"))
	}
	page := p.follow(staff, sent)
	mail := p.lastMail(addr)
	stored := p.invitations(0)
	if len(stored) != 1 || stored[0].Token != mail.Token || stored[0].SentByName != "staff-user" || stored[0].Role != "Client" {
		t.Fatalf("stored invitations %+v, want the one mailed with token %s", stored, mail.Token)
	}
	id := itoa(stored[0].ID)
	if got := invitationStates(t, page.Body); got[id] != "unused" {
		t.Fatalf("states %v, want %s unused", got, id)
	}
	if flash := byTestID(t, page.Body, "flash"); len(flash) != 1 || !strings.Contains(text(flash[0]), addr) {
		t.Fatal("no message that the invitation went")
	}
	links := byTestID(t, page.Body, "invitation-link")
	if len(links) != 1 || attr(links[0], "value") != mail.Link || !hasAttr(links[0], "readonly") {
		t.Fatalf("the link is not offered in a read-only field")
	}

	// Views read the states through the cache: no call while fresh (the
	// overview's few are the same tokens, so the same answer).
	calls := p.sandbox.Requests(partnerapi.ActionQueryInvitationInfo)
	p.get(staff, "/onboarding/invitations")
	p.get(staff, "/onboarding")
	p.get(staff, "/onboarding/invitations")
	if got := p.sandbox.Requests(partnerapi.ActionQueryInvitationInfo); got != calls {
		t.Fatalf("%d QueryInvitationInfo calls for three views, want none", got-calls)
	}

	// The same address again within three minutes: refused here, saying when.
	mails := p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail)
	again := p.post(staff, "/onboarding/invitations", url.Values{"email": {strings.ToLower(addr)}})
	if again.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, again.Body, "email"), "UTC") {
		t.Fatalf("second invitation within 3 minutes: %d, beside the address %q", again.StatusCode, fieldError(t, again.Body, "email"))
	}
	if p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail) != mails {
		t.Fatal("the refused invitation was sent to the API")
	}
	if inputValue(t, again.Body, "email") != strings.ToLower(addr) {
		t.Fatal("the form lost the address typed")
	}

	// Accepted as the invited party from the outbox: the list shows it used.
	outbox := p.get(staff, "/sandbox/outbox")
	if outbox.StatusCode != http.StatusOK || len(byTestID(t, outbox.Body, "outbox-accept")) != 1 {
		t.Fatalf("outbox: %d, want one invitation to accept", outbox.StatusCode)
	}
	accepted := p.post(staff, "/sandbox/outbox/accept", url.Values{"token": {mail.Token}})
	if accepted.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", accepted.StatusCode)
	}
	if after := p.follow(staff, accepted); len(byTestID(t, after.Body, "outbox-accepted")) != 1 {
		t.Fatal("the outbox does not show the invitation accepted")
	}
	used := p.get(staff, "/onboarding/invitations")
	if got := invitationStates(t, used.Body); got[id] != "used" {
		t.Fatalf("after acceptance the states are %v, want %s used", got, id)
	}
	if d := byTestID(t, used.Body, "invitation-detail"); len(d) != 1 || !strings.Contains(text(d[0]), "By account") {
		t.Fatal("a used invitation does not say by whom")
	}
	// Accepting twice says so.
	twice := p.follow(staff, p.post(staff, "/sandbox/outbox/accept", url.Values{"token": {mail.Token}}))
	if f := byTestID(t, twice.Body, "flash"); len(f) != 1 || !strings.Contains(text(f[0]), "already been used") {
		t.Fatal("accepting a used invitation again is not refused in words")
	}

	// Refresh reads the states again at once.
	calls = p.sandbox.Requests(partnerapi.ActionQueryInvitationInfo)
	p.advance(3 * time.Second) // past the cache's shortest interval between refreshes
	if r := p.post(staff, "/onboarding/invitations/refresh", url.Values{"page": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh: %d", r.StatusCode)
	}
	if p.sandbox.Requests(partnerapi.ActionQueryInvitationInfo) != calls+1 {
		t.Fatal("refresh did not read the states again")
	}

	// After the portal's three minutes the invitation may be sent again;
	// here the sandbox, on its own clock, still refuses, and says so.
	p.advance(onboardingMailInterval)
	mails = p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail)
	refused := p.follow(staff, p.post(staff, "/onboarding/invitations/"+id+"/resend", nil))
	if f := byTestID(t, refused.Body, "flash"); len(f) != 1 || !strings.Contains(text(f[0]), "3 minutes") || !strings.Contains(text(f[0]), "RequestId") {
		t.Fatal("the API's refusal of a new invitation is not told")
	}
	if p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail) != mails+1 {
		t.Fatal("sending again did not ask the API")
	}

	// An older invitation (the sandbox never mailed this address) goes again.
	old := p.seedInvitation(0, "older@example.com", 10*time.Minute)
	deleted := p.seedInvitation(0, "ancient@example.com", 61*24*time.Hour)
	listed := p.get(staff, "/onboarding/invitations")
	if got := invitationStates(t, listed.Body); got[itoa(deleted.ID)] != "deleted" || got[itoa(old.ID)] != "unknown" {
		t.Fatalf("states %v: want the 61-day-old one deleted, the unknown token not known", got)
	}
	if r := p.post(staff, "/onboarding/invitations/"+itoa(old.ID)+"/resend", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/onboarding/invitations" {
		t.Fatalf("send again: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if list := p.invitations(0); len(list) != 4 || list[0].Email != "older@example.com" || list[0].Token == old.Token {
		t.Fatalf("after sending again: %+v", list)
	}
}

// seedInvitation records an invitation sent some time ago, as if the
// portal had sent it then.
func (p *portal) seedInvitation(partner uint64, email string, ago time.Duration) store.Invitation {
	p.t.Helper()
	inv, err := store.WriteReturning(p.t.Context(), p.db, func(tx *store.Tx) (store.Invitation, error) {
		return tx.AddInvitation(p.t.Context(), store.Invitation{Token: "seed" + strconv.FormatInt(time.Now().UnixNano(), 36), Link: "https://example.com/i", Email: email,
			Role: store.InvitationClient, PartnerUin: partner, SentByName: "someone", CreatedAt: p.clock.now().Add(-ago)})
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return inv
}

// onboardingMailInterval is the API's three minutes and a second.
const onboardingMailInterval = 3*time.Minute + time.Second

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func TestInvitationBadInputChangesNothing(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty", url.Values{"email": {""}}, "email"},
		{"spaces", url.Values{"email": {"   "}}, "email"},
		{"too long", url.Values{"email": {strings.Repeat("a", 250) + "@example.com"}}, "email"},
		{"not an address", url.Values{"email": {"not-an-address"}}, "email"},
		{"a display name", url.Values{"email": {"Bob <bob@example.com>"}}, "email"},
		{"no domain dot", url.Values{"email": {"bob@localhost"}}, "email"},
		{"unknown role", url.Values{"email": {"bob@example.com"}, "role": {"Boss"}}, "role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(staff, "/onboarding/invitations", tc.form)
			if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, tc.field) == "" {
				t.Fatalf("status %d, message beside %s %q", r.StatusCode, tc.field, fieldError(t, r.Body, tc.field))
			}
		})
	}
	if n := p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail); n != 0 {
		t.Fatalf("%d invitations reached the API", n)
	}
	if len(p.invitations(0)) != 0 {
		t.Fatal("a refused invitation was recorded")
	}
	// Accepting no token, a token too long, or one nobody sent.
	for _, token := range []string{"", strings.Repeat("f", 300), "not-a-token"} {
		r := p.post(staff, "/sandbox/outbox/accept", url.Values{"token": {token}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept %q: %d", token, r.StatusCode)
		}
		if f := byTestID(t, p.follow(staff, r).Body, "flash"); len(f) != 1 || !strings.Contains(attr(f[0], "class"), "error") {
			t.Fatalf("accept %q: no refusal shown", token)
		}
	}
	// Resending what does not exist, or is not a number.
	for _, path := range []string{"/onboarding/invitations/999/resend", "/onboarding/invitations/x/resend"} {
		if r := p.post(staff, path, nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", path, r.StatusCode)
		}
	}
}

func TestInvitationAPIErrorsBesideTheirField(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	cases := []struct {
		code, role, field string
	}{
		{"FailedOperation.SendMailLimit180", "Client", "email"},
		{"InvalidParameter.MailFormatIncorrect", "Client", "email"},
		{"InvalidParameterValue.MailEmpty", "Client", "email"},
		{"UnauthorizedOperation.UinNoAuth", "SubAgent", "role"},
		{"InternalError", "Client", ""},
		{"InvalidParameterValue", "Client", ""},
	}
	for i, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionCreateAndSendClientInvitationMail, Code: tc.code})
			r := p.post(staff, "/onboarding/invitations", url.Values{"email": {fmt.Sprintf("err%d@example.com", i)}, "role": {tc.role}})
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.StatusCode)
			}
			msg := fieldError(t, r.Body, tc.field)
			if tc.field == "" {
				if f := byTestID(t, r.Body, "invite-problem"); len(f) == 1 {
					msg = text(f[0])
				}
			}
			if !strings.Contains(msg, "not sent") || !strings.Contains(msg, "RequestId") {
				t.Fatalf("beside %q: %q, want the refusal with its RequestId", tc.field, msg)
			}
		})
	}
	if len(p.invitations(0)) != 0 {
		t.Fatal("a refused invitation was recorded")
	}

	t.Run("not allowlisted", func(t *testing.T) {
		if err := p.sandbox.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionCreateAndSendClientInvitationMail, false); err != nil {
			t.Fatal(err)
		}
		defer p.sandbox.ResetAllowlist()
		r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"allow@example.com"}})
		if f := byTestID(t, r.Body, "invite-problem"); r.StatusCode != http.StatusUnprocessableEntity || len(f) != 1 || !strings.Contains(text(f[0]), "allowlist") {
			t.Fatalf("status %d: the refusal does not name the allowlist", r.StatusCode)
		}
	})

	t.Run("the API's per-partner limit", func(t *testing.T) {
		if err := p.sandbox.SetMailLimitScope(sandbox.MailLimitPerPartner); err != nil {
			t.Fatal(err)
		}
		defer p.sandbox.SetMailLimitScope(sandbox.MailLimitPerAddress)
		p.advance(onboardingMailInterval)
		if r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"first@example.com"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("first: %d", r.StatusCode)
		}
		r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"second@example.com"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.Body, "email"), "3 minutes") {
			t.Fatalf("second: %d %q", r.StatusCode, fieldError(t, r.Body, "email"))
		}
	})

	t.Run("outcome unknown", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionCreateAndSendClientInvitationMail, Drop: true})
		r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"lost@example.com"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/onboarding/invitations" {
			t.Fatalf("a dropped invitation: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		page := p.follow(staff, r)
		if f := byTestID(t, page.Body, "flash"); len(f) != 1 || !strings.Contains(text(f[0]), "Outcome unknown") {
			t.Fatal("the person is not told the outcome is unknown")
		}
		unknown := byTestID(t, page.Body, "unknown-invitation")
		if len(unknown) != 1 || !strings.Contains(text(unknown[0]), "lost@example.com") || len(find(t, page.Body, func(n *html.Node) bool {
			return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "/jobs/")
		})) == 0 {
			t.Fatal("the invitation of unknown outcome is not listed with its job")
		}
		// Not sent again blindly within three minutes.
		again := p.post(staff, "/onboarding/invitations", url.Values{"email": {"LOST@example.com"}})
		if again.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, again.Body, "email"), "outcome is unknown") {
			t.Fatalf("again: %d %q", again.StatusCode, fieldError(t, again.Body, "email"))
		}
	})
}

func TestInvitationStatesWhenTheAPIFails(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	if r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"state@example.com"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", r.StatusCode)
	}
	// Codes reads do not retry, so the failure shows at once.
	for _, code := range []string{"UnauthorizedOperation.UinNoAuth", "InvalidParameter"} {
		t.Run(code, func(t *testing.T) {
			p.advance(6 * time.Minute) // the states and the remembered failure are stale
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryInvitationInfo, Code: code, Count: 10})
			defer p.sandbox.ClearFaults()
			page := p.get(staff, "/onboarding/invitations")
			if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "api-problem")) != 1 {
				t.Fatalf("status %d: no problem shown", page.StatusCode)
			}
			for id, state := range invitationStates(t, page.Body) {
				if state != "unknown" {
					t.Fatalf("invitation %s shows %s though its state could not be read", id, state)
				}
			}
		})
	}
}

func TestSubagentSeesAndSendsOnlyItsOwnInvitations(t *testing.T) {
	p := newPortal(t)
	staff, sub := p.login("staff"), p.login("subagent")

	// Without its reseller's own key: the sentence instead of the form.
	page := p.get(sub, "/onboarding/invitations")
	if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "invite-form")) != 0 ||
		len(byTestID(t, page.Body, "api-note")) != 1 || !strings.Contains(text(byTestID(t, page.Body, "api-note")[0]), "API key") {
		t.Fatalf("without a key: %d, want the missing key's sentence instead of the form", page.StatusCode)
	}
	if r := p.post(sub, "/onboarding/invitations", url.Values{"email": {"nokey@example.com"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("inviting without a key: %d, want 403", r.StatusCode)
	}
	if n := p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail); n != 0 {
		t.Fatalf("%d invitations reached the API", n)
	}

	p.saveSubagentKey()
	if r := p.post(staff, "/onboarding/invitations", url.Values{"email": {"staffs@example.com"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff invite: %d", r.StatusCode)
	}
	if r := p.post(sub, "/onboarding/invitations", url.Values{"email": {"resellers@example.com"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reseller invite: %d", r.StatusCode)
	}
	staffs, own := p.invitations(0), p.invitations(p.subUin)
	if len(staffs) != 1 || len(own) != 1 || own[0].Email != "resellers@example.com" || own[0].SentByName != "subagent-user" {
		t.Fatalf("distributor's %+v, reseller's %+v", staffs, own)
	}
	// Sent with the reseller's own key: the reseller's key reads its state.
	subList := p.get(sub, "/onboarding/invitations")
	if got := invitationStates(t, subList.Body); len(got) != 1 || got[itoa(own[0].ID)] != "unused" {
		t.Fatalf("the reseller sees %v, want only its own, unused", got)
	}
	if got := invitationStates(t, p.get(staff, "/onboarding/invitations").Body); len(got) != 1 || got[itoa(staffs[0].ID)] != "unused" {
		t.Fatalf("staff sees %v, want only the distributor's", got)
	}

	// Form tampering: a reseller invites customers only.
	mails := p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail)
	tamper := p.post(sub, "/onboarding/invitations", url.Values{"email": {"agent@example.com"}, "role": {"SubAgent"}})
	if tamper.StatusCode != http.StatusUnprocessableEntity || fieldError(t, tamper.Body, "role") == "" {
		t.Fatalf("a reseller inviting a reseller: %d", tamper.StatusCode)
	}
	// URL edits: neither sends the other's invitation again.
	p.advance(onboardingMailInterval)
	for _, tc := range []struct {
		who *http.Client
		id  int64
	}{{sub, staffs[0].ID}, {staff, own[0].ID}} {
		if r := p.post(tc.who, fmt.Sprintf("/onboarding/invitations/%d/resend", tc.id), nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("resending another partner's invitation %d: %d, want 404", tc.id, r.StatusCode)
		}
	}
	if p.sandbox.Requests(partnerapi.ActionCreateAndSendClientInvitationMail) != mails {
		t.Fatal("a refused invitation reached the API")
	}

	// The outbox: the reseller sees its own mail only and cannot accept
	// the distributor's invitation.
	outbox := p.get(sub, "/sandbox/outbox")
	rows := byTestID(t, outbox.Body, "outbox-mail")
	if len(rows) != 1 || attr(rows[0], "data-token") != own[0].Token {
		t.Fatalf("the reseller's outbox lists %d mails, want its own one", len(rows))
	}
	if all := byTestID(t, p.get(staff, "/sandbox/outbox").Body, "outbox-mail"); len(all) != 2 {
		t.Fatalf("staff's outbox lists %d mails, want 2", len(all))
	}
	refused := p.follow(sub, p.post(sub, "/sandbox/outbox/accept", url.Values{"token": {staffs[0].Token}}))
	if f := byTestID(t, refused.Body, "flash"); len(f) != 1 || !strings.Contains(text(f[0]), "no such invitation") {
		t.Fatal("accepting another partner's invitation is not refused")
	}
	if got := invitationStates(t, p.get(staff, "/onboarding/invitations").Body); got[itoa(staffs[0].ID)] != "unused" {
		t.Fatalf("the distributor's invitation is %v after the reseller's attempt, want unused", got)
	}
}

func TestOutboxOnlyOnTheSandbox(t *testing.T) {
	// A portal whose target is Tencent Cloud (a key in the environment);
	// nothing here may call it, so only a staff user, whom no API checks.
	ctx := t.Context()
	a, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), HashCost: auth.TestCost, Getenv: func(k string) string {
		switch k {
		case "TENCENTCLOUD_SECRET_ID":
			return "AKIDonboardingtestonboardingtest12"
		case "TENCENTCLOUD_SECRET_KEY":
			return "onboardingtestonboardingtestkey1"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if a.Keys.Target() != keyring.TencentCloud {
		t.Fatalf("target %s, want Tencent Cloud", a.Keys.Target())
	}
	u, _, err := a.Users.Create(ctx, audit.CommandLine(), users.Input{Username: "staff-user", Role: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	p := &portal{t: t, app: a, db: a.DB, routes: a.Handler(), users: map[string]store.User{"staff": u}, clock: &testClock{}}
	p.ts = httptest.NewServer(p.routes)
	t.Cleanup(p.ts.Close)
	p.setPassword(u, testPassword)
	staff := p.login("staff")
	if r := p.get(staff, "/sandbox/outbox"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("outbox on Tencent Cloud: %d, want 404", r.StatusCode)
	}
	if r := p.post(staff, "/sandbox/outbox/accept", url.Values{"token": {"x"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("accept on Tencent Cloud: %d, want 404", r.StatusCode)
	}
	if r := p.get(staff, "/onboarding"); r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "outbox-link")) != 0 {
		t.Fatalf("overview on Tencent Cloud: %d, and it must not link to an outbox", r.StatusCode)
	}
}

// accountForm is a valid new account form for a phone; the code is added by the test.
func accountForm(email, country, phone, code string) url.Values {
	return url.Values{
		"account_type": {"company"}, "email": {email}, "customer_name": {"Harbor Games Ltd"}, "country": {country},
		"trade_one": {"kghy_07"}, "trade_two": {"kghy_0701"}, "phone": {phone},
		"password": {"Secret#2026x"}, "confirm_password": {"Secret#2026x"}, "verify_code": {code},
	}
}

func TestAccountCreatedWithTheSMSCode(t *testing.T) {
	dataDir := t.TempDir()
	p := newPortal(t, func(c *app.Config) { c.DataDir = dataDir })
	staff := p.login("staff")
	page := p.get(staff, "/onboarding/accounts/new")
	if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "account-form")) != 1 {
		t.Fatalf("form: %d", page.StatusCode)
	}
	options := func(body, testID string) []string {
		var out []string
		for _, sel := range byTestID(t, body, testID) {
			for c := sel.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "option" && attr(c, "value") != "" {
					out = append(out, attr(c, "value"))
				}
			}
		}
		return out
	}
	countries := options(page.Body, "account-country")
	if !slices.Contains(countries, "HK") || slices.Contains(countries, "CN") || slices.Contains(countries, "RU") {
		t.Fatalf("countries %v: want HK, and not the regions accounts cannot be created for", countries)
	}
	if len(options(page.Body, "trade-one")) == 0 || len(options(page.Body, "trade-two")) != 0 {
		t.Fatal("the industries are not offered, or the second level is before the first is chosen")
	}
	// The second level, as htmx loads it.
	req, _ := http.NewRequest(http.MethodGet, p.ts.URL+"/onboarding/accounts/industries?trade_one=kghy_07", nil)
	req.Header.Set("HX-Request", "true")
	if subs := options(p.do(staff, req).Body, "trade-two"); !slices.Contains(subs, "kghy_0701") {
		t.Fatalf("second level of kghy_07: %v", subs)
	}
	// Without script: "choose" keeps the draft and shows the second level.
	choose := p.post(staff, "/onboarding/accounts/choose", url.Values{"email": {"draft@example.com"}, "trade_one": {"kghy_07"}, "password": {"Secret#2026x"}})
	if choose.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose: %d", choose.StatusCode)
	}
	drafted := p.follow(staff, choose)
	if inputValue(t, drafted.Body, "email") != "draft@example.com" || !slices.Contains(options(drafted.Body, "trade-two"), "kghy_0701") {
		t.Fatal("the form without script does not come back with the draft and the second level")
	}

	// Send the code, as htmx does: the phone step comes back with its countdown.
	code := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"HK"}, "phone": {"6123 4567"}}, true)
	if code.StatusCode != http.StatusOK || len(byTestID(t, code.Body, "code-sent")) != 1 || len(byTestID(t, code.Body, "code-countdown")) != 1 {
		t.Fatalf("send code: %d, want the step with the code sent and a countdown", code.StatusCode)
	}
	if cd := byTestID(t, code.Body, "code-countdown")[0]; attr(cd, "data-countdown") != "60" {
		t.Fatalf("countdown %q, want 60", attr(cd, "data-countdown"))
	}
	sms := p.lastCode("+852 61234567")
	sends := p.sandbox.Requests(partnerapi.ActionSendVerifyCode)
	again := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"HK"}, "phone": {"61234567"}}, true)
	if again.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, again.Body, "phone"), "60 seconds") {
		t.Fatalf("a second code within 60 s: %d %q", again.StatusCode, fieldError(t, again.Body, "phone"))
	}
	if p.sandbox.Requests(partnerapi.ActionSendVerifyCode) != sends {
		t.Fatal("the second code was asked of the API")
	}
	if rows := p.auditRows(partnerapi.ActionSendVerifyCode); len(rows) != 1 || rows[0].Outcome != store.OutcomeOK || rows[0].Params["PhoneNum"] != "61234567" {
		t.Fatalf("SendVerifyCode audit rows %+v, want one ok", rows)
	}

	form := accountForm("harbor.games@example.com", "HK", "61234567", sms)
	created := p.post(staff, "/onboarding/accounts", form)
	if created.StatusCode != http.StatusSeeOther || !strings.HasPrefix(created.Header.Get("Location"), "/onboarding/accounts/created/") {
		t.Fatalf("create: %d %q\n%s", created.StatusCode, created.Header.Get("Location"), created.Body)
	}
	if strings.Contains(created.Header.Get("Location"), "Secret") {
		t.Fatal("the password is in the redirect")
	}
	done := p.follow(staff, created)
	uinNode := byTestID(t, done.Body, "new-uin")
	if len(uinNode) != 1 {
		t.Fatalf("the page does not show the new UIN:\n%s", done.Body)
	}
	uin, err := strconv.ParseUint(text(uinNode[0]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if l := byTestID(t, done.Body, "new-customer-link"); len(l) != 1 || attr(l[0], "href") != "/customers/"+text(uinNode[0]) {
		t.Fatal("no link to the new customer's page")
	}
	// In the customers table at once, with its address.
	row, err := p.db.CustomerByUin(t.Context(), uin)
	if err != nil || !strings.EqualFold(row.Email, "harbor.games@example.com") {
		t.Fatalf("customers table: %+v, %v", row, err)
	}
	// The password reached neither the database nor the audit log.
	noSecretStored(t, p, dataDir, "Secret#2026x")
	// Another person cannot read this job's outcome by URL edit.
	other := p.login("subagent")
	if r := p.get(other, created.Header.Get("Location")); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a reseller's login reads staff's new account: %d, want 404", r.StatusCode)
	}
}

// noSecretStored checks that a secret is in no audit row and no file of
// the data directory (the database, its WAL, the keys).
func noSecretStored(t *testing.T, p *portal, dataDir, secret string) {
	t.Helper()
	for _, e := range p.auditRows("") {
		for k, v := range e.Params {
			if strings.Contains(v, secret) {
				t.Fatalf("audit row %d carries the secret in %s", e.ID, k)
			}
		}
	}
	err := filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s holds the secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAccountBadInputChangesNothing(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	good := accountForm("bad.input@example.com", "HK", "61234567", "123456")
	with := func(field, value string) url.Values {
		f := url.Values{}
		for k, v := range good {
			f[k] = slices.Clone(v)
		}
		f.Set(field, value)
		return f
	}
	cases := []struct {
		name, field, value string
	}{
		{"no account type", "account_type", ""},
		{"unknown account type", "account_type", "robot"},
		{"no address", "email", ""},
		{"bad address", "email", "nobody"},
		{"long address", "email", strings.Repeat("x", 300) + "@example.com"},
		{"name of one letter", "customer_name", "A"},
		{"name only digits", "customer_name", "123456"},
		{"name too long", "customer_name", strings.Repeat("名", 201)},
		{"name with a control character", "customer_name", "Harbor\x07Games"},
		{"no region", "country", ""},
		{"unknown region", "country", "XX"},
		{"refused region", "country", "CN"},
		{"no industry", "trade_one", ""},
		{"unknown industry", "trade_one", "kghy_99"},
		{"no sub-industry", "trade_two", ""},
		{"sub-industry of another", "trade_two", "kghy_0101"},
		{"no phone", "phone", ""},
		{"phone with letters", "phone", "6123abcd"},
		{"phone too long", "phone", strings.Repeat("1", 33)},
		{"no password", "password", ""},
		{"short password", "password", "Ab1!"},
		{"long password", "password", "Abcdefgh1!Abcdefgh1!X"},
		{"password with a space", "password", "Secret 2026!"},
		{"password without a symbol", "password", "Secret2026x"},
		{"password with another symbol", "password", "Secret2026x~"},
		{"no confirmation", "confirm_password", ""},
		{"other confirmation", "confirm_password", "Secret#2026y"},
		{"no code", "verify_code", ""},
		{"code of letters", "verify_code", "abcdef"},
		{"code too short", "verify_code", "123"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := with(tc.field, tc.value)
			r := p.post(staff, "/onboarding/accounts", form)
			if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, tc.field) == "" {
				t.Fatalf("status %d, message beside %s %q", r.StatusCode, tc.field, fieldError(t, r.Body, tc.field))
			}
			if inputValue(t, r.Body, "password") != "" || inputValue(t, r.Body, "confirm_password") != "" {
				t.Fatal("the form comes back with the password")
			}
			if tc.field != "email" && inputValue(t, r.Body, "email") != good.Get("email") {
				t.Fatal("the form lost what was typed")
			}
		})
	}
	// Wrong types and sizes in the code step.
	for _, tc := range []struct{ country, phone, field string }{
		{"", "61234567", "country"}, {"CN", "13800000000", "country"}, {"ZZ", "61234567", "country"},
		{"HK", "", "phone"}, {"HK", "+85261234567", "phone"}, {"HK", strings.Repeat("9", 70), "phone"},
	} {
		r := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {tc.country}, "phone": {tc.phone}}, true)
		if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, tc.field) == "" {
			t.Fatalf("code for %q %q: %d, no message beside %s", tc.country, tc.phone, r.StatusCode, tc.field)
		}
	}
	if n := p.sandbox.Requests(partnerapi.ActionCreateAccount) + p.sandbox.Requests(partnerapi.ActionSendVerifyCode); n != 0 {
		t.Fatalf("%d calls reached the API", n)
	}
	if len(p.auditRows(partnerapi.ActionCreateAccount))+len(p.auditRows(partnerapi.ActionSendVerifyCode)) != 0 {
		t.Fatal("refused input was audited as a call")
	}
}

func TestAccountAPIErrorsBesideTheirField(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	create := map[string]string{
		"InvalidParameterValue.AccountTypeEmpty":           "account_type",
		"InvalidParameter.AccountTypeContentIncorrect":     "account_type",
		"InvalidParameterValue.MailEmpty":                  "email",
		"InvalidParameter.MailFormatIncorrect":             "email",
		"FailedOperation.MailIsRegistered":                 "email",
		"InvalidParameterValue.PasswordEmpty":              "password",
		"InvalidParameter.PasswordFormatIncorrect":         "password",
		"InvalidParameter.PasswordContentIncorrect":        "password",
		"InvalidParameter.ConfirmPasswordContentIncorrect": "confirm_password",
		"InvalidParameterValue.PhoneNumEmpty":              "phone",
		"InvalidParameter.PhoneNumFormatIncorrect":         "phone",
		"FailedOperation.PhoneBindUpper":                   "phone",
		"InvalidParameterValue.CountryCodeEmpty":           "country",
		"InvalidParameter.CountryCodeFormatIncorrect":      "country",
		"InvalidParameter.CountryCodeContentIncorrect":     "country",
		"InvalidParameterValue.UnSupportArea":              "country",
		"InvalidParameterValue.AreaEmpty":                  "country",
		"InvalidParameter.AreaFormatIncorrect":             "country",
		"InvalidParameter.AreaContentIncorrect":            "country",
		"InvalidParameterValue.TradeInfoEmpty":             "trade_one",
		"FailedOperation.TradeInfoIncorrect":               "trade_two",
		"FailedOperation.VerificationCodeIllegal":          "verify_code",
		"InternalError":         "",
		"InvalidParameterValue": "",
	}
	for code, field := range create {
		t.Run("CreateAccount "+code, func(t *testing.T) {
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionCreateAccount, Code: code})
			r := p.post(staff, "/onboarding/accounts", accountForm("fault@example.com", "HK", "61234567", "123456"))
			msg := fieldError(t, r.Body, field)
			if field == "" {
				if f := byTestID(t, r.Body, "account-problem"); len(f) == 1 {
					msg = text(f[0])
				}
			}
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "not created") || !strings.Contains(msg, "RequestId") {
				t.Fatalf("status %d, beside %q: %q", r.StatusCode, field, msg)
			}
			if inputValue(t, r.Body, "password") != "" {
				t.Fatal("the form comes back with the password")
			}
		})
	}
	t.Run("the real code rule", func(t *testing.T) {
		// A code that was never sent is refused by the sandbox's own rule.
		r := p.post(staff, "/onboarding/accounts", accountForm("real.rule@example.com", "HK", "69999999", "000000"))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.Body, "verify_code"), "verification code is wrong") {
			t.Fatalf("status %d, beside the code %q", r.StatusCode, fieldError(t, r.Body, "verify_code"))
		}
		// Its job's page in the area says it failed, and why.
		list, _, err := p.db.ListJobs(t.Context(), store.JobFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		last := slices.MaxFunc(list, func(a, b store.Job) int { return int(a.ID - b.ID) })
		page := p.get(staff, fmt.Sprintf("/onboarding/accounts/created/%d", last.ID))
		if f := byTestID(t, page.Body, "account-failed"); page.StatusCode != http.StatusOK || len(f) != 1 || !strings.Contains(text(f[0]), "verification code is wrong") {
			t.Fatalf("the failed account's page: %d", page.StatusCode)
		}
	})
	t.Run("not allowlisted", func(t *testing.T) {
		if err := p.sandbox.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionCreateAccount, false); err != nil {
			t.Fatal(err)
		}
		defer p.sandbox.ResetAllowlist()
		r := p.post(staff, "/onboarding/accounts", accountForm("allow@example.com", "HK", "61234567", "123456"))
		if f := byTestID(t, r.Body, "account-problem"); r.StatusCode != http.StatusUnprocessableEntity || len(f) != 1 || !strings.Contains(text(f[0]), "allowlist") {
			t.Fatalf("status %d: the refusal does not name the allowlist", r.StatusCode)
		}
	})

	send := map[string]string{
		"FailedOperation.SendVerifyCodeLimit":          "phone",
		"FailedOperation.SendVerifyCodeLimit60":        "phone",
		"InvalidParameterValue.PhoneNumEmpty":          "phone",
		"InvalidParameter.PhoneNumFormatIncorrect":     "phone",
		"InvalidParameterValue.CountryCodeEmpty":       "country",
		"InvalidParameter.CountryCodeFormatIncorrect":  "country",
		"InvalidParameter.CountryCodeContentIncorrect": "country",
		"InvalidParameterValue.UnSupportArea":          "country",
		"InternalError":                                "",
	}
	n := 0
	for code, field := range send {
		t.Run("SendVerifyCode "+code, func(t *testing.T) {
			n++
			phone := fmt.Sprintf("6200%04d", n)
			p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionSendVerifyCode, Code: code})
			sends := p.sandbox.Requests(partnerapi.ActionSendVerifyCode)
			r := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"SG"}, "phone": {phone}}, true)
			msg := fieldError(t, r.Body, field)
			if field == "" {
				if f := byTestID(t, r.Body, "code-problem"); len(f) == 1 {
					msg = text(f[0])
				}
			}
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "No code was sent") {
				t.Fatalf("status %d, beside %q: %q", r.StatusCode, field, msg)
			}
			if p.sandbox.Requests(partnerapi.ActionSendVerifyCode) != sends+1 {
				t.Fatal("the refused code was sent more than once")
			}
		})
	}
	if rows := p.auditRows(partnerapi.ActionSendVerifyCode); len(rows) != len(send) || slices.ContainsFunc(rows, func(e store.AuditEntry) bool { return e.Outcome != store.OutcomeFailed }) {
		t.Fatalf("%d SendVerifyCode rows, want %d failed", len(rows), len(send))
	}

	t.Run("SendVerifyCode outcome unknown", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionSendVerifyCode, Drop: true})
		r := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"SG"}, "phone": {"63330000"}}, true)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.Body, "phone"), "may have been sent") {
			t.Fatalf("status %d, beside the phone %q", r.StatusCode, fieldError(t, r.Body, "phone"))
		}
		if len(byTestID(t, r.Body, "code-countdown")) != 1 {
			t.Fatal("no countdown after a code that may have gone")
		}
		rows := p.auditRows(partnerapi.ActionSendVerifyCode)
		if rows[0].Outcome != store.OutcomeUnknown {
			t.Fatalf("audit outcome %s, want unknown", rows[0].Outcome)
		}
		// Never sent again blindly.
		sends := p.sandbox.Requests(partnerapi.ActionSendVerifyCode)
		p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"SG"}, "phone": {"63330000"}}, true)
		if p.sandbox.Requests(partnerapi.ActionSendVerifyCode) != sends {
			t.Fatal("a code that may have gone was sent again at once")
		}
	})

	t.Run("CreateAccount outcome unknown, read back", func(t *testing.T) {
		phone := "64440000"
		if r := p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"HK"}, "phone": {phone}}, true); r.StatusCode != http.StatusOK {
			t.Fatalf("send code: %d", r.StatusCode)
		}
		p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionCreateAccount, Drop: true})
		r := p.post(staff, "/onboarding/accounts", accountForm("dropped@example.com", "HK", phone, p.lastCode("+852 "+phone)))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d", r.StatusCode)
		}
		page := p.follow(staff, r)
		// The engine read the new account back by its address: applied.
		if len(byTestID(t, page.Body, "account-created")) != 1 {
			t.Fatalf("a dropped answer that was applied is not shown as created:\n%s", page.Body)
		}
	})
}

func TestAccountReferenceListsWhenTheAPIFails(t *testing.T) {
	for _, action := range []string{partnerapi.ActionGetCountryCodes, partnerapi.ActionGetTradeConfigList} {
		for _, code := range []string{"UnauthorizedOperation.UinNoAuth", "InvalidParameter"} {
			t.Run(action+" "+code, func(t *testing.T) {
				p := newPortal(t)
				staff := p.login("staff")
				p.sandbox.InjectFault(sandbox.Fault{Action: action, Code: code, Count: 10})
				page := p.get(staff, "/onboarding/accounts/new")
				if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "api-problem")) != 1 {
					t.Fatalf("status %d: the failure is not shown", page.StatusCode)
				}
				r := p.post(staff, "/onboarding/accounts", accountForm("ref@example.com", "HK", "61234567", "123456"))
				if f := byTestID(t, r.Body, "account-problem"); r.StatusCode != http.StatusUnprocessableEntity || len(f) != 1 {
					t.Fatalf("create without the lists: %d", r.StatusCode)
				}
				if p.sandbox.Requests(partnerapi.ActionCreateAccount) != 0 {
					t.Fatal("an unchecked account was sent")
				}
			})
		}
	}
}

func TestSubagentCreatesAccountsWithItsOwnKey(t *testing.T) {
	p := newPortal(t)
	sub := p.login("subagent")
	if page := p.get(sub, "/onboarding/accounts/new"); len(byTestID(t, page.Body, "account-form")) != 0 || len(byTestID(t, page.Body, "api-note")) != 1 {
		t.Fatal("without its reseller's key a reseller's login is offered the form")
	}
	p.saveSubagentKey()
	if r := p.onboardingPost(sub, "/onboarding/accounts/code", url.Values{"country": {"MY"}, "phone": {"123456789"}}, true); r.StatusCode != http.StatusOK {
		t.Fatalf("send code: %d", r.StatusCode)
	}
	r := p.post(sub, "/onboarding/accounts", accountForm("reseller.customer@example.com", "MY", "123456789", p.lastCode("+60 123456789")))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.StatusCode, r.Body)
	}
	page := p.follow(sub, r)
	uinNode := byTestID(t, page.Body, "new-uin")
	if len(uinNode) != 1 {
		t.Fatal("no UIN shown")
	}
	uin, _ := strconv.ParseUint(text(uinNode[0]), 10, 64)
	owner, err := p.db.CustomerOwner(t.Context(), uin)
	if err != nil || owner != p.subUin {
		t.Fatalf("the new customer belongs to %d (%v), want the reseller %d", owner, err, p.subUin)
	}
	// Its outbox lists the code it asked for, not the distributor's.
	staff := p.login("staff")
	p.onboardingPost(staff, "/onboarding/accounts/code", url.Values{"country": {"SG"}, "phone": {"98765432"}}, true)
	var tos []string
	for _, row := range byTestID(t, p.get(sub, "/sandbox/outbox").Body, "outbox-sms") {
		tos = append(tos, attr(row, "data-to"))
	}
	if !slices.Equal(tos, []string{"+60 123456789"}) {
		t.Fatalf("the reseller's outbox lists codes to %v", tos)
	}
}
