package sandbox

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// invite sends an invitation mail as the client's partner and returns the
// token the outbox shows for it.
func (r *apiRig) invite(t *testing.T, c *partnerapi.Client, mail, role string) string {
	t.Helper()
	resp, err := c.CreateAndSendClientInvitationMail(t.Context(), &partnerapi.CreateAndSendClientInvitationMailRequest{Email: mail, InvitationRole: role})
	if err != nil {
		t.Fatalf("invite %s: %v", mail, err)
	}
	msg := r.lastMessage(t, mail)
	if msg.Kind != "mail" || msg.Link != resp.InvitationLink || msg.Token == "" {
		t.Fatalf("outbox message %+v for the link %s", msg, resp.InvitationLink)
	}
	return msg.Token
}

// invitationInfo returns QueryInvitationInfo's entry for a token, or false.
func invitationInfo(t *testing.T, c *partnerapi.Client, token string) (partnerapi.QueryInvitationInfoData, bool) {
	t.Helper()
	resp, err := c.QueryInvitationInfo(t.Context(), &partnerapi.QueryInvitationInfoRequest{InvitationToken: []string{token}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.InvitationInfo {
		if d.InvitationToken == token {
			return d, true
		}
	}
	return partnerapi.QueryInvitationInfoData{}, false
}

// TestInvitationToBoundCustomer drives the whole path through the client:
// invitation mail, acceptance by the invited customer (through the control
// endpoint or the Go method), the pending application, approval, and the
// bound customer in the partner's reads.
func TestInvitationToBoundCustomer(t *testing.T) {
	tests := []struct {
		name    string
		partner func(s *Server) DemoPartner
		accept  func(t *testing.T, r *apiRig, token string) uint64
	}{
		{"distributor, accepted through the control endpoint", (*Server).DemoDistributor, acceptOverHTTP},
		{"second-level reseller, accepted through the Go method", (*Server).DemoSubAgent, acceptInGo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAPIRig(t, Options{})
			p := tt.partner(r.srv)
			c := r.client(t, p.Credential)
			ctx := t.Context()

			token := r.invite(t, c, "new.buyer@example.com", "")
			info, ok := invitationInfo(t, c, token)
			if !ok || info.Status != 1 || info.UseTime != "" || info.ClientUin != 0 || info.ClientType != 2 {
				t.Fatalf("fresh invitation: %+v", info)
			}

			r.clock.Advance(2 * time.Hour)
			uin := tt.accept(t, r, token)
			info, _ = invitationInfo(t, c, token)
			if info.Status != 2 || info.UseTime != apiTime(r.clock.Now()) || info.ClientUin != int64(uin) || info.BindTime != "" {
				t.Errorf("accepted invitation: %+v", info)
			}
			pending, err := c.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			var applied *partnerapi.QueryPendingCustomersItem
			for i := range pending.Data {
				if pending.Data[i].ClientUin == uin {
					applied = &pending.Data[i]
				}
			}
			if applied == nil || applied.Email != "new.buyer@example.com" || applied.Status != "Reviewing" || applied.ApplyTime != apiTime(r.clock.Now()) {
				t.Fatalf("the application is not pending as it should be: %+v", applied)
			}

			r.clock.Advance(time.Hour)
			if _, err := c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: int64(uin), ApproveType: "pass"}); err != nil {
				t.Fatalf("approve: %v", err)
			}
			bound := apiTime(r.clock.Now())
			info, _ = invitationInfo(t, c, token)
			if info.Status != 2 || info.BindTime != bound {
				t.Errorf("invitation after approval: %+v", info)
			}
			credit, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{FilterType: "ClientUin", Filter: strconv.FormatUint(uin, 10), Page: 1, PageSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(credit.Data) != 1 || credit.Data[0].AssociationTime != bound || credit.Data[0].Email != "new.*********@example.com" {
				t.Errorf("bound customer in QueryCustomersCredit: %+v", credit.Data)
			}
			if _, err := r.srv.AcceptInvitation(token, ""); !errors.Is(err, ErrInvitationUsed) {
				t.Errorf("accepting a used invitation: %v", err)
			}
			byUin, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{uin}})
			if err != nil || len(byUin.Data) != 1 {
				t.Errorf("bound customer in QueryCreditByUinList: %+v, %v", byUin, err)
			}
			if p.Uin != r.srv.DemoDistributor().Uin {
				return // DescribeCustomerInfo and DescribeCustomerUin are the distributor's
			}
			details, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{int64(uin)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(details.Data) != 1 || details.Data[0].Email != "new.buyer@example.com" || details.Data[0].BindTime != bound {
				t.Errorf("bound customer in DescribeCustomerInfo: %+v", details.Data)
			}
			uins, err := c.DescribeCustomerUin(ctx, &partnerapi.DescribeCustomerUinRequest{Page: 1, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if last := uins.Data[len(uins.Data)-1]; last.CustomerUin != strconv.FormatUint(uin, 10) {
				t.Errorf("DescribeCustomerUin ends with %s, want the new customer %d", last.CustomerUin, uin)
			}
		})
	}
}

func acceptOverHTTP(t *testing.T, r *apiRig, token string) uint64 {
	t.Helper()
	var ans acceptAnswer
	if st := r.control(t, http.MethodPost, "/sandbox/invitations/"+token+"/accept", nil, &ans); st != http.StatusOK {
		t.Fatalf("accept: status %d", st)
	}
	if ans.ClientUin == 0 || ans.InvitationToken != token {
		t.Fatalf("accept answered %+v", ans)
	}
	return ans.ClientUin
}

func acceptInGo(t *testing.T, r *apiRig, token string) uint64 {
	t.Helper()
	uin, err := r.srv.AcceptInvitation(token, "")
	if err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	return uin
}

// TestInvitationRefusedBinding accepts invitations as customers Tencent
// Cloud will not bind: approving answers the documented code and the
// application stays pending until the partner rejects it.
func TestInvitationRefusedBinding(t *testing.T) {
	for _, code := range []string{"FailedOperation.ClientBuySP", "InvalidParameterValue.UinAlreadyClient"} {
		t.Run(code, func(t *testing.T) {
			r := newAPIRig(t, Options{})
			c := r.distributor(t)
			ctx := t.Context()
			token := r.invite(t, c, "sp.buyer@example.com", "Client")
			var ans acceptAnswer
			if st := r.control(t, http.MethodPost, "/sandbox/invitations/"+token+"/accept", map[string]string{"Refuse": code}, &ans); st != http.StatusOK {
				t.Fatalf("accept: status %d", st)
			}
			uin := int64(ans.ClientUin)
			_, err := c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: uin, ApproveType: "pass"})
			if apiCode(t, err) != code {
				t.Fatalf("approving answered %v, want %s", err, code)
			}
			if _, err := c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: uin, ApproveType: "reject", RejectReason: "bought a savings plan"}); err != nil {
				t.Fatalf("reject: %v", err)
			}
			_, err = c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: uin, ApproveType: "pass"})
			if apiCode(t, err) != "FailedOperation.ClientNotApply" {
				t.Errorf("after rejection: %v", err)
			}
			if info, _ := invitationInfo(t, c, token); info.Status != 2 || info.BindTime != "" {
				t.Errorf("rejected invitation: %+v", info)
			}
		})
	}
}

