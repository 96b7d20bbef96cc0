package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// Onboarding limits as the documentation gives them, through the client.

func TestPendingApplicationsMasked(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	pending, err := c.QueryPendingClientsV2(t.Context(), &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending.Data) == 0 {
		t.Fatal("no pending application")
	}
	for _, a := range pending.Data {
		if !strings.Contains(a.Mobile, "****") {
			t.Errorf("pending %d: Mobile %q is not masked as in the published example", a.ClientUin, a.Mobile)
		}
	}
	agents, err := c.QueryPendingSubAgentsV2(t.Context(), &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(agents.Data) == 0 {
		t.Fatal("no pending reseller application")
	}
	for _, a := range agents.Data {
		if !strings.Contains(a.Mobile, "****") {
			t.Errorf("pending reseller %d: Mobile %q is not masked as in the published example", a.SubAgentUin, a.Mobile)
		}
	}
}

// TestVerificationCodeLimits: codes expire after ten minutes, and a number
// receives at most ten a day besides the 60-second spacing.
func TestVerificationCodeLimits(t *testing.T) {
	const cc, phone = "852", "61239876"
	account := func(mail, code string) *partnerapi.CreateAccountRequest {
		return &partnerapi.CreateAccountRequest{
			AccountType: "company", Mail: mail, Password: "Bejs%2745!", ConfirmPassword: "Bejs%2745!",
			PhoneNum: phone, CountryCode: cc, Area: "HK", VerifyCode: code, TradeOne: "kghy_01", TradeTwo: "kghy_0101",
		}
	}
	expiry := []struct {
		name string
		wait time.Duration
		want string
	}{
		{"used after 9m59s", 9*time.Minute + 59*time.Second, ""},
		{"used after exactly 10 minutes", 10 * time.Minute, ""},
		{"used after 10m01s", 10*time.Minute + time.Second, "FailedOperation.VerificationCodeIllegal"},
	}
	for _, tt := range expiry {
		t.Run(tt.name, func(t *testing.T) {
			r := newAPIRig(t, Options{})
			c := r.distributor(t)
			if _, err := c.SendVerifyCode(t.Context(), &partnerapi.SendVerifyCodeRequest{CountryCode: cc, PhoneNum: phone}); err != nil {
				t.Fatal(err)
			}
			code := r.lastMessage(t, "+"+cc+" "+phone).Code
			r.clock.Advance(tt.wait)
			_, err := c.CreateAccount(t.Context(), account("expiry@example.com", code))
			if got := apiCode(t, err); got != tt.want {
				t.Errorf("code %q (%v), want %q", got, err, tt.want)
			}
		})
	}

	t.Run("daily cap", func(t *testing.T) {
		r := newAPIRig(t, Options{})
		c := r.distributor(t)
		send := func() string {
			_, err := c.SendVerifyCode(t.Context(), &partnerapi.SendVerifyCodeRequest{CountryCode: cc, PhoneNum: phone})
			return apiCode(t, err)
		}
		// rigStart is 10:30 in UTC+8, so the next hours stay on one day.
		for i := 1; i <= smsPerDay; i++ {
			if got := send(); got != "" {
				t.Fatalf("code %d of the day: %s", i, got)
			}
			if got := send(); got != "FailedOperation.SendVerifyCodeLimit60" {
				t.Fatalf("a second code within 60 s: %q", got)
			}
			r.clock.Advance(61 * time.Second)
		}
		if got := send(); got != "FailedOperation.SendVerifyCodeLimit" {
			t.Fatalf("code %d of the day: %q, want FailedOperation.SendVerifyCodeLimit", smsPerDay+1, got)
		}
		// Another number is not affected.
		if _, err := c.SendVerifyCode(t.Context(), &partnerapi.SendVerifyCodeRequest{CountryCode: cc, PhoneNum: "61230001"}); err != nil {
			t.Errorf("another number: %v", err)
		}
		// The next day (in UTC+8) starts afresh.
		now := r.clock.Now().In(apiZone)
		r.clock.Advance(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 1, 0, apiZone).Sub(now))
		if got := send(); got != "" {
			t.Errorf("first code of the next day: %q", got)
		}
	})
}

