package endcustomer_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/endcustomer"
	"resellerportal/internal/apptest"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

func TestACustomersOwnView(t *testing.T) {
	ctx := t.Context()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 6, SandboxCustomers: 20, RateScale: 100})
	svc := endcustomer.New(a.Keys, a.Customers, a.Cache, nil)
	fin := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleFinance}}

	var cust sandbox.Credential
	for _, c := range sb.Credentials() {
		if c.Role == "customer" {
			cust = c
			break
		}
	}
	uin := strconv.FormatUint(cust.Uin, 10)
	if v, err := svc.Own(ctx, fin, apicache.Fresh, uin, endcustomer.Query{}); err != nil || !errors.Is(v.Blocked, keyring.ErrNoCustomerKey) {
		t.Fatalf("without the customer's key: %v %v", v.Blocked, err)
	}
	if _, err := a.Keys.Save(ctx, audit.CommandLine(), keyring.Input{Kind: store.CredentialCustomer, SubagentUin: uin, SecretID: cust.SecretId, SecretKey: cust.SecretKey}); err != nil {
		t.Fatal(err)
	}
	month := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	v, err := svc.Own(ctx, fin, apicache.Fresh, uin, endcustomer.Query{Month: month})
	if err != nil || v.Blocked != nil {
		t.Fatalf("own view: %v %v", err, v.Blocked)
	}
	for name, f := range map[string]error{"quota": v.Quota.Err, "summary": v.Summary.Err, "detail": v.Detail.Err, "vouchers": v.Vouchers.Err, "explorer": v.Explorer.Err} {
		if f != nil {
			t.Errorf("%s: %v", name, f)
		}
	}
	if v.Quota.Value == nil || v.Summary.Value == nil || v.Detail.Value == nil || v.Vouchers.Value == nil || v.Explorer.Value == nil {
		t.Fatal("a read is missing")
	}
	// The bill by product adds up to its detail lines, to the cent and past.
	if v.Pages == 1 {
		summed, lines := decimal.Zero, decimal.Zero
		for _, s := range *v.Summary.Value {
			summed = summed.Add(decimal.RequireFromString(s.TotalCost))
		}
		for _, d := range v.Detail.Value.DetailSet {
			lines = lines.Add(decimal.RequireFromString(d.TotalCost))
		}
		if !summed.Equal(lines) {
			t.Errorf("the bill's products sum to %s, its lines to %s", summed, lines)
		}
	}
	calls := sb.Requests(partnerapi.ActionDescribeBillSummary)
	if _, err := svc.Own(ctx, fin, apicache.Fresh, uin, endcustomer.Query{Month: month}); err != nil || sb.Requests(partnerapi.ActionDescribeBillSummary) != calls {
		t.Errorf("a second view called the API: %v", err)
	}
	if items := v.Vouchers.Value.Data; len(items) > 0 {
		u, err := svc.Own(ctx, fin, apicache.Fresh, uin, endcustomer.Query{Month: month, Voucher: strconv.FormatInt(items[0].VoucherId, 10)})
		if err != nil || u.Usage.Value == nil {
			t.Errorf("a voucher's usage: %v %v", err, u.Usage.Err)
		}
	}

	for _, q := range []endcustomer.Query{{Month: "2025-13"}, {Page: "0"}, {Voucher: "-1"}} {
		if _, err := svc.Own(ctx, fin, apicache.Fresh, uin, q); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%+v: %v", q, err)
		}
	}
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: sb.DemoSubAgent().Uin}}
	if _, err := svc.Own(ctx, sub, apicache.Fresh, uin, endcustomer.Query{}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another reseller's login: %v", err)
	}
	if _, err := svc.Own(ctx, fin, apicache.Fresh, "abc", endcustomer.Query{}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a UIN that is no number: %v", err)
	}
}
