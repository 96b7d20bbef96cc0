package sandbox

import (
	"sync"
	"testing"

	"resellerportal/partnerapi"
)

func TestReferenceData(t *testing.T) {
	f := newFixture(t, 61)
	codes := call[partnerapi.GetCountryCodesResponse](t, f, f.dist, "GetCountryCodes", map[string]any{})
	want := map[string]string{"852": "HK", "65": "SG", "1": "US", "44": "GB", "81": "JP", "60": "MY", "66": "TH", "62": "ID", "84": "VN", "63": "PH", "49": "DE", "33": "FR", "61": "AU", "82": "KR"}
	for _, c := range codes.Data {
		if iso, ok := want[c.Code]; ok && iso == c.IOS2 {
			delete(want, c.Code)
		}
	}
	if len(want) != 0 {
		t.Errorf("GetCountryCodes lacks %v", want)
	}
	trades := call[partnerapi.GetTradeConfigListResponse](t, f, f.direct[0], "GetTradeConfigList", map[string]any{})
	if trades.TradeList[0].Id != "kghy_01" || trades.TradeList[0].Children[0].Id != "kghy_0101" {
		t.Errorf("trade list starts %+v", trades.TradeList[0])
	}

	tests := []struct {
		name    string
		req     map[string]any
		want    uint64 // 0: any positive count
		wantAll bool
	}{
		{"2024 policy", map[string]any{"PolicyCode": "StandardPolicy2024"}, 0, true},
		{"unknown policy", map[string]any{"PolicyCode": "NoSuchPolicy"}, 0, false},
		{"by product code", map[string]any{"PolicyCode": "StandardPolicy2025", "ProductCode": "p_cbs"}, 3, true},
		{"wildcard product", map[string]any{"PolicyCode": "StandardPolicy2025", "ProductCode": "p_tke", "SubProductName": "anything"}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := call[partnerapi.QueryPolicyProductListByCodeResponse](t, f, f.dist, "QueryPolicyProductListByCode", tc.req)
			switch {
			case !tc.wantAll && (resp.Total != 0 || len(resp.ProductList) != 0 || resp.ProductList == nil):
				t.Errorf("want an empty list, got %+v", resp)
			case tc.wantAll && tc.want != 0 && resp.Total != tc.want:
				t.Errorf("Total = %d, want %d", resp.Total, tc.want)
			case tc.wantAll && (resp.Total == 0 || uint64(len(resp.ProductList)) != resp.Total):
				t.Errorf("Total %d, %d items", resp.Total, len(resp.ProductList))
			}
		})
	}
	small := call[partnerapi.QueryPolicyProductListByCodeResponse](t, f, f.dist, "QueryPolicyProductListByCode", map[string]any{"PolicyCode": "StandardPolicy2024", "Page": 2, "PageSize": 5})
	if len(small.ProductList) != 5 || small.Total <= 10 {
		t.Errorf("page 2 of 5: %d items of %d", len(small.ProductList), small.Total)
	}
}

func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t, 62)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := f.w.Call(f.dist, "AllocateCustomerCredit", mustJSON(t, map[string]any{"ClientUin": f.direct[i%3].Uin, "AddedCredit": 0.01})); err != nil {
					t.Error(err)
				}
				if _, err := f.w.Call(f.direct[i%3], "DescribeBillSummary", mustJSON(t, map[string]any{"Month": f.month(-1), "GroupType": "product"})); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	hist := 0
	for _, c := range f.direct[:3] {
		hist += len(f.w.customers[c.Uin].history)
	}
	if hist < 160 {
		t.Errorf("%d allocation records, want at least 160", hist)
	}
}
