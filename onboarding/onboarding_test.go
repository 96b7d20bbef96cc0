package onboarding

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// field is the form field an error names, "" for none, "-" for no error.
func field(err error) string {
	if err == nil {
		return "-"
	}
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return "?"
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, msg string // msg "" means accepted
	}{
		{"Secret#2026", ""},
		{"a1!bcdef", ""},
		{"Ab1!Ab1!Ab1!Ab1!Ab1!", ""}, // 20
		{"", "onboarding.password_required"},
		{"Ab1!xyz", "onboarding.password_length"},               // 7
		{"Ab1!Ab1!Ab1!Ab1!Ab1!x", "onboarding.password_length"}, // 21
		{"Secret 2026!", "onboarding.password_chars"},
		{"Secret2026~", "onboarding.password_chars"},
		{"Sécret#2026", "onboarding.password_chars"},
		{"Secret2026", "onboarding.password_classes"},
		{"Secret#word", "onboarding.password_classes"},
		{"2026#2026", "onboarding.password_classes"},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw)
		got := ""
		if e, ok := apperr.As(err); ok {
			got = e.MessageID
		}
		if got != tt.msg {
			t.Errorf("CheckPassword(%q) = %q, want %q", tt.pw, got, tt.msg)
		}
	}
}

func TestFieldRules(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		want  string
	}{
		{"address", func() error { _, err := checkEmail(" a.b@example.com "); return err }, "-"},
		{"empty address", func() error { _, err := checkEmail(""); return err }, "email"},
		{"address with a name", func() error { _, err := checkEmail("A <a@example.com>"); return err }, "email"},
		{"address without a dot", func() error { _, err := checkEmail("a@localhost"); return err }, "email"},
		{"long address", func() error { _, err := checkEmail(strings.Repeat("a", 250) + "@example.com"); return err }, "email"},
		{"bad UTF-8 address", func() error { _, err := checkEmail("a\xff@example.com"); return err }, "email"},
		{"no name", func() error { _, err := checkCustomerName("  "); return err }, "-"},
		{"name", func() error { _, err := checkCustomerName("李雷"); return err }, "-"},
		{"short name", func() error { _, err := checkCustomerName("李"); return err }, "customer_name"},
		{"digits", func() error { _, err := checkCustomerName("2026"); return err }, "customer_name"},
		{"long name", func() error { _, err := checkCustomerName(strings.Repeat("x", 201)); return err }, "customer_name"},
		{"control character", func() error { _, err := checkCustomerName("a\tb"); return err }, "customer_name"},
		{"phone", func() error { _, err := phoneDigits("6123 4567"); return err }, "-"},
		{"phone with dashes", func() error { _, err := phoneDigits("612-345-67"); return err }, "-"},
		{"no phone", func() error { _, err := phoneDigits(""); return err }, "phone"},
		{"phone with plus", func() error { _, err := phoneDigits("+85261234567"); return err }, "phone"},
		{"33 digits", func() error { _, err := phoneDigits(strings.Repeat("1", 33)); return err }, "phone"},
		{"typed too long", func() error { _, err := phoneDigits(strings.Repeat(" ", 70) + "1"); return err }, "phone"},
	}
	for _, tt := range tests {
		if got := field(tt.check()); got != tt.want {
			t.Errorf("%s: field %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRolesAnActorMayInvite(t *testing.T) {
	staff := audit.Actor{Principal: auth.Principal{Role: auth.RoleStaff}}
	reseller := audit.Actor{Principal: auth.Principal{Role: auth.RoleSubagent, SubagentUin: 7}}
	tests := []struct {
		actor      audit.Actor
		role, want string
		wantErr    string // field, or "-"
	}{
		{staff, "", RoleClient, "-"},
		{staff, "SubAgent", RoleSubAgent, "-"},
		{staff, "Distributor", "", "role"},
		{reseller, "Client", RoleClient, "-"},
		{reseller, "SubAgent", "", "role"},
	}
	for _, tt := range tests {
		got, err := checkRole(tt.actor, tt.role)
		if got != tt.want || field(err) != tt.wantErr {
			t.Errorf("%s inviting %q: %q, %v", tt.actor.Role, tt.role, got, err)
		}
	}
}

func TestStateOf(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	inv := func(age time.Duration, token string) store.Invitation {
		return store.Invitation{Token: token, CreatedAt: now.Add(-age)}
	}
	apiWrites := func(t time.Time) string { return t.In(partnerapi.TimeZone).Format(partnerapi.TimeLayout) }
	used := partnerapi.QueryInvitationInfoData{Status: 2, ClientUin: 42, UseTime: apiWrites(now.Add(-time.Hour)), BindTime: apiWrites(now.Add(-time.Minute))}
	tests := []struct {
		name  string
		inv   store.Invitation
		d     partnerapi.QueryInvitationInfoData
		found bool
		want  State
	}{
		{"unused", inv(time.Hour, "t"), partnerapi.QueryInvitationInfoData{Status: 1}, true, StateUnused},
		{"used and bound", inv(time.Hour*48, "t"), used, true, StateUsed},
		{"expired", inv(31*24*time.Hour, "t"), partnerapi.QueryInvitationInfoData{Status: 1}, true, StateExpired},
		{"used long ago", inv(40*24*time.Hour, "t"), used, true, StateUsed},
		{"deleted", inv(61*24*time.Hour, "t"), partnerapi.QueryInvitationInfoData{}, false, StateDeleted},
		{"not read", inv(time.Hour, "t"), partnerapi.QueryInvitationInfoData{}, false, StateUnknown},
		{"no token", inv(time.Hour, "request:abc"), partnerapi.QueryInvitationInfoData{}, false, StateUnknown},
	}
	for _, tt := range tests {
		got := stateOf(tt.inv, tt.d, tt.found, now)
		if got.State != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got.State, tt.want)
		}
		if got.State == StateUsed && (got.ClientUin != 42 || !got.BoundAt.Equal(now.Add(-time.Minute)) || !got.UsedAt.Equal(now.Add(-time.Hour))) {
			t.Errorf("%s: used by %d at %v, bound %v", tt.name, got.ClientUin, got.UsedAt, got.BoundAt)
		}
		if !got.ExpiresAt.Equal(tt.inv.CreatedAt.Add(LinkValidity)) {
			t.Errorf("%s: expires %v", tt.name, got.ExpiresAt)
		}
	}
	// Deleted links are not asked about; links without a token neither.
	if asked(inv(61*24*time.Hour, "t"), now) || asked(inv(time.Hour, "request:x"), now) || !asked(inv(time.Hour, "t"), now) {
		t.Error("asked: wrong links asked about")
	}
}

