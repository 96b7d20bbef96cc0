package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"resellerportal/partnerapi"
)

// conform checks a decoded JSON value against an object of the API
// definition: known members only, required members present, kinds and
// lists right, null only where nullable.
func conform(path, object string, v any) []string {
	members, ok := partnerapi.ObjectMembers(object)
	if !ok {
		return []string{path + ": unknown object " + object}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %T is not an object", path, v)}
	}
	var problems []string
	known := map[string]bool{}
	for _, m := range members {
		known[m.Name] = true
		val, present := obj[m.Name]
		p := path + "." + m.Name
		switch {
		case !present:
			if m.Required && m.Name != "RequestId" {
				problems = append(problems, p+": required member missing")
			}
			continue
		case val == nil:
			if !m.Nullable {
				problems = append(problems, p+": null but not nullable")
			}
			continue
		}
		if m.List {
			list, ok := val.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %T is not a list", p, val))
				continue
			}
			for i, item := range list {
				problems = append(problems, conformKind(fmt.Sprintf("%s[%d]", p, i), m, item)...)
			}
			continue
		}
		problems = append(problems, conformKind(p, m, val)...)
	}
	for name := range obj {
		if !known[name] {
			problems = append(problems, path+"."+name+": not in the definition")
		}
	}
	return problems
}

func conformKind(p string, m partnerapi.Member, v any) []string {
	bad := func() []string { return []string{fmt.Sprintf("%s: %v (%T) is not a %s", p, v, v, m.Kind)} }
	switch m.Kind {
	case partnerapi.KindString:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case partnerapi.KindBool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case partnerapi.KindInt64:
		n, ok := v.(json.Number)
		if _, err := strconv.ParseInt(string(n), 10, 64); !ok || err != nil {
			return bad()
		}
	case partnerapi.KindUint64:
		n, ok := v.(json.Number)
		if _, err := strconv.ParseUint(string(n), 10, 64); !ok || err != nil {
			return bad()
		}
	case partnerapi.KindFloat:
		n, ok := v.(json.Number)
		if _, err := n.Float64(); !ok || err != nil {
			return bad()
		}
	case partnerapi.KindObject:
		return conform(p, m.Object, v)
	}
	return nil
}

// schemaCase is a successful call of one action.
type schemaCase struct {
	action string
	req    func(f *fixture) (Caller, any)
}

