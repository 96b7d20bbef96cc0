package partnerapi_test

import (
	"errors"
	"fmt"
	"testing"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

func TestRequiresAllowlist(t *testing.T) {
	want := map[string]bool{
		partnerapi.ActionForceQN:                           true,
		partnerapi.ActionCreateAccount:                     true,
		partnerapi.ActionCreateAndSendClientInvitationMail: true,
		partnerapi.ActionQueryPendingClientsV2:             true,
		partnerapi.ActionApproveClientApply:                true,
	}
	for _, a := range partnerapi.Actions() {
		if got := partnerapi.RequiresAllowlist(a.Name); got != want[a.Name] {
			t.Errorf("RequiresAllowlist(%s) = %t, want %t", a.Name, got, want[a.Name])
		}
	}
	if partnerapi.RequiresAllowlist("NoSuchAction") {
		t.Error("an unknown action requires the allowlist")
	}
	if got := partnerapi.AllowlistedActions(); len(got) != len(want) {
		t.Errorf("AllowlistedActions() = %v", got)
	}
}

func TestNotAllowlisted(t *testing.T) {
	refusal := func(action, code string) error {
		return fmt.Errorf("apply write: %w", &partnerapi.APIError{Action: action, Code: code, Message: "m", RequestId: "r"})
	}
	tests := []struct {
		name   string
		action string
		err    error
		want   bool
	}{
		{"refusal of an allowlisted action", partnerapi.ActionForceQN, refusal(partnerapi.ActionForceQN, "UnauthorizedOperation"), true},
		{"action not named in the error", partnerapi.ActionCreateAccount, &partnerapi.APIError{Code: "UnauthorizedOperation"}, true},
		{"sub-code means something else", partnerapi.ActionForceQN, refusal(partnerapi.ActionForceQN, "UnauthorizedOperation.NotCustomerUin"), false},
		{"role refusal", partnerapi.ActionApproveClientApply, refusal(partnerapi.ActionApproveClientApply, "UnauthorizedOperation.UinNoAuth"), false},
		{"action without allowlist", partnerapi.ActionQueryPartnerCredit, refusal(partnerapi.ActionQueryPartnerCredit, "UnauthorizedOperation"), false},
		{"error of another action", partnerapi.ActionForceQN, refusal(partnerapi.ActionCreateAccount, "UnauthorizedOperation"), false},
		{"other code", partnerapi.ActionForceQN, refusal(partnerapi.ActionForceQN, "InternalError"), false},
		{"not an API error", partnerapi.ActionForceQN, errors.New("UnauthorizedOperation"), false},
		{"nil", partnerapi.ActionForceQN, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partnerapi.NotAllowlisted(tt.action, tt.err); got != tt.want {
				t.Errorf("NotAllowlisted(%s, %v) = %t, want %t", tt.action, tt.err, got, tt.want)
			}
		})
	}
}

// TestNotAllowlistedAgainstTheSandbox recognises the sandbox's refusal, as
// the client returns it, for every allowlisted action the sandbox refuses.
func TestNotAllowlistedAgainstTheSandbox(t *testing.T) {
	f := newFixture(t)
	for _, action := range partnerapi.AllowlistedActions() {
		if err := f.srv.SetAllowlisted(sandbox.AllPartners, action, false); err != nil {
			t.Fatal(err)
		}
	}
	dist := f.distributor(t)
	ctx := t.Context()
	cust := firstCustomer(t, ctx, dist)
	calls := []struct {
		action string
		call   func() error
	}{
		{partnerapi.ActionForceQN, func() error {
			_, err := dist.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: cust.ClientUin, Type: 2})
			return err
		}},
		{partnerapi.ActionQueryPendingClientsV2, func() error {
			_, err := dist.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 10})
			return err
		}},
		{partnerapi.ActionCreateAndSendClientInvitationMail, func() error {
			_, err := dist.CreateAndSendClientInvitationMail(ctx, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "someone@example.com"})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.action, func(t *testing.T) {
			err := c.call()
			if !partnerapi.NotAllowlisted(c.action, err) {
				t.Fatalf("%s answered %v, not recognised as a missing allowlist", c.action, err)
			}
		})
	}
	// A call the allowlist does not concern still works.
	if _, err := dist.QueryPartnerCredit(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