func TestCheckAccountReportsEveryField(t *testing.T) {
	_, err := checkAccount(AccountInput{AccountType: "robot", Email: "x", CustomerName: "1", Phone: "x", Password: "short", ConfirmPassword: "other", VerifyCode: "12"})
	got := apperr.Fields(err)
	for _, f := range []string{"account_type", "email", "customer_name", "phone", "password", "confirm_password", "verify_code"} {
		if got[f] == nil {
			t.Errorf("no error for %s", f)
		}
	}
	ref := Reference{
		Countries:  []Country{{ISO2: "HK", Code: "852"}},
		Refused:    []Country{{ISO2: "CN", Code: "86"}},
		Industries: []Industry{{ID: "a", Children: []SubIndustry{{ID: "a1"}}}, {ID: "b", Children: []SubIndustry{{ID: "b1"}}}},
	}
	tests := []struct {
		in   AccountInput
		want map[string]string // field → message
	}{
		{AccountInput{Country: "HK", TradeOne: "a", TradeTwo: "a1"}, nil},
		{AccountInput{Country: "CN", TradeOne: "a", TradeTwo: "b1"}, map[string]string{
			"country": "apierror.InvalidParameterValue.UnSupportArea", "trade_two": "apierror.FailedOperation.TradeInfoIncorrect"}},
		{AccountInput{Country: "", TradeOne: "", TradeTwo: ""}, map[string]string{
			"country": "onboarding.country_required", "trade_one": "onboarding.trade_one_required"}},
		{AccountInput{Country: "ZZ", TradeOne: "z", TradeTwo: "a1"}, map[string]string{
			"country": "onboarding.country_invalid", "trade_one": "onboarding.trade_one_invalid"}},
		{AccountInput{Country: "HK", TradeOne: "a"}, map[string]string{"trade_two": "onboarding.trade_two_required"}},
	}
	for _, tt := range tests {
		var w struct{ CountryCode, Area string }
		intent, _ := checkAccount(AccountInput{})
		err := checkChoices(ref, tt.in, &intent)
		fields := apperr.Fields(err)
		if len(fields) != len(tt.want) {
			t.Errorf("%+v: errors %v, want %v", tt.in, err, tt.want)
		}
		for f, msg := range tt.want {
			if fields[f] == nil || fields[f].MessageID != msg {
				t.Errorf("%+v: %s is %v, want %s", tt.in, f, fields[f], msg)
			}
		}
		w.CountryCode, w.Area = intent.CountryCode, intent.Area
		if tt.want == nil && (w.CountryCode != "852" || w.Area != "HK") {
			t.Errorf("%+v: region %+v", tt.in, w)
		}
	}
}