func schemaCases() []schemaCase {
	page := func(extra map[string]any) map[string]any {
		m := map[string]any{"Page": 1, "PageSize": 20}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	direct := func(f *fixture) uint64 { return f.direct[0].Uin }
	voucherOf := func(f *fixture, c Caller) int64 { return f.w.customers[c.Uin].vouchers[0].id }
	return []schemaCase{
		{"AllocateCreditPool", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"SubAgentUin": f.sub.Uin, "Credit": 100.5}
		}},
		{"AllocateCustomerCredit", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"ClientUin": direct(f), "AddedCredit": 10, "Remark": "top up"}
		}},
		{"ApproveClientApply", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"ClientUin": f.w.pendingFor(f.dist.Uin)[0].uin, "ApproveType": "pass"}
		}},
		{"ApproveSubAgentApply", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"SubAgentUin": f.w.pendingSubAgents[0].uin, "ApproveType": "reject", "RejectReason": "missing documents"}
		}},
		{"CreateAccount", func(f *fixture) (Caller, any) {
			code := f.sendCode("852", "61234567")
			return f.sub, createAccountReq("new.customer@example.com", "852", "61234567", code)
		}},
		{"CreateAndSendClientInvitationMail", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"Email": "invitee@example.com"}
		}},
		{"DescribeBillDetail", func(f *fixture) (Caller, any) {
			return f.direct[0], page(map[string]any{"Month": f.month(-1)})
		}},
		{"DescribeBillDownloadUrl", func(f *fixture) (Caller, any) {
			return f.direct[0], map[string]any{"Month": f.month(-1), "FileType": "L3"}
		}},
		{"DescribeBillSummary", func(f *fixture) (Caller, any) {
			return f.direct[0], map[string]any{"Month": f.month(-1), "GroupType": "tag"}
		}},
		{"DescribeBillSummaryByPayMode", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"BillMonth": f.month(-1), "CustomerUin": direct(f)}
		}},
		{"DescribeBillSummaryByProduct", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"BillMonth": f.month(-1), "CustomerUin": direct(f)}
		}},
		{"DescribeBillSummaryByRegion", func(f *fixture) (Caller, any) {
			return f.sub, map[string]any{"BillMonth": f.month(0), "CustomerUin": f.subCust.Uin}
		}},
		{"DescribeCustomerBillDetail", func(f *fixture) (Caller, any) {
			return f.dist, page(map[string]any{"CustomerUin": direct(f), "Month": f.month(-1)})
		}},
		{"DescribeCustomerBillDetailByDay", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"CustomerUin": direct(f), "Date": f.clock.t.AddDate(0, 0, -3).In(apiZone).Format(apiDateLayout)}
		}},
		{"DescribeCustomerBillDownloadUrl", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"Month": f.month(-1), "FileType": "billDetail", "CustomerUinType": "Customer", "CustomerUin": direct(f)}
		}},
		{"DescribeCustomerBillSummary", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"CustomerUin": direct(f), "Month": f.month(-1), "PayMode": "postPay"}
		}},
		{"DescribeCustomerInfo", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"CustomerUin": []uint64{direct(f), f.direct[1].Uin}}
		}},
		{"DescribeCustomerOwnCostExplorerFilter", func(f *fixture) (Caller, any) {
			return f.direct[0], map[string]any{"StartTime": f.month(-2) + "-01 00:00:00", "EndTime": f.month(0) + "-01 23:59:59", "PeriodType": "month"}
		}},
		{"DescribeCustomerOwnCostExplorerSummary", func(f *fixture) (Caller, any) {
			return f.direct[0], map[string]any{"Dimension": "Business", "FeeType": "totalCost", "BillType": 1,
				"StartTime": f.month(-1) + "-01 00:00:00", "EndTime": f.month(-1) + "-28 23:59:59", "PeriodType": "day", "Page": 1, "PageSize": 10}
		}},
		{"DescribeCustomerOwnVoucherList", func(f *fixture) (Caller, any) { return f.direct[0], page(nil) }},
		{"DescribeCustomerOwnVoucherUsageDetails", func(f *fixture) (Caller, any) {
			return f.direct[0], page(map[string]any{"VoucherId": voucherOf(f, f.direct[0])})
		}},
		{"DescribeCustomerUin", func(f *fixture) (Caller, any) { return f.dist, page(nil) }},
		{"DescribeCustomerVoucherList", func(f *fixture) (Caller, any) { return f.sub, page(nil) }},
		{"DescribeCustomerVoucherUsageDetails", func(f *fixture) (Caller, any) {
			return f.sub, page(map[string]any{"CustomerUin": f.subCust.Uin, "VoucherId": voucherOf(f, f.subCust), "Month": f.month(-1)})
		}},
		{"DescribeRebateDownloadUrl", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"Month": f.month(-1), "FileType": "CommissionDetail"}
		}},
		{"ForceQN", func(f *fixture) (Caller, any) { return f.dist, map[string]any{"ClientUin": direct(f), "Type": 2} }},
		{"GetCountryCodes", func(f *fixture) (Caller, any) { return f.dist, map[string]any{} }},
		{"GetTradeConfigList", func(f *fixture) (Caller, any) { return f.direct[0], map[string]any{} }},
		{"ModifyClientRemark", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"ClientUin": strconv.FormatUint(direct(f), 10), "Remark": "moved to annual plan"}
		}},
		{"QueryAccountVerificationStatus", func(f *fixture) (Caller, any) { return f.dist, map[string]any{"ClientUin": direct(f)} }},
		{"QueryCreditAllocationHistory", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"ClientUin": direct(f), "Page": 1, "PageSize": 10}
		}},
		{"QueryCreditByUinList", func(f *fixture) (Caller, any) { return f.sub, map[string]any{"UinList": []uint64{f.subCust.Uin}} }},
		{"QueryCustomerBillingQuota", func(f *fixture) (Caller, any) { return f.subCust, map[string]any{} }},
		{"QueryCustomersCredit", func(f *fixture) (Caller, any) { return f.dist, page(map[string]any{"Order": "asc"}) }},
		{"QueryDirectCustomersCredit", func(f *fixture) (Caller, any) { return f.sub, map[string]any{} }},
		{"QueryInvitationInfo", func(f *fixture) (Caller, any) {
			f.w.mu.Lock()
			resp, err := createAndSendClientInvitationMail(f.w, f.dist, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: "someone@example.org"})
			f.w.mu.Unlock()
			if err != nil {
				panic(err)
			}
			return f.dist, map[string]any{"InvitationToken": []string{resp.InvitationLink[len(invitationURL):], "unknown"}}
		}},
		{"QueryPartnerCredit", func(f *fixture) (Caller, any) { return f.dist, map[string]any{} }},
		{"QueryPendingClientsV2", func(f *fixture) (Caller, any) { return f.sub, page(nil) }},
		{"QueryPendingSubAgentsV2", func(f *fixture) (Caller, any) { return f.dist, page(nil) }},
		{"QueryPolicyProductListByCode", func(f *fixture) (Caller, any) {
			return f.sub, map[string]any{"PolicyCode": "StandardPolicy2025", "ProductCode": "p_cvm", "Page": 1, "PageSize": 200}
		}},
		{"QuerySubAgentsDetailV2", func(f *fixture) (Caller, any) { return f.dist, page(map[string]any{"Order": "asc"}) }},
		{"QueryT1IndirectCustomersDetail", func(f *fixture) (Caller, any) {
			return f.dist, page(map[string]any{"SubAgentUin": f.sub.Uin})
		}},
		{"QueryVoucherAmountByUin", func(f *fixture) (Caller, any) { return f.dist, map[string]any{"ClientUins": []uint64{direct(f)}} }},
		{"QueryVoucherListByUin", func(f *fixture) (Caller, any) {
			return f.dist, map[string]any{"ClientUins": []uint64{direct(f), f.direct[1].Uin}}
		}},
		{"QueryVoucherPool", func(f *fixture) (Caller, any) { return f.sub, map[string]any{} }},
		{"SendVerifyCode", func(f *fixture) (Caller, any) {
			return f.direct[0], map[string]any{"CountryCode": "65", "PhoneNum": "91234567"}
		}},
	}
}

