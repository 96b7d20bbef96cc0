package partnerapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// world is what the action table needs to know of a sandbox: clients for
// each role and identifiers discovered by reading.
type world struct {
	f                  *fixture
	dist, sub, cust    *partnerapi.Client
	distCred, custCred sandbox.Credential
	subUin             uint64
	direct             uint64 // a direct customer of the distributor
	subCustomer        uint64 // a customer of the second-level reseller
	pendingClient      uint64
	pendingSub         int64
	voucherID          int64 // a voucher of custCred's customer
	ownVoucherID       int64
	inviteToken        string
	verifyPhone        string
	verifyCode         string
	month, date        string
}

func (w *world) clientFor(role string) *partnerapi.Client {
	switch role {
	case "distributor":
		return w.dist
	case "subagent":
		return w.sub
	}
	return w.cust
}

func outbox(t *testing.T, f *fixture) []struct{ Kind, To, Time, Code, Link, Token string } {
	t.Helper()
	resp, err := http.Get(f.ts.URL + "/sandbox/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []struct{ Kind, To, Time, Code, Link, Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func discover(t *testing.T, f *fixture) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{f: f, distCred: f.creds["distributor"][0]}
	w.dist = f.client(t, w.distCred)
	w.sub = f.client(t, f.creds["subagent"][0])
	w.subUin = f.creds["subagent"][0].Uin
	now := time.Now().UTC()
	w.month, w.date = now.Format("2006-01"), now.Format("2006-01-02")
	w.direct = firstCustomer(t, ctx, w.dist).ClientUin
	w.subCustomer = firstCustomer(t, ctx, w.sub).ClientUin

	// A customer with its own key that is a direct customer of the distributor.
	for _, c := range f.creds["customer"] {
		if _, err := w.dist.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{c.Uin}}); err == nil {
			w.custCred = c
			break
		}
	}
	if w.custCred.SecretId == "" {
		t.Fatal("no customer credential belongs to the distributor directly")
	}
	w.cust = f.client(t, w.custCred)

	pc, err := w.dist.QueryPendingClientsV2(ctx, &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 10})
	if err != nil || len(pc.Data) == 0 {
		t.Fatalf("no pending customer application: %v", err)
	}
	w.pendingClient = pc.Data[0].ClientUin
	ps, err := w.dist.QueryPendingSubAgentsV2(ctx, &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 10})
	if err != nil || len(ps.Data) == 0 {
		t.Fatalf("no pending reseller application: %v", err)
	}
	w.pendingSub = ps.Data[0].SubAgentUin

	vl, err := w.dist.DescribeCustomerVoucherList(ctx, &partnerapi.DescribeCustomerVoucherListRequest{Page: 1, PageSize: 10, CustomerUin: int64(w.custCred.Uin)})
	if err != nil || len(vl.Data) == 0 {
		t.Fatalf("no voucher for customer %d: %v", w.custCred.Uin, err)
	}
	w.voucherID = vl.Data[0].VoucherId
	ov, err := w.cust.DescribeCustomerOwnVoucherList(ctx, &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: 10})
	if err != nil || len(ov.Data) == 0 {
		t.Fatalf("the customer sees no voucher of its own: %v", err)
	}
	w.ownVoucherID = ov.Data[0].VoucherId

	inv, err := w.dist.CreateAndSendClientInvitationMail(ctx, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "setup-invite@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range outbox(t, f) {
		if m.Kind == "mail" && m.To == "setup-invite@example.com" {
			w.inviteToken = m.Token
		}
	}
	if w.inviteToken == "" || inv.InvitationLink == "" {
		t.Fatalf("the invitation left no token in the outbox (link %q)", inv.InvitationLink)
	}

	w.verifyPhone = "61234500"
	if _, err := w.dist.SendVerifyCode(ctx, &partnerapi.SendVerifyCodeRequest{CountryCode: "852", PhoneNum: w.verifyPhone}); err != nil {
		t.Fatal(err)
	}
	msgs := outbox(t, f)
	last := msgs[len(msgs)-1]
	if last.Kind != "sms" || len(last.Code) != 6 {
		t.Fatalf("the newest outbox message is %+v, want the SMS code", last)
	}
	w.verifyCode = last.Code
	return w
}

// call is one action call: who calls, with what.
type call struct {
	role string
	req  any // a pointer to the action's generated request type
}

// actionCase is a successful call of one action and a call that the API
// refuses with a documented code.
type actionCase struct {
	ok       call
	fail     call
	wantCode string
}

