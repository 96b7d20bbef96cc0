package sandbox

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

func TestApproveClientApply(t *testing.T) {
	f := newFixture(t, 31)
	pending := f.w.pendingFor(f.dist.Uin)
	pass, reject := pending[0].uin, pending[1].uin
	call[partnerapi.ApproveClientApplyResponse](t, f, f.dist, "ApproveClientApply", map[string]any{"ClientUin": pass, "ApproveType": "pass"})
	call[partnerapi.ApproveClientApplyResponse](t, f, f.dist, "ApproveClientApply", map[string]any{"ClientUin": reject, "ApproveType": "reject", "RejectReason": "duplicate account"})

	list := call[partnerapi.QueryPendingClientsV2Response](t, f, f.dist, "QueryPendingClientsV2", map[string]any{"Page": 1, "PageSize": 100})
	if list.Total != int64(len(pending)-2) {
		t.Errorf("pending Total = %d, want %d", list.Total, len(pending)-2)
	}
	for _, a := range list.Data {
		if a.ClientUin == pass || a.ClientUin == reject {
			t.Errorf("%d is still pending", a.ClientUin)
		}
	}
	cust := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": "ClientUin", "Filter": strconv.FormatUint(pass, 10)})
	if len(cust.Data) != 1 || cust.Data[0].AssociationTime != apiTime(f.clock.t) {
		t.Errorf("approved customer: %+v", cust.Data)
	}
	if len(call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": "ClientUin", "Filter": strconv.FormatUint(reject, 10)}).Data) != 0 {
		t.Error("a rejected applicant became a customer")
	}

	tests := []struct {
		name string
		req  map[string]any
		want string
	}{
		{"not pending any more", map[string]any{"ClientUin": pass, "ApproveType": "pass"}, "FailedOperation.ClientNotApply"},
		{"never applied", map[string]any{"ClientUin": 800000000001, "ApproveType": "reject", "RejectReason": "x"}, "FailedOperation.ClientNotApply"},
		{"another partner's applicant", map[string]any{"ClientUin": f.w.pendingFor(f.sub.Uin)[0].uin, "ApproveType": "pass"}, "FailedOperation.ClientNotApply"},
		{"unknown approve type", map[string]any{"ClientUin": pending[2].uin, "ApproveType": "maybe"}, "InvalidParameterValue"},
		{"reject without reason", map[string]any{"ClientUin": pending[2].uin, "ApproveType": "reject"}, "MissingParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code := callCode(t, f, f.dist, "ApproveClientApply", tc.req); code != tc.want {
				t.Errorf("code = %s, want %s", code, tc.want)
			}
		})
	}
}

func TestApproveSubAgentApply(t *testing.T) {
	f := newFixture(t, 32)
	pass, reject := f.w.pendingSubAgents[0].uin, f.w.pendingSubAgents[1].uin
	call[partnerapi.ApproveSubAgentApplyResponse](t, f, f.dist, "ApproveSubAgentApply", map[string]any{"SubAgentUin": pass, "ApproveType": "pass"})
	call[partnerapi.ApproveSubAgentApplyResponse](t, f, f.dist, "ApproveSubAgentApply", map[string]any{"SubAgentUin": reject, "ApproveType": "reject", "RejectReason": "no business licence"})
	agents := call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 100})
	if agents.Total != subAgentCount+1 || agents.Data[0].SubAgentUin != int64(pass) || agents.Data[0].BindTime != apiTime(f.clock.t) {
		t.Errorf("after approval: Total %d, newest %+v", agents.Total, agents.Data[0])
	}
	pending := call[partnerapi.QueryPendingSubAgentsV2Response](t, f, f.dist, "QueryPendingSubAgentsV2", map[string]any{"Page": 1, "PageSize": 100})
	if pending.Total != 2 {
		t.Errorf("pending Total = %d, want 2", pending.Total)
	}
	for _, uin := range []uint64{pass, reject} {
		if code := callCode(t, f, f.dist, "ApproveSubAgentApply", map[string]any{"SubAgentUin": uin, "ApproveType": "pass"}); code != "FailedOperation.ResellerNotApply" {
			t.Errorf("%d again: %s", uin, code)
		}
	}
	if code := callCode(t, f, f.dist, "ApproveSubAgentApply", map[string]any{"SubAgentUin": f.w.pendingSubAgents[0].uin, "ApproveType": "accept"}); code != "InvalidParameterValue" {
		t.Errorf("unknown approve type: %s", code)
	}
}

