package sandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"resellerportal/partnerapi"
)

// allowlistCalls makes one call of each action that requires the
// allowlist, with parameters the sandbox accepts up to the allowlist check
// (or answers with a business error that is not UnauthorizedOperation).
var allowlistCalls = map[string]func(ctx context.Context, c *partnerapi.Client) error{
	partnerapi.ActionForceQN: func(ctx context.Context, c *partnerapi.Client) error {
		cust, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
		if err != nil {
			return err
		}
		_, err = c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: cust.Data[0].ClientUin, Type: 0})
		return err
	},
	partnerapi.ActionCreateAccount: func(ctx context.Context, c *partnerapi.Client) error {
		// Without a code sent first this fails with VerificationCodeIllegal
		// once past the allowlist.
		_, err := c.CreateAccount(ctx, &partnerapi.CreateAccountRequest{
			AccountType: "personal", Mail: "allowlist@example.com", Password: "Secret123!", ConfirmPassword: "Secret123!",
			CountryCode: "852", PhoneNum: "61230000", Area: "HK", VerifyCode: "000000", TradeOne: "kghy_01", TradeTwo: "kghy_0101",
		})
		return err
	},
	partnerapi.ActionCreateAndSendClientInvitationMail: func(ctx context.Context, c *partnerapi.Client) error {
		_, err := c.CreateAndSendClientInvitationMail(ctx, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "invitee@example.com"})
		return err
	},
	partnerapi.ActionQueryPendingClientsV2: func(ctx context.Context, c *partnerapi.Client) error {
		_, err := c.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 10})
		return err
	},
	partnerapi.ActionApproveClientApply: func(ctx context.Context, c *partnerapi.Client) error {
		// Nobody applied with this UIN: ClientNotApply once past the allowlist.
		_, err := c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: 1, ApproveType: "reject", RejectReason: "test"})
		return err
	},
}

