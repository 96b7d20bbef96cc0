package commission_test

import (
	"strings"
	"testing"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/commission"
	"resellerportal/internal/apptest"
	"resellerportal/partnerapi"
)

func TestPolicyProducts(t *testing.T) {
	ctx := t.Context()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 4, SandboxCustomers: 10, RateScale: 100})
	svc := commission.New(a.DB, a.Keys, a.Cache, nil)
	fin := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleFinance}}

	// No policy code, no call.
	f, err := svc.ParseQuery(fin, commission.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Search(ctx, fin, apicache.Fresh, f); err != nil || p.List.Value != nil || sb.Requests(partnerapi.ActionQueryPolicyProductListByCode) != 0 {
		t.Fatalf("without a policy: %+v %v", p, err)
	}

	f, err = svc.ParseQuery(fin, commission.Query{Policy: " StandardPolicy2025 "})
	if err != nil || f.Policy != "StandardPolicy2025" {
		t.Fatalf("%+v %v", f, err)
	}
	all, err := svc.Search(ctx, fin, apicache.Fresh, f)
	if err != nil || all.List.Value == nil || all.List.Value.Total == 0 {
		t.Fatalf("the policy's range: %+v %v", all, err)
	}
	if n := len(all.List.Value.ProductList); n != min(int(all.List.Value.Total), commission.PerPage) || all.Pages != int((all.List.Value.Total+commission.PerPage-1)/commission.PerPage) {
		t.Errorf("%d lines of %d on %d pages", n, all.List.Value.Total, all.Pages)
	}
	calls := sb.Requests(partnerapi.ActionQueryPolicyProductListByCode)
	if _, err := svc.Search(ctx, fin, apicache.Fresh, f); err != nil || sb.Requests(partnerapi.ActionQueryPolicyProductListByCode) != calls {
		t.Fatalf("a second view called the API: %v", err)
	}

	// A product code or a product name narrows the range.
	byCode, _ := svc.ParseQuery(fin, commission.Query{Policy: "StandardPolicy2025", Product: "p_cvm"})
	p, err := svc.Search(ctx, fin, apicache.Fresh, byCode)
	if err != nil || p.List.Value == nil || len(p.List.Value.ProductList) == 0 || p.List.Value.Total >= all.List.Value.Total {
		t.Fatalf("by product code: %+v %v", p.List, err)
	}
	name := p.List.Value.ProductList[0].ProductName
	for _, x := range p.List.Value.ProductList {
		if x.ProductCode != "p_cvm" {
			t.Errorf("a line of %s for p_cvm", x.ProductCode)
		}
	}
	byName, _ := svc.ParseQuery(fin, commission.Query{Policy: "StandardPolicy2025", Product: strings.ToLower(name)})
	if q, err := svc.Search(ctx, fin, apicache.Fresh, byName); err != nil || q.List.Value == nil || q.List.Value.Total != p.List.Value.Total {
		t.Errorf("by product name %q: %+v %v", name, q.List, err)
	}

	for _, tc := range []struct {
		q     commission.Query
		field string
	}{
		{commission.Query{Policy: "a b"}, "policy"},
		{commission.Query{Policy: strings.Repeat("x", 65)}, "policy"},
		{commission.Query{Product: strings.Repeat("字", commission.MaxText+1)}, "product"},
		{commission.Query{SubProduct: "a\x00"}, "sub_product"},
		{commission.Query{Page: "0"}, ""},
	} {
		if _, err := svc.ParseQuery(fin, tc.q); apperr.Fields(err)[tc.field] == nil {
			t.Errorf("%+v: %v, want a problem with %q", tc.q, err, tc.field)
		}
	}
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: sb.DemoSubAgent().Uin}}
	if _, err := svc.ParseQuery(sub, commission.Query{}); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a reseller's login: %v", err)
	}
	if _, err := svc.Search(ctx, sub, apicache.Fresh, f); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a reseller's login searched: %v", err)
	}
}
