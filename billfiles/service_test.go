package billfiles_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/billfiles"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/apptest"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// clock is the real time moved ahead by the test.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func world(t *testing.T, c *clock) (*app.App, *sandbox.Server, *billfiles.Service) {
	t.Helper()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 9, SandboxCustomers: 20, RateScale: 100, Now: c.now})
	return a, sb, billfiles.New(billfiles.Options{DB: a.DB, Clients: a.Keys, Customers: a.Customers, Own: a.Keys, Now: c.now})
}

// directCustomer is a direct customer of the sandbox's distributor.
func directCustomer(t *testing.T, a *app.App) uint64 {
	t.Helper()
	c, err := a.Keys.Distributor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryCustomersCredit(t.Context(), &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil || len(r.Data) == 0 {
		t.Fatalf("a customer: %v", err)
	}
	return r.Data[0].ClientUin
}

func TestABillFileUntilItsLinkExpires(t *testing.T) {
	ctx := t.Context()
	c := &clock{}
	a, sb, svc := world(t, c)
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Username: "sam", Role: auth.RoleStaff}}
	other := audit.Actor{Principal: auth.Principal{UserID: 2, Username: "fay", Role: auth.RoleFinance}}
	uin := directCustomer(t, a)
	month := c.now().UTC().AddDate(0, -1, 0).Format("2006-01")

	f, err := svc.RequestBill(ctx, staff, billfiles.Request{Customer: strconv.FormatUint(uin, 10), Month: month, FileType: "billDetail"})
	if err != nil {
		t.Fatal(err)
	}
	if f.State != billfiles.Generating || f.URL != "" || f.Language != "en" || f.UinType != "Customer" {
		t.Fatalf("first answer %+v", f)
	}
	calls := sb.Requests(partnerapi.ActionDescribeCustomerBillDownloadUrl)
	// Asked again at once, the service shows the last answer.
	if g, err := svc.Check(ctx, staff, f.ID, billfiles.KindBill); err != nil || g.State != billfiles.Generating ||
		sb.Requests(partnerapi.ActionDescribeCustomerBillDownloadUrl) != calls {
		t.Fatalf("an immediate check: %+v %v", g, err)
	}
	c.advance(billfiles.CheckEvery)
	g, err := svc.Check(ctx, staff, f.ID, billfiles.KindBill)
	if err != nil || g.State != billfiles.Ready || g.URL == "" || !g.Expires.Equal(g.Checked.Add(billfiles.LinkLife)) {
		t.Fatalf("a later check: %+v %v", g, err)
	}
	if _, err := svc.Check(ctx, other, f.ID, billfiles.KindBill); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("someone else's request: %v", err)
	}
	if _, err := svc.Check(ctx, staff, f.ID, billfiles.KindCommission); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a bill file as a commission file: %v", err)
	}
	if mine := svc.Mine(staff, billfiles.KindBill); len(mine) != 1 || mine[0].URL != g.URL {
		t.Errorf("the person's requests: %+v", mine)
	}
	c.advance(billfiles.LinkLife)
	if g, err := svc.Check(ctx, staff, f.ID, billfiles.KindBill); err != nil || g.State != billfiles.Expired || g.URL != "" {
		t.Fatalf("past the link's life: %+v %v", g, err)
	}
	c.advance(billfiles.RequestLife + billfiles.LinkLife)
	if _, err := svc.Check(ctx, staff, f.ID, billfiles.KindBill); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("a request past its life is still kept: %v", err)
	}
	rows, _, err := a.DB.QueryAudit(ctx, store.AuditFilter{Action: "billfile.request", Limit: 10})
	if err != nil || len(rows) != 1 || rows[0].TargetUin != uin || rows[0].RequestId == "" {
		t.Fatalf("audit %+v %v", rows, err)
	}
}

func TestBillFileRules(t *testing.T) {
	ctx := t.Context()
	c := &clock{}
	a, sb, svc := world(t, c)
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleStaff}}
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: sb.DemoSubAgent().Uin}}
	uin := strconv.FormatUint(directCustomer(t, a), 10)
	month := c.now().UTC().AddDate(0, -1, 0).Format("2006-01")
	for _, tc := range []struct {
		name  string
		actor audit.Actor
		in    billfiles.Request
		field string
	}{
		{"bad month", staff, billfiles.Request{Customer: uin, Month: "2025-00", FileType: "billDetail"}, "month"},
		{"too early", staff, billfiles.Request{Customer: uin, Month: "2022-05", FileType: "billDetail"}, "month"},
		{"future", staff, billfiles.Request{Customer: uin, Month: "2199-01", FileType: "billDetail"}, "month"},
		{"bad type", staff, billfiles.Request{Customer: uin, Month: month, FileType: "L3"}, "type"},
		{"bad language", staff, billfiles.Request{Customer: uin, Month: month, FileType: "billDetail", Language: "de"}, "language"},
		{"no customer", staff, billfiles.Request{Month: month, FileType: "billDetail"}, "customer"},
		{"customer of a package", staff, billfiles.Request{Customer: uin, Month: month, FileType: "billResourcePack"}, "customer"},
		{"bad scope", staff, billfiles.Request{Month: month, FileType: "billResourcePack", Scope: "Reseller"}, "scope"},
		{"a reseller's login: another's customer", sub, billfiles.Request{Customer: uin, Month: month, FileType: "billDetail"}, "customer"},
		{"a reseller's login: a package", sub, billfiles.Request{Month: month, FileType: "billDetailPack"}, "type"},
	} {
		_, err := svc.RequestBill(ctx, tc.actor, tc.in)
		if apperr.KindOf(err) != apperr.Invalid || apperr.Fields(err)[tc.field] == nil {
			t.Errorf("%s: %v, want a problem with %s", tc.name, err, tc.field)
		}
	}
	// A package of the resellers' customers is the partner's to ask for.
	if f, err := svc.RequestBill(ctx, staff, billfiles.Request{Month: month, FileType: "billDetailPack", Scope: "ResellerCustomer"}); err != nil || f.UinType != "ResellerCustomer" {
		t.Errorf("a package of resellers' customers: %+v %v", f, err)
	}
	if _, err := svc.RequestCommission(ctx, sub, month); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a reseller's login asked for commission: %v", err)
	}
	// Each person keeps at most MaxPerUser requests, the oldest going first.
	var first string
	for i := range billfiles.MaxPerUser + 1 {
		c.advance(time.Second)
		f, err := svc.RequestCommission(ctx, staff, month)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = f.ID
		}
	}
	if n := len(svc.Mine(staff, billfiles.KindCommission)) + len(svc.Mine(staff, billfiles.KindBill)); n != billfiles.MaxPerUser {
		t.Errorf("%d requests kept", n)
	}
	if _, err := svc.Check(ctx, staff, first, billfiles.KindCommission); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("the oldest request is still kept: %v", err)
	}
}
