package sandbox

import (
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

func creditOf(t *testing.T, f *fixture, c Caller, uin uint64) partnerapi.QueryDirectCustomersCreditData {
	t.Helper()
	resp := call[partnerapi.QueryCreditByUinListResponse](t, f, c, "QueryCreditByUinList", map[string]any{"UinList": []uint64{uin}})
	return resp.Data[0]
}

func TestAllocateCustomerCredit(t *testing.T) {
	f := newFixture(t, 21)
	uin := f.direct[0].Uin
	before := creditOf(t, f, f.dist, uin)
	partnerBefore := call[partnerapi.QueryPartnerCreditResponse](t, f, f.dist, "QueryPartnerCredit", map[string]any{})

	// Three times 0.01 is exactly 0.03.
	for range 3 {
		call[partnerapi.AllocateCustomerCreditResponse](t, f, f.dist, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": 0.01, "Remark": "cent"})
	}
	after := creditOf(t, f, f.dist, uin)
	if want := before.TotalCredit.Decimal().Add(decimal.RequireFromString("0.03")); !after.TotalCredit.Decimal().Equal(want) {
		t.Errorf("credit after 3 x 0.01 = %s, want %s", after.TotalCredit, want)
	}
	partnerAfter := call[partnerapi.QueryPartnerCreditResponse](t, f, f.dist, "QueryPartnerCredit", map[string]any{})
	if d := partnerBefore.RemainingCredit.Decimal().Sub(partnerAfter.RemainingCredit.Decimal()); !d.Equal(decimal.RequireFromString("0.03")) {
		t.Errorf("partner's allocable credit fell by %s, want 0.03", d)
	}

	// Take back 100.5 of a larger grant.
	call[partnerapi.AllocateCustomerCreditResponse](t, f, f.dist, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": 250})
	resp := call[partnerapi.AllocateCustomerCreditResponse](t, f, f.dist, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": -100.5, "Remark": "take back"})
	want := after.TotalCredit.Decimal().Add(decimal.RequireFromString("149.5"))
	if !resp.TotalCredit.Decimal().Equal(want) {
		t.Errorf("after take-back TotalCredit = %s, want %s", resp.TotalCredit, want)
	}
	if got := creditOf(t, f, f.dist, uin); !got.TotalCredit.Decimal().Equal(want) || !got.RemainingCredit.Decimal().Equal(resp.RemainingCredit.Decimal()) {
		t.Errorf("QueryCreditByUinList shows %+v, allocation answered %+v", got, resp)
	}

	hist := call[partnerapi.QueryCreditAllocationHistoryResponse](t, f, f.dist, "QueryCreditAllocationHistory", map[string]any{"ClientUin": uin, "Page": 1, "PageSize": 2})
	if hist.Total < 5 || len(hist.History) != 2 {
		t.Fatalf("history %+v", hist)
	}
	last := hist.History[0]
	if last.Operator != f.w.distributor.name || !last.Credit.Decimal().Equal(decimal.RequireFromString("-100.5")) ||
		!last.AllocatedCredit.Decimal().Equal(want) || last.Remark != "take back" || !last.ClientCreditAfter.Decimal().Equal(resp.RemainingCredit.Decimal()) {
		t.Errorf("latest history record %+v", last)
	}

	tests := []struct {
		name  string
		added string
	}{
		{"beyond the partner's allocable credit", partnerAfter.RemainingCredit.Decimal().Add(decimal.NewFromInt(1000)).String()},
		{"more than the customer's available credit", resp.RemainingCredit.Decimal().Add(decimal.NewFromInt(1)).Neg().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := callCode(t, f, f.dist, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": partnerapi.MustAmount(tc.added)})
			if code != "InvalidParameterValue.CreditAmountOutOfRange" {
				t.Errorf("code = %s", code)
			}
		})
	}
	if got := creditOf(t, f, f.dist, uin); !got.TotalCredit.Decimal().Equal(want) {
		t.Errorf("a refused allocation changed the credit to %s", got.TotalCredit)
	}
}

func TestAllocateCreditPoolBoundsSubAgent(t *testing.T) {
	f := newFixture(t, 22)
	pool := call[partnerapi.QueryPartnerCreditResponse](t, f, f.sub, "QueryPartnerCredit", map[string]any{})
	// The subagent can hand out exactly its remaining pool, not a cent more.
	uin := f.subCust.Uin
	over := pool.RemainingCredit.Decimal().Add(decimal.RequireFromString("0.01"))
	if code := callCode(t, f, f.sub, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": partnerapi.AmountFromDecimal(over)}); code != "InvalidParameterValue.CreditAmountOutOfRange" {
		t.Errorf("over the pool: %s", code)
	}
	resp := call[partnerapi.AllocateCreditPoolResponse](t, f, f.dist, "AllocateCreditPool", map[string]any{"SubAgentUin": f.sub.Uin, "Credit": 500.25})
	if !resp.TotalCredit.Decimal().Equal(pool.TotalCredit.Decimal().Add(decimal.RequireFromString("500.25"))) {
		t.Errorf("pool after allocation %s", resp.TotalCredit)
	}
	call[partnerapi.AllocateCustomerCreditResponse](t, f, f.sub, "AllocateCustomerCredit", map[string]any{"ClientUin": uin, "AddedCredit": partnerapi.AmountFromDecimal(over)})
	list := call[partnerapi.QuerySubAgentsDetailV2Response](t, f, f.dist, "QuerySubAgentsDetailV2", map[string]any{"Page": 1, "PageSize": 10, "FilterType": "SubAgentUin", "Filter": strconv.FormatUint(f.sub.Uin, 10)})
	if len(list.Data) != 1 || !list.Data[0].Credit.Decimal().Equal(resp.TotalCredit.Decimal()) ||
		!list.Data[0].RemainingCredit.Decimal().Equal(decimal.RequireFromString("500.24")) {
		t.Errorf("QuerySubAgentsDetailV2 shows %+v", list.Data)
	}
	if code := callCode(t, f, f.dist, "AllocateCreditPool", map[string]any{"SubAgentUin": f.direct[0].Uin, "Credit": 1}); code != "FailedOperation.InvalidSubAgentUin" {
		t.Errorf("pool for a customer: %s", code)
	}
}

func TestForceQN(t *testing.T) {
	f := newFixture(t, 23)
	uin := f.direct[1].Uin
	tests := []struct {
		typ      int
		wantCode string
	}{{2, ""}, {0, ""}, {2, ""}, {1, "InvalidParameterValue"}, {3, "InvalidParameterValue"}}
	for _, tc := range tests {
		if tc.wantCode != "" {
			if code := callCode(t, f, f.dist, "ForceQN", map[string]any{"ClientUin": uin, "Type": tc.typ}); code != tc.wantCode {
				t.Errorf("Type %d: %s", tc.typ, code)
			}
			continue
		}
		resp := call[partnerapi.ForceQNResponse](t, f, f.dist, "ForceQN", map[string]any{"ClientUin": uin, "Type": tc.typ})
		if resp.C != 0 {
			t.Errorf("C = %d", resp.C)
		}
		list := call[partnerapi.QueryCustomersCreditResponse](t, f, f.dist, "QueryCustomersCredit", map[string]any{"FilterType": "ClientUin", "Filter": strconv.FormatUint(uin, 10)})
		if len(list.Data) != 1 || list.Data[0].Force != int64(tc.typ) {
			t.Errorf("QueryCustomersCredit after ForceQN %d: %+v", tc.typ, list.Data)
		}
		quota := call[partnerapi.QueryCustomerBillingQuotaResponse](t, f, f.direct[1], "QueryCustomerBillingQuota", map[string]any{})
		if quota.Data.Force != int64(tc.typ) {
			t.Errorf("QueryCustomerBillingQuota Force = %d, want %d", quota.Data.Force, tc.typ)
		}
	}
}
