package resellers_test

import (
	"errors"
	"strconv"
	"testing"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/apptest"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/resellers"
)

func TestResellersOfTheDistributor(t *testing.T) {
	ctx := t.Context()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 3, SandboxCustomers: 20, RateScale: 100})
	svc := resellers.New(a.Keys, a.Cache)
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleStaff}}
	sub := sb.DemoSubAgent().Uin

	l, err := svc.List(ctx, staff, resellers.ListInput{}, apicache.Fresh)
	if err != nil || l.Result.Value == nil || len(l.Result.Value.Rows) == 0 {
		t.Fatalf("list: %+v %v", l, err)
	}
	if l.Result.Value.Total != int64(len(l.Result.Value.Rows)) {
		t.Fatalf("a page of %d of %d resellers", len(l.Result.Value.Rows), l.Result.Value.Total)
	}
	calls := sb.Requests(partnerapi.ActionQuerySubAgentsDetailV2)
	if _, err := svc.List(ctx, staff, resellers.ListInput{}, apicache.Fresh); err != nil || sb.Requests(partnerapi.ActionQuerySubAgentsDetailV2) != calls {
		t.Fatalf("a second read was not served from the cache: %v", err)
	}

	d, err := svc.Reseller(ctx, staff, strconv.FormatUint(sub, 10), "", apicache.Fresh)
	if err != nil {
		t.Fatal(err)
	}
	if d.Reseller.Uin != sub || d.Customers.Value == nil || int64(len(d.Customers.Value.Rows)) != min(d.Reseller.Customers, resellers.PageSize) {
		t.Fatalf("reseller %d: %+v", sub, d)
	}
	if !errors.Is(d.Credit.Err, keyring.ErrNoResellerKey) {
		t.Fatalf("credit without the reseller's key: %v", d.Credit.Err)
	}
	for _, u := range d.Customers.Value.Rows {
		if u.Credit != nil {
			t.Fatal("credit is shown without the reseller's key")
		}
	}
	if _, err := svc.Reseller(ctx, staff, "42", "", apicache.Fresh); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a UIN that is no reseller: %v", err)
	}

	for _, who := range []audit.Actor{
		{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: sub}},
		{Principal: auth.Principal{UserID: 3, Role: auth.RoleFinance}},
	} {
		if _, err := svc.List(ctx, who, resellers.ListInput{}, apicache.Fresh); apperr.KindOf(err) != apperr.Forbidden {
			t.Fatalf("%s listed resellers: %v", who.Role, err)
		}
		if _, err := svc.Reseller(ctx, who, strconv.FormatUint(sub, 10), "", apicache.Fresh); apperr.KindOf(err) != apperr.Forbidden {
			t.Fatalf("%s opened a reseller: %v", who.Role, err)
		}
	}
}
