package sandbox

import (
	"slices"
	"strings"

	"resellerportal/partnerapi"
)

// Reference data: country codes, industries and policy product lists.

func getCountryCodes(_ *World, _ Caller, _ *partnerapi.GetCountryCodesRequest) (*partnerapi.GetCountryCodesResponse, error) {
	return &partnerapi.GetCountryCodesResponse{Data: slices.Clone(countryCodes)}, nil
}

func getTradeConfigList(_ *World, _ Caller, _ *partnerapi.GetTradeConfigListRequest) (*partnerapi.GetTradeConfigListResponse, error) {
	out := make([]partnerapi.TradeOneNode, 0, len(trades))
	for _, t := range trades {
		children := make([]partnerapi.TradeTwoNode, 0, len(t.children))
		for _, ch := range t.children {
			children = append(children, partnerapi.TradeTwoNode{Id: ch.code, Name: ch.name, TradeInfo: t.id})
		}
		out = append(out, partnerapi.TradeOneNode{Id: t.id, Name: t.name, Children: children})
	}
	return &partnerapi.GetTradeConfigListResponse{TradeList: out}, nil
}

// policyProducts lists the products in a policy's range: every component of
// the catalog, plus a wildcard line for whole products.
func policyProducts(code, start, end string) []partnerapi.PolicyProductList {
	var out []partnerapi.PolicyProductList
	for _, p := range products {
		if p.code == "p_tke" {
			out = append(out, partnerapi.PolicyProductList{PolicyCode: code, ProductCode: p.code, ProductName: p.name,
				SubProductCode: "*", SubProductName: "*", ComponentTypeCode: "*", ComponentTypeName: "*",
				ComponentCode: "*", ComponentName: "*", StartDate: start, EndDate: end})
			continue
		}
		for _, s := range p.subs {
			for _, c := range p.components {
				out = append(out, partnerapi.PolicyProductList{PolicyCode: code, ProductCode: p.code, ProductName: p.name,
					SubProductCode: s.code, SubProductName: s.name, ComponentTypeCode: c.typeCode, ComponentTypeName: c.typeName,
					ComponentCode: c.code, ComponentName: c.name, StartDate: start, EndDate: end})
			}
		}
	}
	return out
}

func queryPolicyProductListByCode(_ *World, _ Caller, req *partnerapi.QueryPolicyProductListByCodeRequest) (*partnerapi.QueryPolicyProductListByCodeResponse, error) {
	var all []partnerapi.PolicyProductList
	for _, p := range policies {
		if p.code == req.PolicyCode {
			all = policyProducts(p.code, p.start, p.end)
		}
	}
	// A wildcard line matches any value at its level.
	eq := func(want, have string) bool { return want == "" || have == "*" || strings.EqualFold(want, have) }
	matched := make([]partnerapi.PolicyProductList, 0, len(all))
	for _, p := range all {
		if eq(req.ProductCode, p.ProductCode) && eq(req.ProductName, p.ProductName) &&
			eq(req.SubProductCode, p.SubProductCode) && eq(req.SubProductName, p.SubProductName) {
			matched = append(matched, p)
		}
	}
	lo, hi := pageRange(len(matched), int64(min(req.Page, 1<<40)), int64(min(req.PageSize, 1<<40)), 200)
	return &partnerapi.QueryPolicyProductListByCodeResponse{ProductList: slices.Clone(matched[lo:hi]), Total: uint64(len(matched))}, nil
}
