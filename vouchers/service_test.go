package vouchers_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/apptest"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/vouchers"
)

// world is a portal's services over its sandbox, as `portal serve` builds them.
func world(t *testing.T) (*app.App, *sandbox.Server) {
	t.Helper()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 5, SandboxCustomers: 30, RateScale: 100})
	return a, sb
}

func TestVouchersThroughTheCache(t *testing.T) {
	ctx := t.Context()
	a, sb := world(t)
	svc := vouchers.New(vouchers.Options{DB: a.DB, Clients: a.Keys, Customers: a.Customers, Cache: a.Cache})
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Username: "sam", Role: auth.RoleStaff}}

	f, err := svc.ParseQuery(ctx, staff, vouchers.Query{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.List(ctx, staff, apicache.Fresh, f)
	if err != nil || l.Vouchers.Value == nil || l.Pool.Value == nil {
		t.Fatalf("list: %+v %v", l, err)
	}
	page := l.Vouchers.Value
	if len(page.Items) == 0 || len(page.Items) > vouchers.PerPage || l.Pages != int((page.Total+vouchers.PerPage-1)/vouchers.PerPage) {
		t.Fatalf("%d vouchers of %d on %d pages", len(page.Items), page.Total, l.Pages)
	}
	if l.Quotas.Value == nil {
		t.Fatalf("quotas: %v", l.Quotas.Err)
	}
	for _, v := range page.Items {
		if _, ok := (*l.Quotas.Value)[v.CustomerUin]; !ok {
			t.Errorf("no quota of customer %d", v.CustomerUin)
		}
	}
	calls := sb.Requests(partnerapi.ActionDescribeCustomerVoucherList)
	if _, err := svc.List(ctx, staff, apicache.Fresh, f); err != nil || sb.Requests(partnerapi.ActionDescribeCustomerVoucherList) != calls {
		t.Fatalf("a second view called the API: %v", err)
	}

	// A filter and a customer.
	used, err := svc.ParseQuery(ctx, staff, vouchers.Query{Status: "Used", Customer: strconv.FormatInt(page.Items[0].CustomerUin, 10)})
	if err != nil {
		t.Fatal(err)
	}
	l, err = svc.List(ctx, staff, apicache.Fresh, used)
	if err != nil || l.Vouchers.Value == nil {
		t.Fatal(err)
	}
	for _, v := range l.Vouchers.Value.Items {
		if v.VoucherStatus != "Used" || v.CustomerUin != page.Items[0].CustomerUin {
			t.Errorf("voucher %+v for status Used of %d", v, page.Items[0].CustomerUin)
		}
	}

	// Bad filters name their fields.
	for _, tc := range []struct {
		q     vouchers.Query
		field string
	}{
		{vouchers.Query{Status: "Stolen"}, "status"},
		{vouchers.Query{PaymentMode: "x"}, "payment_mode"},
		{vouchers.Query{Usage: "x"}, "usage"},
		{vouchers.Query{Scope: "x"}, "scope"},
		{vouchers.Query{Customer: "abc"}, "customer"},
		{vouchers.Query{Customer: "1"}, "customer"},
		{vouchers.Query{Page: "-1"}, ""},
	} {
		_, err := svc.ParseQuery(ctx, staff, tc.q)
		if _, ok := apperr.Fields(err)[tc.field]; !ok || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%+v: %v, want a problem with %q", tc.q, err, tc.field)
		}
	}

	// The export holds every match, and is audited.
	var buf bytes.Buffer
	n, err := svc.Export(ctx, staff, f, vouchers.CSV, &buf)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	if err != nil || uint64(n) != page.Total || len(records) != n+1 {
		t.Fatalf("export of %d rows, %d records, %d vouchers: %v", n, len(records), page.Total, err)
	}
	rows, _, err := a.DB.QueryAudit(ctx, store.AuditFilter{Action: "vouchers.export", Limit: 10})
	if err != nil || len(rows) != 1 || rows[0].Actor != "sam" || rows[0].Params["rows"] != strconv.Itoa(n) {
		t.Fatalf("audit %+v %v", rows, err)
	}
	if _, err := svc.Export(ctx, staff, f, "pdf", &buf); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("a PDF export: %v", err)
	}

	// A reseller's login without its key reads nothing, and says why.
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: sb.DemoSubAgent().Uin}}
	sf, err := svc.ParseQuery(ctx, sub, vouchers.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := svc.List(ctx, sub, apicache.Fresh, sf); err != nil || !errors.Is(l.Blocked, keyring.ErrNoResellerKey) {
		t.Fatalf("without a key: %v %v", l.Blocked, err)
	}
	// Nor may it name a direct customer.
	if _, err := svc.ParseQuery(ctx, sub, vouchers.Query{Customer: strconv.FormatInt(page.Items[0].CustomerUin, 10)}); apperr.Fields(err)["customer"] == nil {
		t.Errorf("a reseller's login named a direct customer: %v", err)
	}
	nobody := audit.Actor{Principal: auth.Principal{UserID: 3, Role: "nobody"}}
	if _, err := svc.ParseQuery(ctx, nobody, vouchers.Query{}); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a role without vouchers: %v", err)
	}
}

func TestVoucherUsageAddsUp(t *testing.T) {
	ctx := t.Context()
	a, _ := world(t)
	svc := vouchers.New(vouchers.Options{DB: a.DB, Clients: a.Keys, Customers: a.Customers, Cache: a.Cache})
	fin := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleFinance}}
	f, err := svc.ParseQuery(ctx, fin, vouchers.Query{Status: "Used"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.List(ctx, fin, apicache.Fresh, f)
	if err != nil || l.Vouchers.Value == nil || len(l.Vouchers.Value.Items) == 0 {
		t.Fatalf("no used voucher: %v", err)
	}
	v := l.Vouchers.Value.Items[0]
	u, err := svc.UsageOf(ctx, fin, apicache.Fresh, strconv.FormatInt(v.CustomerUin, 10), strconv.FormatInt(v.VoucherId, 10), "", "")
	if err != nil || u.Detail.Value == nil {
		t.Fatalf("usage: %v %v", err, u.Detail.Err)
	}
	sum := partnerapi.MustAmount("0").Decimal()
	for _, d := range u.Detail.Value.Data {
		sum = sum.Add(d.Amount.Decimal())
	}
	if used := v.TotalAmount.Decimal().Sub(v.RemainingAmount.Decimal()); u.Pages == 1 && !sum.Equal(used) {
		t.Errorf("usage adds up to %s, the voucher used %s", sum, used)
	}
	if _, err := svc.UsageOf(ctx, fin, apicache.Fresh, "1", "5", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a UIN nobody has: %v", err)
	}
	if _, err := svc.UsageOf(ctx, fin, apicache.Fresh, strconv.FormatInt(v.CustomerUin, 10), "x", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a voucher id that is no number: %v", err)
	}
	// A real voucher's id behind thirty thousand zeros is no id: ids are
	// bounded before they reach the API, the audit log or a file name.
	if _, err := svc.UsageOf(ctx, fin, apicache.Fresh, strconv.FormatInt(v.CustomerUin, 10), strings.Repeat("0", 30000)+strconv.FormatInt(v.VoucherId, 10), "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a padded voucher id: %v", err)
	}
	if _, err := svc.UsageOf(ctx, fin, apicache.Fresh, strconv.FormatInt(v.CustomerUin, 10), "5", "2025-1", ""); apperr.Fields(err)["month"] == nil {
		t.Errorf("a bad month: %v", err)
	}
}