// pendingFor lists the pending customer applications to a partner.
func (w *World) pendingFor(partnerUin uint64) []*applicant {
	var out []*applicant
	for _, a := range w.pendingClients {
		if a.partner == partnerUin {
			out = append(out, a)
		}
	}
	return out
}

// sendCode sends a verification code and returns it from the outbox.
func (f *fixture) sendCode(cc, phone string) string {
	if _, err := f.w.Call(f.dist, "SendVerifyCode", json.RawMessage(`{"CountryCode":"`+cc+`","PhoneNum":"`+phone+`"}`)); err != nil {
		panic(err)
	}
	out := f.w.Outbox()
	return out[len(out)-1].Code
}

func createAccountReq(mail, cc, phone, code string) map[string]any {
	area, _ := countryByCode(cc)
	return map[string]any{
		"AccountType": "company", "Mail": mail, "Password": "Bejs%2745!", "ConfirmPassword": "Bejs%2745!",
		"PhoneNum": phone, "CountryCode": cc, "Area": area.IOS2, "VerifyCode": code,
		"TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "CustomerName": "Harbor Trading Ltd",
	}
}

func TestEveryActionConformsToTheDefinition(t *testing.T) {
	cases := schemaCases()
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.action] = true
	}
	for _, a := range partnerapi.Actions() {
		if !covered[a.Name] {
			t.Errorf("no schema case for %s", a.Name)
		}
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			f := newFixture(t, 5)
			info, ok := partnerapi.LookupAction(tc.action)
			if !ok {
				t.Fatalf("unknown action %s", tc.action)
			}
			c, req := tc.req(f)
			if !info.Allows(c.Role) {
				t.Fatalf("the case calls %s as %s, which the action does not allow", tc.action, c.Role)
			}
			out, err := f.w.Call(c, tc.action, mustJSON(t, req))
			if err != nil {
				t.Fatalf("%s: %v", tc.action, err)
			}
			body, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			for _, p := range conform(info.Output, info.Output, v) {
				t.Error(p)
			}
		})
	}
}