func TestSendVerifyCodeAndCreateAccount(t *testing.T) {
	f := newFixture(t, 33)
	const cc, phone = "852", "61234567"
	code := f.sendCode(cc, phone)
	msg := f.w.Outbox()[len(f.w.Outbox())-1]
	if msg.Kind != "sms" || msg.To != "+852 61234567" || len(code) != 6 || msg.Time != f.clock.t.UTC().Format(time.RFC3339) {
		t.Fatalf("outbox message %+v", msg)
	}
	if got := callCode(t, f, f.dist, "SendVerifyCode", map[string]any{"CountryCode": cc, "PhoneNum": phone}); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Errorf("second code within 60 s: %s", got)
	}
	for _, refused := range []string{"7", "380", "86"} {
		if got := callCode(t, f, f.dist, "SendVerifyCode", map[string]any{"CountryCode": refused, "PhoneNum": "9123456"}); got != "InvalidParameterValue.UnSupportArea" {
			t.Errorf("country code %s: %s", refused, got)
		}
	}

	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	base := createAccountReq("first@example.com", cc, phone, code)
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for key, val := range base {
			m[key] = val
		}
		m[k] = v
		return m
	}
	existing := f.w.customers[f.direct[0].Uin].email
	tests := []struct {
		name string
		req  map[string]any
		want string
	}{
		{"account type", with("AccountType", "business"), "InvalidParameter.AccountTypeContentIncorrect"},
		{"mail format", with("Mail", "not-a-mail"), "InvalidParameter.MailFormatIncorrect"},
		{"short password", with("Password", "Ab1!"), "InvalidParameter.PasswordFormatIncorrect"},
		{"password without symbol", map[string]any{"AccountType": "company", "Mail": "a@b.com", "Password": "Abcdefg123", "ConfirmPassword": "Abcdefg123"}, "InvalidParameter.PasswordContentIncorrect"},
		{"confirm password", with("ConfirmPassword", "Other%2745!"), "InvalidParameter.ConfirmPasswordContentIncorrect"},
		{"area mismatch", with("Area", "SG"), "InvalidParameter.AreaContentIncorrect"},
		{"unknown country code", with("CountryCode", "999"), "InvalidParameter.CountryCodeContentIncorrect"},
		{"refused country code", with("CountryCode", "86"), "InvalidParameterValue.UnSupportArea"},
		{"trades mismatch", with("TradeTwo", "kghy_0201"), "FailedOperation.TradeInfoIncorrect"},
		{"wrong code", with("VerifyCode", wrong), "FailedOperation.VerificationCodeIllegal"},
		{"mail registered", with("Mail", existing), "FailedOperation.MailIsRegistered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := callCode(t, f, f.dist, "CreateAccount", tc.req); got != tc.want {
				t.Errorf("code = %s, want %s", got, tc.want)
			}
		})
	}

	created := call[partnerapi.CreateAccountResponse](t, f, f.sub, "CreateAccount", base)
	uin, err := strconv.ParseUint(created.Uin, 10, 64)
	if err != nil {
		t.Fatalf("Uin %q", created.Uin)
	}
	info := call[partnerapi.QueryCustomersCreditResponse](t, f, f.sub, "QueryCustomersCredit", map[string]any{"FilterType": "ClientUin", "Filter": created.Uin})
	if len(info.Data) != 1 || info.Data[0].Email != "fir*********@example.com" || info.Data[0].ClientUin != uin {
		t.Errorf("created customer not listed: %+v", info.Data)
	}
	if got := callCode(t, f, f.sub, "CreateAccount", with("Mail", "second@example.com")); got != "FailedOperation.VerificationCodeIllegal" {
		t.Errorf("reusing a used code: %s", got)
	}

	// Four more accounts fill the phone; the sixth is refused.
	for i := 2; i <= 6; i++ {
		f.clock.Advance(61 * time.Second)
		code := f.sendCode(cc, phone)
		req := createAccountReq("user"+strconv.Itoa(i)+"@example.com", cc, phone, code)
		if i <= 5 {
			call[partnerapi.CreateAccountResponse](t, f, f.dist, "CreateAccount", req)
			continue
		}
		if got := callCode(t, f, f.dist, "CreateAccount", req); got != "FailedOperation.PhoneBindUpper" {
			t.Errorf("sixth account: %s", got)
		}
	}
	if !strings.Contains(f.w.Outbox()[len(f.w.Outbox())-1].To, phone) {
		t.Error("the latest code is not in the outbox")
	}
}

func TestInvitationMail(t *testing.T) {
	f := newFixture(t, 34)
	resp := call[partnerapi.CreateAndSendClientInvitationMailResponse](t, f, f.dist, "CreateAndSendClientInvitationMail", map[string]any{"Email": "buyer@example.com"})
	token := strings.TrimPrefix(resp.InvitationLink, invitationURL)
	if token == resp.InvitationLink || len(token) != 32 {
		t.Fatalf("link %q", resp.InvitationLink)
	}
	msg := f.w.Outbox()[len(f.w.Outbox())-1]
	if msg.Kind != "mail" || msg.To != "buyer@example.com" || msg.Link != resp.InvitationLink || msg.Token != token {
		t.Errorf("outbox %+v", msg)
	}
	if got := callCode(t, f, f.dist, "CreateAndSendClientInvitationMail", map[string]any{"Email": "buyer@example.com"}); got != "FailedOperation.SendMailLimit180" {
		t.Errorf("second mail within 180 s: %s", got)
	}
	f.clock.Advance(181 * time.Second)
	again := call[partnerapi.CreateAndSendClientInvitationMailResponse](t, f, f.dist, "CreateAndSendClientInvitationMail", map[string]any{"Email": "buyer@example.com", "InvitationRole": "SubAgent"})
	token2 := strings.TrimPrefix(again.InvitationLink, invitationURL)

	info := call[partnerapi.QueryInvitationInfoResponse](t, f, f.dist, "QueryInvitationInfo", map[string]any{"InvitationToken": []string{token, "0123456789abcdef0123456789abcdef", token2}})
	if len(info.InvitationInfo) != 2 {
		t.Fatalf("info %+v", info.InvitationInfo)
	}
	if got := info.InvitationInfo[0]; got.InvitationToken != token || got.Status != 1 || got.ClientType != 2 || got.ClientMail != "b**********r@example.com" || got.CreateTime == "" {
		t.Errorf("first invitation %+v", got)
	}
	if got := info.InvitationInfo[1]; got.ClientType != 1 {
		t.Errorf("second-level reseller invitation %+v", got)
	}
	other := call[partnerapi.QueryInvitationInfoResponse](t, f, f.sub, "QueryInvitationInfo", map[string]any{"InvitationToken": []string{token}})
	if len(other.InvitationInfo) != 0 {
		t.Error("another partner sees the distributor's invitation")
	}
}