func (w *world) account(mail, code string) *partnerapi.CreateAccountRequest {
	return &partnerapi.CreateAccountRequest{
		AccountType: "company", Mail: mail, Password: "Sandbox#2026", ConfirmPassword: "Sandbox#2026",
		PhoneNum: w.verifyPhone, CountryCode: "852", Area: "HK", VerifyCode: code,
		TradeOne: "kghy_01", TradeTwo: "kghy_0101", CustomerName: "Example Trading Ltd",
	}
}

func (w *world) cases() map[string]actionCase {
	P := partnerapi.MustAmount
	return map[string]actionCase{
		partnerapi.ActionAllocateCreditPool: {
			ok:       call{"distributor", &partnerapi.AllocateCreditPoolRequest{SubAgentUin: int64(w.subUin), Credit: P("10.5")}},
			fail:     call{"subagent", &partnerapi.AllocateCreditPoolRequest{SubAgentUin: int64(w.subUin), Credit: P("1")}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionAllocateCustomerCredit: {
			ok:       call{"distributor", &partnerapi.AllocateCustomerCreditRequest{ClientUin: w.direct, AddedCredit: P("1.25")}},
			fail:     call{"distributor", &partnerapi.AllocateCustomerCreditRequest{ClientUin: w.subCustomer, AddedCredit: P("1")}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionApproveClientApply: {
			ok:       call{"distributor", &partnerapi.ApproveClientApplyRequest{ClientUin: int64(w.pendingClient), ApproveType: "pass"}},
			fail:     call{"distributor", &partnerapi.ApproveClientApplyRequest{ClientUin: int64(w.direct), ApproveType: "pass"}},
			wantCode: "FailedOperation.ClientNotApply",
		},
		partnerapi.ActionApproveSubAgentApply: {
			ok:       call{"distributor", &partnerapi.ApproveSubAgentApplyRequest{SubAgentUin: w.pendingSub, ApproveType: "reject", RejectReason: "incomplete documents"}},
			fail:     call{"distributor", &partnerapi.ApproveSubAgentApplyRequest{SubAgentUin: int64(w.subUin), ApproveType: "pass"}},
			wantCode: "FailedOperation.ResellerNotApply",
		},
		partnerapi.ActionCreateAccount: {
			ok:       call{"distributor", w.account("new-customer@example.com", w.verifyCode)},
			fail:     call{"distributor", w.account("other-customer@example.com", "000000")},
			wantCode: "FailedOperation.VerificationCodeIllegal",
		},
		partnerapi.ActionCreateAndSendClientInvitationMail: {
			ok:       call{"subagent", &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "invitee@example.com", InvitationRole: "Client"}},
			fail:     call{"distributor", &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "setup-invite@example.com"}},
			wantCode: "FailedOperation.SendMailLimit180",
		},
		partnerapi.ActionDescribeBillDetail: {
			ok:       call{"customer", &partnerapi.DescribeBillDetailRequest{Month: w.month, Page: 1, PageSize: 50}},
			fail:     call{"distributor", &partnerapi.DescribeBillDetailRequest{Month: w.month, Page: 1, PageSize: 50}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeBillDownloadUrl: {
			ok:       call{"customer", &partnerapi.DescribeBillDownloadUrlRequest{Month: w.month, FileType: "L3"}},
			fail:     call{"customer", &partnerapi.DescribeBillDownloadUrlRequest{Month: "2023/01", FileType: "L3"}},
			wantCode: "InvalidParameterValue.InvalidMonth",
		},
		partnerapi.ActionDescribeBillSummary: {
			ok:       call{"customer", &partnerapi.DescribeBillSummaryRequest{Month: w.month, GroupType: "product"}},
			fail:     call{"customer", map[string]any{"Month": w.month}},
			wantCode: "MissingParameter",
		},
		partnerapi.ActionDescribeBillSummaryByPayMode: {
			ok:       call{"distributor", &partnerapi.DescribeBillSummaryByPayModeRequest{BillMonth: w.month, CustomerUin: int64(w.direct)}},
			fail:     call{"distributor", &partnerapi.DescribeBillSummaryByPayModeRequest{BillMonth: "2024-13", CustomerUin: int64(w.direct)}},
			wantCode: "InvalidParameterValue.InvalidMonth",
		},
		partnerapi.ActionDescribeBillSummaryByProduct: {
			ok:       call{"subagent", &partnerapi.DescribeBillSummaryByProductRequest{BillMonth: w.month, CustomerUin: int64(w.subCustomer)}},
			fail:     call{"distributor", &partnerapi.DescribeBillSummaryByProductRequest{BillMonth: w.month, CustomerUin: int64(w.subCustomer)}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionDescribeBillSummaryByRegion: {
			ok:       call{"distributor", &partnerapi.DescribeBillSummaryByRegionRequest{BillMonth: w.month, CustomerUin: int64(w.direct)}},
			fail:     call{"customer", &partnerapi.DescribeBillSummaryByRegionRequest{BillMonth: w.month, CustomerUin: int64(w.direct)}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeCustomerBillDetail: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerBillDetailRequest{CustomerUin: w.custCred.Uin, Month: w.month, Page: 1, PageSize: 200}},
			fail:     call{"distributor", &partnerapi.DescribeCustomerBillDetailRequest{CustomerUin: w.custCred.Uin, Month: w.month, Page: 0, PageSize: 20}},
			wantCode: "InvalidParameter.Page",
		},
		partnerapi.ActionDescribeCustomerBillDetailByDay: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerBillDetailByDayRequest{CustomerUin: int64(w.custCred.Uin), Date: w.date}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerBillDetailByDayRequest{CustomerUin: int64(w.custCred.Uin), Date: w.date}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionDescribeCustomerBillDownloadUrl: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: w.month, FileType: "billDetail", CustomerUinType: "Customer", CustomerUin: int64(w.direct)}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: w.month, FileType: "billDetail", CustomerUinType: "Customer", CustomerUin: int64(w.subCustomer)}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeCustomerBillSummary: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: w.direct, Month: w.month}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: w.direct, Month: w.month}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionDescribeCustomerInfo: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{int64(w.direct)}}},
			fail:     call{"distributor", &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{}}},
			wantCode: "InvalidParameterValue",
		},
		partnerapi.ActionDescribeCustomerOwnCostExplorerFilter: {
			ok:       call{"customer", &partnerapi.DescribeCustomerOwnCostExplorerFilterRequest{StartTime: w.month + "-01 00:00:00", EndTime: w.date + " 23:59:59", PeriodType: "month"}},
			fail:     call{"distributor", &partnerapi.DescribeCustomerOwnCostExplorerFilterRequest{StartTime: w.month + "-01 00:00:00", EndTime: w.date + " 23:59:59", PeriodType: "month"}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeCustomerOwnCostExplorerSummary: {
			ok: call{"customer", &partnerapi.DescribeCustomerOwnCostExplorerSummaryRequest{Dimension: "Business", FeeType: "totalCost", BillType: 1,
				StartTime: w.month + "-01 00:00:00", EndTime: w.date + " 23:59:59", PeriodType: "day", Page: 1, PageSize: 20}},
			fail: call{"customer", &partnerapi.DescribeCustomerOwnCostExplorerSummaryRequest{Dimension: "Galaxy", FeeType: "totalCost", BillType: 1,
				StartTime: w.month + "-01 00:00:00", EndTime: w.date + " 23:59:59", PeriodType: "day", Page: 1, PageSize: 20}},
			wantCode: "InvalidParameterValue.InvalidDimension",
		},
		partnerapi.ActionDescribeCustomerOwnVoucherList: {
			ok:       call{"customer", &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: 20}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: 20}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeCustomerOwnVoucherUsageDetails: {
			ok:       call{"customer", &partnerapi.DescribeCustomerOwnVoucherUsageDetailsRequest{Page: 1, PageSize: 20, VoucherId: w.ownVoucherID}},
			fail:     call{"customer", map[string]any{"Page": 1, "PageSize": 20}},
			wantCode: "MissingParameter",
		},
		partnerapi.ActionDescribeCustomerUin: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerUinRequest{Page: 1, PageSize: 20}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerUinRequest{Page: 1, PageSize: 20}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionDescribeCustomerVoucherList: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerVoucherListRequest{Page: 1, PageSize: 20, CustomerUin: int64(w.custCred.Uin)}},
			fail:     call{"distributor", &partnerapi.DescribeCustomerVoucherListRequest{Page: 1, PageSize: 101}},
			wantCode: "InvalidParameter.Page",
		},
		partnerapi.ActionDescribeCustomerVoucherUsageDetails: {
			ok:       call{"distributor", &partnerapi.DescribeCustomerVoucherUsageDetailsRequest{Page: 1, PageSize: 20, CustomerUin: int64(w.custCred.Uin), VoucherId: w.voucherID}},
			fail:     call{"subagent", &partnerapi.DescribeCustomerVoucherUsageDetailsRequest{Page: 1, PageSize: 20, CustomerUin: int64(w.custCred.Uin), VoucherId: w.voucherID}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionDescribeRebateDownloadUrl: {
			ok:       call{"distributor", &partnerapi.DescribeRebateDownloadUrlRequest{Month: w.month, FileType: "CommissionDetail"}},
			fail:     call{"customer", &partnerapi.DescribeRebateDownloadUrlRequest{Month: w.month, FileType: "CommissionDetail"}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionForceQN: {
			ok:       call{"distributor", &partnerapi.ForceQNRequest{ClientUin: w.direct, Type: 2}},
			fail:     call{"subagent", &partnerapi.ForceQNRequest{ClientUin: w.direct, Type: 2}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionGetCountryCodes: {
			ok:       call{"customer", &partnerapi.GetCountryCodesRequest{}},
			fail:     call{"customer", map[string]any{"Page": 1}},
			wantCode: "UnknownParameter",
		},
		partnerapi.ActionGetTradeConfigList: {
			ok:       call{"subagent", &partnerapi.GetTradeConfigListRequest{}},
			fail:     call{"subagent", map[string]any{"Lang": "en"}},
			wantCode: "UnknownParameter",
		},
		partnerapi.ActionModifyClientRemark: {
			ok:       call{"distributor", &partnerapi.ModifyClientRemarkRequest{ClientUin: strconv.FormatUint(w.direct, 10), Remark: "key account"}},
			fail:     call{"distributor", &partnerapi.ModifyClientRemarkRequest{ClientUin: strconv.FormatUint(w.subCustomer, 10), Remark: "x"}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionQueryAccountVerificationStatus: {
			ok:       call{"distributor", &partnerapi.QueryAccountVerificationStatusRequest{ClientUin: int64(w.direct)}},
			fail:     call{"subagent", &partnerapi.QueryAccountVerificationStatusRequest{ClientUin: int64(w.subCustomer)}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryCreditAllocationHistory: {
			ok:       call{"distributor", &partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: w.direct, Page: 1, PageSize: 20}},
			fail:     call{"subagent", &partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: w.direct, Page: 1, PageSize: 20}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionQueryCreditByUinList: {
			ok:       call{"subagent", &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{w.subCustomer}}},
			fail:     call{"distributor", &partnerapi.QueryCreditByUinListRequest{UinList: make([]uint64, 51)}},
			wantCode: "InvalidParameterValue.UinList",
		},
		partnerapi.ActionQueryCustomerBillingQuota: {
			ok:       call{"customer", &partnerapi.QueryCustomerBillingQuotaRequest{}},
			fail:     call{"distributor", &partnerapi.QueryCustomerBillingQuotaRequest{}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryCustomersCredit: {
			ok:       call{"distributor", &partnerapi.QueryCustomersCreditRequest{FilterType: "ClientUin", Filter: strconv.FormatUint(w.direct, 10), Page: 1, PageSize: 10}},
			fail:     call{"distributor", map[string]any{"Page": "first"}},
			wantCode: "InvalidParameter",
		},
		partnerapi.ActionQueryDirectCustomersCredit: {
			ok:       call{"distributor", &partnerapi.QueryDirectCustomersCreditRequest{}},
			fail:     call{"customer", &partnerapi.QueryDirectCustomersCreditRequest{}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryInvitationInfo: {
			ok:       call{"distributor", &partnerapi.QueryInvitationInfoRequest{InvitationToken: []string{w.inviteToken}}},
			fail:     call{"distributor", &partnerapi.QueryInvitationInfoRequest{}},
			wantCode: "MissingParameter",
		},
		partnerapi.ActionQueryPartnerCredit: {
			ok:       call{"subagent", &partnerapi.QueryPartnerCreditRequest{}},
			fail:     call{"customer", &partnerapi.QueryPartnerCreditRequest{}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryPendingClientsV2: {
			ok:       call{"distributor", &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 100}},
			fail:     call{"distributor", &partnerapi.QueryPendingClientsV2Request{Page: 1, PageSize: 0}},
			wantCode: "InvalidParameter.Page",
		},
		partnerapi.ActionQueryPendingSubAgentsV2: {
			ok:       call{"distributor", &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 100}},
			fail:     call{"subagent", &partnerapi.QueryPendingSubAgentsV2Request{Page: 1, PageSize: 100}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryPolicyProductListByCode: {
			ok:       call{"distributor", &partnerapi.QueryPolicyProductListByCodeRequest{PolicyCode: "StandardPolicy2025", Page: 1, PageSize: 200}},
			fail:     call{"distributor", map[string]any{"Page": 1, "PageSize": 200}},
			wantCode: "MissingParameter",
		},
		partnerapi.ActionQuerySubAgentsDetailV2: {
			ok:       call{"distributor", &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 100, Order: "desc"}},
			fail:     call{"subagent", &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 100}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryT1IndirectCustomersDetail: {
			ok:       call{"distributor", &partnerapi.QueryT1IndirectCustomersDetailRequest{SubAgentUin: int64(w.subUin), Page: 1, PageSize: 20}},
			fail:     call{"subagent", &partnerapi.QueryT1IndirectCustomersDetailRequest{SubAgentUin: int64(w.subUin), Page: 1, PageSize: 20}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionQueryVoucherAmountByUin: {
			ok:       call{"distributor", &partnerapi.QueryVoucherAmountByUinRequest{ClientUins: []uint64{w.custCred.Uin}}},
			fail:     call{"distributor", &partnerapi.QueryVoucherAmountByUinRequest{ClientUins: make([]uint64, 21)}},
			wantCode: "InvalidParameterValue",
		},
		partnerapi.ActionQueryVoucherListByUin: {
			ok:       call{"distributor", &partnerapi.QueryVoucherListByUinRequest{ClientUins: []uint64{w.custCred.Uin}}},
			fail:     call{"subagent", &partnerapi.QueryVoucherListByUinRequest{ClientUins: []uint64{w.custCred.Uin}}},
			wantCode: "UnauthorizedOperation.NotCustomerUin",
		},
		partnerapi.ActionQueryVoucherPool: {
			ok:       call{"distributor", &partnerapi.QueryVoucherPoolRequest{}},
			fail:     call{"customer", &partnerapi.QueryVoucherPoolRequest{}},
			wantCode: "UnauthorizedOperation.UinNoAuth",
		},
		partnerapi.ActionSendVerifyCode: {
			ok:       call{"subagent", &partnerapi.SendVerifyCodeRequest{CountryCode: "65", PhoneNum: "81234567"}},
			fail:     call{"subagent", &partnerapi.SendVerifyCodeRequest{CountryCode: "852", PhoneNum: w.verifyPhone}},
			wantCode: "FailedOperation.SendVerifyCodeLimit60",
		},
	}
}

// invoke calls the client's generated method named after the action, so
// the test exercises exactly what portal code calls.
func invoke(ctx context.Context, c *partnerapi.Client, action string, req any) (any, error) {
	m := reflect.ValueOf(c).MethodByName(action)
	if !m.IsValid() {
		return nil, fmt.Errorf("the client has no method %s", action)
	}
	reqType := m.Type().In(1)
	arg := reflect.ValueOf(req)
	if arg.Type() != reqType {
		// A raw body the typed request cannot express: send it as JSON
		// through a request whose encoding we control.
		return nil, errRawBody
	}
	out := m.Call([]reflect.Value{reflect.ValueOf(ctx), arg})
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return out[0].Interface(), nil
}

var errRawBody = fmt.Errorf("raw body")

func TestEveryActionThroughTheClient(t *testing.T) {
	f := newFixture(t)
	w := discover(t, f)
	cases := w.cases()
	for _, a := range partnerapi.Actions() {
		if _, ok := cases[a.Name]; !ok {
			t.Errorf("no test case for action %s", a.Name)
		}
	}
	for _, a := range partnerapi.Actions() {
		tc, ok := cases[a.Name]
		if !ok {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			ctx := t.Context()
			resp, err := invoke(ctx, w.clientFor(tc.ok.role), a.Name, tc.ok.req)
			if err != nil {
				t.Fatalf("as %s: %v", tc.ok.role, err)
			}
			if id := reflect.ValueOf(resp).Elem().FieldByName("RequestId").String(); id == "" {
				t.Errorf("the answer carries no RequestId")
			}
			var code string
			if _, raw := tc.fail.req.(map[string]any); raw {
				code = partnerapi.ErrorCode(sendRaw(t, f, w, tc.fail.role, a.Name, tc.fail.req))
			} else {
				_, err = invoke(ctx, w.clientFor(tc.fail.role), a.Name, tc.fail.req)
				code = partnerapi.ErrorCode(err)
			}
			if code != tc.wantCode {
				t.Errorf("refusal: got code %q, want %q", code, tc.wantCode)
			}
		})
	}
}
