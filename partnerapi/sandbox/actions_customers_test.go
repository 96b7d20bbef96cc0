package sandbox

import (
	"strconv"
	"strings"
	"testing"

	"resellerportal/partnerapi"
)

func TestOwnership(t *testing.T) {
	f := newFixture(t, 41)
	directUin := f.direct[0].Uin
	month := f.month(-1)
	tests := []struct {
		action string
		req    map[string]any
	}{
		{"AllocateCustomerCredit", map[string]any{"ClientUin": directUin, "AddedCredit": 1}},
		{"ForceQN", map[string]any{"ClientUin": directUin, "Type": 2}},
		{"ModifyClientRemark", map[string]any{"ClientUin": strconv.FormatUint(directUin, 10), "Remark": "mine now"}},
		{"QueryCreditAllocationHistory", map[string]any{"ClientUin": directUin}},
		{"QueryCreditByUinList", map[string]any{"UinList": []uint64{f.subCust.Uin, directUin}}},
		{"DescribeCustomerBillDetail", map[string]any{"CustomerUin": directUin, "Month": month, "Page": 1, "PageSize": 10}},
		{"DescribeCustomerBillSummary", map[string]any{"CustomerUin": directUin, "Month": month}},
		{"DescribeBillSummaryByProduct", map[string]any{"CustomerUin": directUin, "BillMonth": month}},
		{"DescribeCustomerBillDetailByDay", map[string]any{"CustomerUin": directUin, "Date": month + "-02"}},
		{"DescribeCustomerVoucherList", map[string]any{"CustomerUin": directUin, "Page": 1, "PageSize": 10}},
		{"DescribeCustomerVoucherUsageDetails", map[string]any{"CustomerUin": directUin, "VoucherId": f.w.customers[directUin].vouchers[0].id, "Page": 1, "PageSize": 10}},
		{"QueryVoucherAmountByUin", map[string]any{"ClientUins": []uint64{directUin}}},
		{"QueryVoucherListByUin", map[string]any{"ClientUins": []uint64{f.subCust.Uin, directUin}}},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			if code := callCode(t, f, f.sub, tc.action, tc.req); code != "UnauthorizedOperation.NotCustomerUin" {
				t.Errorf("code = %s, want UnauthorizedOperation.NotCustomerUin", code)
			}
		})
	}
	// The distributor does not act directly on a subagent's customer either…
	if code := callCode(t, f, f.dist, "ForceQN", map[string]any{"ClientUin": f.subCust.Uin, "Type": 2}); code != "UnauthorizedOperation.NotCustomerUin" {
		t.Errorf("distributor on an indirect customer: %s", code)
	}
	// …but sees it through QueryT1IndirectCustomersDetail.
	ind := call[partnerapi.QueryT1IndirectCustomersDetailResponse](t, f, f.dist, "QueryT1IndirectCustomersDetail", map[string]any{"SubAgentUin": f.sub.Uin, "Page": 1, "PageSize": 100})
	found := false
	for _, c := range ind.Data {
		found = found || c.ClientUin == int64(f.subCust.Uin)
	}
	if !found || ind.Total != int64(len(f.w.partners[f.sub.Uin].customers)) || ind.SubAgentName == "" {
		t.Errorf("indirect customers %+v", ind)
	}
	// A subagent's lists hold only its own customers.
	own := call[partnerapi.QueryDirectCustomersCreditResponse](t, f, f.sub, "QueryDirectCustomersCredit", map[string]any{})
	for _, c := range own.Data {
		if f.w.customers[c.Uin].owner != f.sub.Uin {
			t.Errorf("subagent sees %d", c.Uin)
		}
	}
}