// TestMailLimitScope sends invitations three minutes apart or less, under
// each scope, set by Option, Go method or control endpoint.
func TestMailLimitScope(t *testing.T) {
	setByOption := func(scope MailLimitScope) (Options, func(*testing.T, *apiRig)) {
		return Options{MailLimitScope: scope}, nil
	}
	setByMethod := func(scope MailLimitScope) (Options, func(*testing.T, *apiRig)) {
		return Options{}, func(t *testing.T, r *apiRig) {
			if err := r.srv.SetMailLimitScope(scope); err != nil {
				t.Fatal(err)
			}
		}
	}
	setByControl := func(scope MailLimitScope) (Options, func(*testing.T, *apiRig)) {
		return Options{}, func(t *testing.T, r *apiRig) {
			var got Settings
			if st := r.control(t, http.MethodPost, "/sandbox/settings", map[string]any{"MailLimitScope": scope}, &got); st != http.StatusOK || got.MailLimitScope != scope {
				t.Fatalf("POST /sandbox/settings: %d %+v", st, got)
			}
		}
	}
	// Each step: who sends, to whom, how long after the previous step, and the answer.
	type step struct {
		sender string // "dist" or "sub"
		to     string
		after  time.Duration
		want   string
	}
	perAddress := []step{
		{"dist", "a@example.com", 0, ""},
		{"dist", "b@example.com", time.Second, ""},
		{"dist", "a@example.com", time.Second, "FailedOperation.SendMailLimit180"},
		{"sub", "a@example.com", time.Second, "FailedOperation.SendMailLimit180"},
		{"sub", "c@example.com", time.Second, ""},
		{"dist", "A@Example.com", 3 * time.Minute, ""},
	}
	perPartner := []step{
		{"dist", "a@example.com", 0, ""},
		{"dist", "b@example.com", time.Second, "FailedOperation.SendMailLimit180"},
		{"sub", "b@example.com", time.Second, ""},
		{"sub", "c@example.com", 2 * time.Minute, "FailedOperation.SendMailLimit180"},
		{"dist", "b@example.com", time.Minute, ""},
		{"sub", "c@example.com", time.Minute, ""},
	}
	tests := []struct {
		name  string
		set   func(MailLimitScope) (Options, func(*testing.T, *apiRig))
		scope MailLimitScope
		steps []step
	}{
		{"default is per address", func(MailLimitScope) (Options, func(*testing.T, *apiRig)) { return Options{}, nil }, "", perAddress},
		{"per address by option", setByOption, MailLimitPerAddress, perAddress},
		{"per partner by option", setByOption, MailLimitPerPartner, perPartner},
		{"per partner by Go method", setByMethod, MailLimitPerPartner, perPartner},
		{"per partner by control endpoint", setByControl, MailLimitPerPartner, perPartner},
		{"back to per address by control endpoint", func(s MailLimitScope) (Options, func(*testing.T, *apiRig)) {
			_, set := setByControl(s)
			return Options{MailLimitScope: MailLimitPerPartner}, set
		}, MailLimitPerAddress, perAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, set := tt.set(tt.scope)
			r := newAPIRig(t, opts)
			if set != nil {
				set(t, r)
			}
			want := tt.scope
			if want == "" {
				want = MailLimitPerAddress
			}
			if got := r.srv.Settings().MailLimitScope; got != want {
				t.Fatalf("scope %q, want %q", got, want)
			}
			clients := map[string]*partnerapi.Client{"dist": r.distributor(t), "sub": r.subAgent(t)}
			for i, s := range tt.steps {
				r.clock.Advance(s.after)
				_, err := clients[s.sender].CreateAndSendClientInvitationMail(t.Context(), &partnerapi.CreateAndSendClientInvitationMailRequest{Email: s.to})
				if got := apiCode(t, err); got != s.want {
					t.Errorf("step %d (%s to %s): %q, want %q", i, s.sender, s.to, got, s.want)
				}
			}
		})
	}
}

func TestSettingsControlErrors(t *testing.T) {
	r := newAPIRig(t, Options{})
	tests := []struct {
		name string
		body any
		want int
	}{
		{"unknown scope", map[string]any{"MailLimitScope": "planet"}, http.StatusBadRequest},
		{"unknown setting", map[string]any{"Scope": "partner"}, http.StatusBadRequest},
		{"nothing to change", map[string]any{}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.control(t, http.MethodPost, "/sandbox/settings", tt.body, nil); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	var s Settings
	if st := r.control(t, http.MethodGet, "/sandbox/settings", nil, &s); st != http.StatusOK || s.MailLimitScope != MailLimitPerAddress {
		t.Errorf("GET /sandbox/settings: %d %+v", st, s)
	}
	if _, err := New(Options{MailLimitScope: "planet"}); err == nil {
		t.Error("New accepted an unknown MailLimitScope")
	}
}