func TestCodeBookIsSafeAndBounded(t *testing.T) {
	b := newCodeBook()
	now := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				key := phoneKey("852", strings.Repeat("1", j%5+1))
				b.record(key, uint64(i%2), CodeSent{To: key, SentAt: now, NextAt: now.Add(CodeInterval)})
				b.last(key)
				b.sentFor(key, 1)
			}
		})
	}
	wg.Wait()
	if !b.sentFor(phoneKey("852", "1"), 0) || !b.sentFor(phoneKey("852", "1"), 1) || b.sentFor(phoneKey("852", "1"), 2) {
		t.Error("the partners who asked are not remembered")
	}
	for i := range maxCodeRecords + 10 {
		key := phoneKey("65", strconv.Itoa(i))
		b.record(key, 0, CodeSent{SentAt: now, NextAt: now})
	}
	if len(b.sent) > maxCodeRecords {
		t.Errorf("%d records kept, at most %d", len(b.sent), maxCodeRecords)
	}
}

func TestRefusalsBesideTheirField(t *testing.T) {
	for code, want := range map[string]string{
		"FailedOperation.MailIsRegistered":        "email",
		"FailedOperation.PhoneBindUpper":          "phone",
		"FailedOperation.VerificationCodeIllegal": "verify_code",
		"InvalidParameterValue.UnSupportArea":     "country",
		"FailedOperation.TradeInfoIncorrect":      "trade_two",
		"InternalError":                           "",
	} {
		err := accountRefusal(store.JobItem{Code: code, RequestId: "r"})
		var apiErr *partnerapi.APIError
		if field(err) != want || !errors.As(err, &apiErr) || apiErr.Action != partnerapi.ActionCreateAccount || apiErr.RequestId != "r" {
			t.Errorf("%s: %v, want beside %q with the API's answer", code, err, want)
		}
	}
	if field(accountRefusal(store.JobItem{Code: "portal.SecretsGone"})) != "password" {
		t.Error("secrets gone is not beside the password")
	}
	if field(inviteRefusal(store.JobItem{Code: "UnauthorizedOperation.UinNoAuth"}, RoleSubAgent)) != "role" ||
		field(inviteRefusal(store.JobItem{Code: "UnauthorizedOperation.UinNoAuth"}, RoleClient)) != "" ||
		field(inviteRefusal(store.JobItem{Code: "FailedOperation.SendMailLimit180"}, RoleClient)) != "email" {
		t.Error("invitation refusals are not beside their field")
	}
	for code, want := range map[string]string{
		"FailedOperation.SendVerifyCodeLimit60":        "phone",
		"InvalidParameter.CountryCodeContentIncorrect": "country",
		"InternalError": "",
	} {
		if got := codeField(code); got != want {
			t.Errorf("SendVerifyCode %s: beside %q, want %q", code, got, want)
		}
	}
}