// TestAllowlistRefusals switches allowlisting by Options, the Go method and
// the control endpoint, and calls every allowlisted action as the
// distributor and as a second-level reseller.
func TestAllowlistRefusals(t *testing.T) {
	if got := slices.Sorted(func(yield func(string) bool) {
		for a := range allowlistCalls {
			if !yield(a) {
				return
			}
		}
	}); !slices.Equal(got, partnerapi.AllowlistedActions()) {
		t.Fatalf("the test covers %v, the allowlisted actions are %v", got, partnerapi.AllowlistedActions())
	}
	type refusals map[string][]string // "distributor"/"subagent" -> refused actions
	tests := []struct {
		name  string
		opts  Options
		setup func(t *testing.T, r *apiRig)
		want  refusals
	}{
		{name: "all granted by default", want: refusals{}},
		{
			name: "option refuses ForceQN and CreateAccount to everyone",
			opts: Options{NotAllowlisted: []string{partnerapi.ActionForceQN, partnerapi.ActionCreateAccount}},
			want: refusals{
				"distributor": {partnerapi.ActionCreateAccount, partnerapi.ActionForceQN},
				"subagent":    {partnerapi.ActionCreateAccount, partnerapi.ActionForceQN},
			},
		},
		{
			name: "Go method refuses one partner one action",
			setup: func(t *testing.T, r *apiRig) {
				if err := r.srv.SetAllowlisted(r.srv.DemoDistributor().Uin, partnerapi.ActionQueryPendingClientsV2, false); err != nil {
					t.Fatal(err)
				}
			},
			want: refusals{"distributor": {partnerapi.ActionQueryPendingClientsV2}},
		},
		{
			name: "Go method refuses all partners, then grants one back",
			setup: func(t *testing.T, r *apiRig) {
				for _, step := range []struct {
					uin     uint64
					allowed bool
				}{{AllPartners, false}, {r.srv.DemoSubAgent().Uin, true}} {
					if err := r.srv.SetAllowlisted(step.uin, partnerapi.ActionApproveClientApply, step.allowed); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: refusals{"distributor": {partnerapi.ActionApproveClientApply}},
		},
		{
			name: "control endpoint refuses the invitation mail to the second-level reseller",
			setup: func(t *testing.T, r *apiRig) {
				body := map[string]any{"PartnerUin": r.srv.DemoSubAgent().Uin, "Action": partnerapi.ActionCreateAndSendClientInvitationMail, "Allowlisted": false}
				var st AllowlistState
				if code := r.control(t, http.MethodPost, "/sandbox/allowlist", body, &st); code != http.StatusOK {
					t.Fatalf("POST /sandbox/allowlist: %d", code)
				}
				want := []AllowlistRefusal{{PartnerUin: r.srv.DemoSubAgent().Uin, Action: partnerapi.ActionCreateAndSendClientInvitationMail}}
				if !slices.Equal(st.NotAllowlisted, want) || len(st.Actions) != 5 {
					t.Errorf("state after POST: %+v", st)
				}
			},
			want: refusals{"subagent": {partnerapi.ActionCreateAndSendClientInvitationMail}},
		},
		{
			name: "control endpoint resets what the option refused",
			opts: Options{NotAllowlisted: partnerapi.AllowlistedActions()},
			setup: func(t *testing.T, r *apiRig) {
				if code := r.control(t, http.MethodDelete, "/sandbox/allowlist", nil, nil); code != http.StatusNoContent {
					t.Fatalf("DELETE /sandbox/allowlist: %d", code)
				}
			},
			want: refusals{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAPIRig(t, tt.opts)
			if tt.setup != nil {
				tt.setup(t, r)
			}
			for role, client := range map[string]*partnerapi.Client{"distributor": r.distributor(t), "subagent": r.subAgent(t)} {
				for action, call := range allowlistCalls {
					err := call(t.Context(), client)
					refused := slices.Contains(tt.want[role], action)
					if got := partnerapi.NotAllowlisted(action, err); got != refused {
						t.Errorf("%s %s: answered %v; refused for the allowlist %t, want %t", role, action, err, got, refused)
					}
					if refused && apiCode(t, err) != "UnauthorizedOperation" {
						t.Errorf("%s %s: code %s, want UnauthorizedOperation", role, action, apiCode(t, err))
					}
				}
			}
		})
	}
}

// TestAllowlistForNewPartners: refusing an action to all partners also
// refuses it to a second-level reseller approved afterwards.
func TestAllowlistForNewPartners(t *testing.T) {
	r := newAPIRig(t, Options{})
	if err := r.srv.SetAllowlisted(AllPartners, partnerapi.ActionForceQN, false); err != nil {
		t.Fatal(err)
	}
	dist := r.distributor(t)
	pending, err := dist.QueryPendingSubAgentsV2(t.Context(), &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	newUin := pending.Data[0].SubAgentUin
	if _, err := dist.ApproveSubAgentApply(t.Context(), &partnerapi.ApproveSubAgentApplyRequest{SubAgentUin: newUin, ApproveType: "pass"}); err != nil {
		t.Fatal(err)
	}
	st := r.srv.Allowlist()
	if !slices.Contains(st.NotAllowlisted, AllowlistRefusal{PartnerUin: uint64(newUin), Action: partnerapi.ActionForceQN}) ||
		!slices.Equal(st.NewPartners, []string{partnerapi.ActionForceQN}) {
		t.Errorf("the reseller approved after the refusal is allowlisted: %+v", st)
	}
}

func TestAllowlistControlErrors(t *testing.T) {
	r := newAPIRig(t, Options{})
	tests := []struct {
		name string
		body any
		want int
	}{
		{"action without allowlist", map[string]any{"Action": partnerapi.ActionQueryPartnerCredit, "Allowlisted": false}, http.StatusBadRequest},
		{"unknown action", map[string]any{"Action": "Nope", "Allowlisted": false}, http.StatusBadRequest},
		{"Allowlisted missing", map[string]any{"Action": partnerapi.ActionForceQN}, http.StatusBadRequest},
		{"misspelt member", map[string]any{"Action": partnerapi.ActionForceQN, "Allowed": false}, http.StatusBadRequest},
		{"unknown partner", map[string]any{"PartnerUin": 1, "Action": partnerapi.ActionForceQN, "Allowlisted": false}, http.StatusNotFound},
		{"a customer is no partner", map[string]any{"PartnerUin": credentialFor(t, r.srv, "customer", 0).Uin, "Action": partnerapi.ActionForceQN, "Allowlisted": false}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.control(t, http.MethodPost, "/sandbox/allowlist", tt.body, nil); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	if err := r.srv.SetAllowlisted(42, partnerapi.ActionForceQN, false); !errors.Is(err, ErrUnknownPartner) {
		t.Errorf("SetAllowlisted for an unknown UIN: %v", err)
	}
	if len(r.srv.Allowlist().NotAllowlisted) != 0 {
		t.Error("a refused change changed the allowlist")
	}
	if _, err := New(Options{NotAllowlisted: []string{partnerapi.ActionQueryPartnerCredit}}); err == nil {
		t.Error("New accepted an action without allowlist in NotAllowlisted")
	}
}