// TestInvitationToSubAgent: an accepted second-level reseller invitation is
// a pending reseller application; approval makes it a reseller.
func TestInvitationToSubAgent(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	ctx := t.Context()
	token := r.invite(t, c, "partner@reseller.example", "SubAgent")
	if _, err := r.srv.AcceptInvitation(token, "FailedOperation.ClientBuySP"); !errors.Is(err, ErrNotBindingRefusal) {
		t.Errorf("a customer binding error for a reseller invitation: %v", err)
	}
	uin := acceptInGo(t, r, token)
	pending, err := c.QueryPendingSubAgentsV2(ctx, &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range pending.Data {
		found = found || (a.SubAgentUin == int64(uin) && a.Email == "partner@reseller.example")
	}
	if !found {
		t.Fatalf("the reseller application %d is not pending: %+v", uin, pending.Data)
	}
	if _, err := c.ApproveSubAgentApply(ctx, &partnerapi.ApproveSubAgentApplyRequest{SubAgentUin: int64(uin), ApproveType: "pass"}); err != nil {
		t.Fatal(err)
	}
	agents, err := c.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 10, FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10)})
	if err != nil || len(agents.Data) != 1 {
		t.Fatalf("the approved reseller: %+v, %v", agents, err)
	}
	if info, _ := invitationInfo(t, c, token); info.Status != 2 || info.ClientType != 1 || info.BindTime != agents.Data[0].BindTime {
		t.Errorf("reseller invitation after approval: %+v", info)
	}
}

// TestInvitationExpiry moves the World's clock: a link is valid for 30 days
// and deleted after 60.
func TestInvitationExpiry(t *testing.T) {
	tests := []struct {
		name     string
		after    time.Duration
		status   int  // of the accept control
		listed   bool // by QueryInvitationInfo
		accepted bool
	}{
		{"29 days", 29 * day, http.StatusOK, true, true},
		{"exactly 30 days", 30 * day, http.StatusOK, true, true},
		{"30 days and a second", 30*day + time.Second, http.StatusGone, true, false},
		{"59 days", 59 * day, http.StatusGone, true, false},
		{"60 days and a second", 60*day + time.Second, http.StatusNotFound, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAPIRig(t, Options{})
			c := r.distributor(t)
			token := r.invite(t, c, "late@example.com", "")
			r.clock.Advance(tt.after)
			if st := r.control(t, http.MethodPost, "/sandbox/invitations/"+token+"/accept", nil, nil); st != tt.status {
				t.Errorf("accept after %s: status %d, want %d", tt.name, st, tt.status)
			}
			info, listed := invitationInfo(t, c, token)
			if listed != tt.listed {
				t.Errorf("QueryInvitationInfo lists it: %t, want %t", listed, tt.listed)
			}
			if listed && (info.Status == 2) != tt.accepted {
				t.Errorf("status %d after %s", info.Status, tt.name)
			}
		})
	}
}

func TestAcceptInvitationErrors(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	token := r.invite(t, c, "errors@example.com", "")
	tests := []struct {
		name  string
		token string
		body  any
		want  int
	}{
		{"unknown token", "0123456789abcdef0123456789abcdef", nil, http.StatusNotFound},
		{"undocumented refusal", token, map[string]string{"Refuse": "FailedOperation.SomethingElse"}, http.StatusBadRequest},
		{"a documented code that is not about binding", token, map[string]string{"Refuse": "InternalError"}, http.StatusBadRequest},
		{"misspelt member", token, map[string]string{"Refused": "FailedOperation.ClientBuySP"}, http.StatusBadRequest},
		{"accepted", token, map[string]string{}, http.StatusOK},
		{"accepted twice", token, nil, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := r.control(t, http.MethodPost, "/sandbox/invitations/"+tt.token+"/accept", tt.body, nil); st != tt.want {
				t.Errorf("status %d, want %d", st, tt.want)
			}
		})
	}
	for _, code := range BindingRefusals() {
		if errorMeaning(code) == "" {
			t.Errorf("binding refusal %s is not in the error list", code)
		}
	}
}