func TestModifyClientRemark(t *testing.T) {
	f := newFixture(t, 42)
	uin := f.direct[1].Uin
	resp := call[partnerapi.ModifyClientRemarkResponse](t, f, f.dist, "ModifyClientRemark", map[string]any{"ClientUin": strconv.FormatUint(uin, 10), "Remark": "moved to the annual plan"})
	if resp.ClientRemark != "moved to the annual plan" {
		t.Errorf("ClientRemark = %q", resp.ClientRemark)
	}
	list := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": "Remark", "Filter": "ANNUAL plan"})
	if list.Total != 1 || list.Data[0].ClientUin != uin || list.Data[0].Remark != resp.ClientRemark {
		t.Errorf("QueryCustomersCredit by remark: %+v", list)
	}
	info := call[partnerapi.DescribeCustomerInfoResponse](t, f, f.dist, "DescribeCustomerInfo", map[string]any{"CustomerUin": []uint64{uin}})
	if info.Data[0].Mark != resp.ClientRemark {
		t.Errorf("DescribeCustomerInfo Mark = %q", info.Data[0].Mark)
	}
	if code := callCode(t, f, f.dist, "ModifyClientRemark", map[string]any{"ClientUin": "abc", "Remark": "x"}); code != "InvalidParameterValue.InvalidUin" {
		t.Errorf("bad UIN: %s", code)
	}
}

func TestQueryCustomersCredit(t *testing.T) {
	f := newFixture(t, 43)
	all := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"Page": 1, "PageSize": 100})
	if all.Total != 200 || len(all.Data) != 100 {
		t.Fatalf("Total %d, %d rows", all.Total, len(all.Data))
	}
	for i := 1; i < len(all.Data); i++ {
		if all.Data[i].AssociationTime > all.Data[i-1].AssociationTime {
			t.Fatalf("default order is not descending by AssociationTime at %d", i)
		}
	}
	asc := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"Page": 2, "PageSize": 100, "Order": "asc"})
	if asc.Data[len(asc.Data)-1].ClientUin != all.Data[0].ClientUin {
		t.Error("asc page 2 does not end with the newest customer")
	}
	past := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"Page": 9, "PageSize": 100})
	if past.Total != 200 || len(past.Data) != 0 || past.Data == nil {
		t.Errorf("page past the end: %+v", past)
	}
	target := f.w.customers[f.direct[0].Uin]
	tests := []struct{ typ, filter string }{
		{"ClientUin", strconv.FormatUint(target.uin, 10)},
		{"Name", strings.ToUpper(target.name)},
		{"Email", target.email},
	}
	for _, tc := range tests {
		got := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": tc.typ, "Filter": tc.filter})
		found := false
		for _, d := range got.Data {
			found = found || d.ClientUin == target.uin
		}
		if !found || got.Total != uint64(len(got.Data)) && len(got.Data) < 10 {
			t.Errorf("%s=%s: %+v", tc.typ, tc.filter, got)
		}
	}
	if code := callCode(t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": "Phone", "Filter": "1"}); code != "InvalidParameterValue" {
		t.Errorf("unknown filter type: %s", code)
	}
}

func TestSubAgentsDetail(t *testing.T) {
	f := newFixture(t, 44)
	sa := f.w.partners[f.sub.Uin]
	tests := []struct{ typ, filter string }{
		{"SubAgentUin", strconv.FormatUint(sa.uin, 10)},
		{"Name", strings.ToLower(sa.name)},
		{"Email", sa.email},
		{"Mobile", sa.mobile},
		{"ClientUin", strconv.FormatUint(f.subCust.Uin, 10)},
	}
	for _, tc := range tests {
		got := call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 100, "FilterType": tc.typ, "Filter": tc.filter})
		if len(got.Data) < 1 || got.Data[0].SubAgentUin != int64(sa.uin) {
			t.Errorf("%s=%s: %+v", tc.typ, tc.filter, got)
		}
		if got.Data[0].CountOfCustomers != int64(len(sa.customers)) {
			t.Errorf("CountOfCustomers %d", got.Data[0].CountOfCustomers)
		}
	}
	asc := call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 100, "Order": "asc"})
	desc := call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 100})
	if asc.Data[0].SubAgentUin != desc.Data[len(desc.Data)-1].SubAgentUin {
		t.Error("asc and desc are not reverses")
	}
	if code := callCode(t, f, f.dist, "QueryT1IndirectCustomersDetail", map[string]any{"SubAgentUin": f.direct[0].Uin, "Page": 1, "PageSize": 10}); code != "FailedOperation.InvalidSubAgentUin" {
		t.Errorf("a customer as subagent: %s", code)
	}
}
