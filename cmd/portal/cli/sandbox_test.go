package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"resellerportal/internal/runtest"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

func TestParseNotAllowlisted(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"ForceQN", []string{"ForceQN"}, ""},
		{" ForceQN , CreateAccount,ForceQN,", []string{"ForceQN", "CreateAccount"}, ""},
		{"ForceQN,QueryPartnerCredit", nil, `"QueryPartnerCredit" is not an action that requires the allowlist`},
		{"forceqn", nil, `"forceqn" is not an action`},
		{"Nope", nil, "ApproveClientApply, CreateAccount, CreateAndSendClientInvitationMail, ForceQN, QueryPendingClientsV2"},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			got, err := parseNotAllowlisted(tt.list)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case !slices.Equal(got, tt.want):
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSandboxCommandRefusesBadAllowlistFlag(t *testing.T) {
	for _, value := range []string{"Nope", "QueryPartnerCredit", "ForceQN,DescribeBillDetail"} {
		t.Run(value, func(t *testing.T) {
			err := Run(t.Context(), []string{"sandbox", "--addr", "127.0.0.1:0", "--not-allowlisted", value}, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--not-allowlisted") {
				t.Fatalf("`portal sandbox --not-allowlisted %s` answered %v, want a flag error", value, err)
			}
		})
	}
}

// TestSandboxCommandNotAllowlisted starts `portal sandbox --not-allowlisted`
// and calls it through the client: the named actions are refused for want
// of the allowlist, the others are not, and the control shows the refusals.
func TestSandboxCommandNotAllowlisted(t *testing.T) {
	ctx := t.Context()
	cmd := runtest.Start(t, Run, []string{"sandbox", "--addr", "127.0.0.1:0", "--seed", "9", "--customers", "10",
		"--not-allowlisted", "ForceQN, QueryPendingClientsV2"}, noEnv, "No partner is allowlisted for")
	var endpoint string
	for _, line := range cmd.Lines {
		if rest, ok := strings.CutPrefix(line, "endpoint: "); ok && endpoint == "" {
			endpoint = rest
		}
	}
	if endpoint == "" {
		t.Fatalf("the sandbox printed no endpoint:\n%s", strings.Join(cmd.Lines, "\n"))
	}
	if !strings.Contains(cmd.Ready, "ForceQN, QueryPendingClientsV2") {
		t.Errorf("the refused actions are not printed: %q", cmd.Ready)
	}

	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(endpoint + "/sandbox/credentials")
	if err != nil {
		t.Fatal(err)
	}
	var creds []sandbox.Credential
	err = json.NewDecoder(resp.Body).Decode(&creds)
	resp.Body.Close()
	if err != nil || len(creds) == 0 || creds[0].Role != "distributor" {
		t.Fatalf("credentials: %+v, %v", creds, err)
	}
	c, err := partnerapi.New(partnerapi.Config{
		Credential:      partnerapi.Credential{SecretId: creds[0].SecretId, SecretKey: creds[0].SecretKey},
		Endpoint:        strings.TrimPrefix(endpoint, "http://"),
		Scheme:          "http",
		MaxReadAttempts: 1,
		AttemptTimeout:  10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	cust, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		action  string
		call    func() error
		refused bool
	}{
		{partnerapi.ActionForceQN, func() error {
			_, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: cust.Data[0].ClientUin, Type: 2})
			return err
		}, true},
		{partnerapi.ActionQueryPendingClientsV2, func() error {
			_, err := c.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 10})
			return err
		}, true},
		{partnerapi.ActionCreateAndSendClientInvitationMail, func() error {
			_, err := c.CreateAndSendClientInvitationMail(ctx, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "cli@example.com"})
			return err
		}, false},
	}
	for _, tc := range calls {
		err := tc.call()
		if got := partnerapi.NotAllowlisted(tc.action, err); got != tc.refused {
			t.Errorf("%s answered %v: refused for the allowlist %t, want %t", tc.action, err, got, tc.refused)
		}
		if !tc.refused && err != nil {
			t.Errorf("%s: %v", tc.action, err)
		}
	}

	resp, err = hc.Get(endpoint + "/sandbox/allowlist")
	if err != nil {
		t.Fatal(err)
	}
	var st sandbox.AllowlistState
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || !slices.Equal(st.NewPartners, []string{partnerapi.ActionForceQN, partnerapi.ActionQueryPendingClientsV2}) ||
		!slices.Contains(st.NotAllowlisted, sandbox.AllowlistRefusal{PartnerUin: creds[0].Uin, Action: partnerapi.ActionForceQN}) {
		t.Errorf("GET /sandbox/allowlist: %+v, %v", st, err)
	}

	if err := cmd.Stop(); err != nil {
		t.Fatalf("the sandbox did not shut down cleanly: %v", err)
	}
}
