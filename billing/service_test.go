package billing_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/billing"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/apptest"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// world is a small sandbox world with its directory and every recent
// month's bills read by the jobs.
type world struct {
	app   *app.App
	staff audit.Actor
}

func newWorld(t *testing.T, customers int) *world {
	t.Helper()
	return newWorldWith(t, customers, nil)
}

// newWorldWith is newWorld with something done before the bills are read.
func newWorldWith(t *testing.T, customers int, before func(a *app.App)) *world {
	t.Helper()
	ctx := t.Context()
	a, _ := apptest.Start(t, app.Config{SandboxSeed: 5, SandboxCustomers: customers, RateScale: 200})
	u, err := store.WriteReturning(ctx, a.DB, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(ctx, store.User{Username: "sam", Role: string(auth.RoleStaff), PasswordHash: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{app: a, staff: audit.UserActor(u, "test")}
	dir, _, err := a.Jobs.StartDirectoryRefresh(ctx, w.staff)
	if err != nil {
		t.Fatal(err)
	}
	w.await(t, dir.ID)
	if before != nil {
		before(a)
	}
	var ids []int64
	for _, m := range a.Billing.Months() {
		j, _, err := a.Billing.Refresh(ctx, w.staff, m)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		w.await(t, id)
	}
	return w
}

func (w *world) await(t *testing.T, id int64) {
	t.Helper()
	out, err := w.app.Jobs.Await(t.Context(), id, time.Minute)
	if err != nil || !out.Ended || out.Job.Status != store.JobDone {
		t.Fatalf("job %d: %+v, %v", id, out.Job, err)
	}
}

// detailSum pages through the sandbox's detail lines and sums them in decimal.
func detailSum(t *testing.T, c *partnerapi.Client, uin uint64, month string) decimal.Decimal {
	t.Helper()
	sum := decimal.Zero
	for page := int64(1); ; page++ {
		r, err := c.DescribeCustomerBillDetail(t.Context(), &partnerapi.DescribeCustomerBillDetailRequest{CustomerUin: uin, Month: month, Page: page, PageSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range r.DetailSet {
			sum = sum.Add(decimal.RequireFromString(l.TotalCost))
		}
		if int64(len(r.DetailSet)) < 200 || page*200 >= r.Total {
			return sum
		}
	}
}

// TestTotalsEqualTheDetailLines proves, for every customer and month of a
// small world, that the overview's and the customer month's totals equal
// the sandbox's detail lines summed in decimal.
func TestTotalsEqualTheDetailLines(t *testing.T) {
	w := newWorld(t, 6)
	ctx := t.Context()
	svc := w.app.Billing
	c, err := w.app.Keys.Distributor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	direct := uint64(0)
	cs, n, err := w.app.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, Sort: "uin", Limit: 100})
	if err != nil || n == 0 {
		t.Fatalf("%d direct customers, %v", n, err)
	}
	current := svc.Months()[0]
	nonzero := 0
	for _, month := range svc.Months() {
		f, err := svc.ParseQuery(w.staff, billing.Query{Month: month, Sort: "uin"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := svc.Overview(ctx, w.staff, f)
		if err != nil {
			t.Fatal(err)
		}
		if o.Customers != n || len(o.Rows) != n || o.Of != n {
			t.Fatalf("%s: %d rows of %d customers (of %d), want %d", month, len(o.Rows), o.Customers, o.Of, n)
		}
		partner := decimal.Zero
		for i, cu := range cs {
			want := detailSum(t, c, cu.Uin, month)
			partner = partner.Add(want)
			if !want.IsZero() {
				nonzero++
			}
			if r := o.Rows[i]; r.Uin != cu.Uin || !r.Amount.Equal(want) {
				t.Errorf("%s, customer %d: overview %s, detail lines %s", month, cu.Uin, r.Amount, want)
			}
			df, _ := billing.ParseDetail(billing.DetailQuery{})
			m, err := svc.CustomerMonth(ctx, w.staff, cu.Uin, month, apicache.Fresh, df)
			if err != nil || m.Blocked != nil {
				t.Fatalf("%s, customer %d: %v %v", month, cu.Uin, err, m.Blocked)
			}
			if m.Total.Value == nil || !m.Total.Value.Decimal().Equal(want) {
				t.Errorf("%s, customer %d: total %+v, detail lines %s", month, cu.Uin, m.Total, want)
			}
			for name, part := range map[string]*[]store.BillPart{"products": m.Products.Value, "regions": m.Regions.Value} {
				if part == nil {
					t.Fatalf("%s, customer %d: no %s", month, cu.Uin, name)
				}
				if sum, ok := billing.Sum(*part); !ok || !sum.Equal(want) {
					t.Errorf("%s, customer %d: %s sum %s, detail lines %s", month, cu.Uin, name, sum, want)
				}
			}
			if sum, ok := billing.PayModeSum(*m.PayModes.Value); !ok || !sum.Equal(want) {
				t.Errorf("%s, customer %d: pay modes sum %s, detail lines %s", month, cu.Uin, sum, want)
			}
			for _, pm := range *m.PayModes.Value {
				if sum, ok := billing.Sum(pm.Actions); !ok || sum.String() != decimal.RequireFromString(pm.Total).String() {
					t.Errorf("%s, customer %d: %s's transaction types sum %s, its total %s", month, cu.Uin, pm.Code, sum, pm.Total)
				}
			}
			if month != current {
				// The current month's last day is still to come in the API's zone.
				if sum := billing.DailySum(*m.Daily.Value); !sum.Equal(want) {
					t.Errorf("%s, customer %d: daily sum %s, detail lines %s", month, cu.Uin, sum, want)
				}
			}
			if m.Details.Value == nil || m.Details.Value.Total < int64(len(m.Details.Value.Lines)) {
				t.Errorf("%s, customer %d: details %+v", month, cu.Uin, m.Details)
			}
		}
		if !o.Total.Equal(partner) {
			t.Errorf("%s: partner total %s, detail lines %s", month, o.Total, partner)
		}
		if o.Months[len(o.Months)-1].Month != month || !o.Months[len(o.Months)-1].Total.Equal(partner) {
			t.Errorf("%s: the chart ends with %+v", month, o.Months[len(o.Months)-1])
		}
	}
	if nonzero == 0 {
		t.Fatal("the world has no bills at all: the test proves nothing")
	}
}

func TestRolesAndExports(t *testing.T) {
	w := newWorld(t, 4)
	ctx := t.Context()
	svc := w.app.Billing
	sb, err := w.app.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	sub := audit.Actor{Principal: auth.Principal{UserID: 99, Role: auth.RoleSubagent, SubagentUin: sb.DemoSubAgent().Uin}}
	finance := audit.Actor{Principal: auth.Principal{UserID: 98, Role: auth.RoleFinance}}
	direct := uint64(0)
	cs, _, err := w.app.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &direct, Sort: "uin", Limit: 1})
	if err != nil || len(cs) == 0 {
		t.Fatal(err)
	}
	month := svc.Months()[1]
	df, _ := billing.ParseDetail(billing.DetailQuery{})

	// A reseller's login sees its own customers only.
	f, err := svc.ParseQuery(sub, billing.Query{Month: month})
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Overview(ctx, sub, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Rows {
		if r.ResellerUin != sub.OnBehalfOf() {
			t.Fatalf("a reseller's login sees customer %d of %d", r.Uin, r.ResellerUin)
		}
	}
	if _, err := svc.CustomerMonth(ctx, sub, cs[0].Uin, month, apicache.Fresh, df); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a reseller's login opened a direct customer's month: %v", err)
	}
	if err := svc.ExportMonth(ctx, sub, cs[0].Uin, month, df, billing.XLSX, "", &bytes.Buffer{}); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a reseller's login exported a direct customer's month: %v", err)
	}
	if _, _, err := svc.Refresh(ctx, finance, month); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("finance started a refresh: %v", err)
	}
	if _, err := svc.ParseQuery(finance, billing.Query{Month: "2020-01"}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("an old month: %v", err)
	}

	// Exports: the overview as CSV, a customer's month as XLSX, both audited.
	f, err = svc.ParseQuery(finance, billing.Query{Month: month})
	if err != nil {
		t.Fatal(err)
	}
	var csvOut bytes.Buffer
	if err := svc.ExportOverview(ctx, finance, f, billing.CSV, "", &csvOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csvOut.String(), "\uFEFFuin,name,") {
		t.Fatalf("CSV starts %q", csvOut.String()[:min(40, csvOut.Len())])
	}
	var xlsx bytes.Buffer
	if err := svc.ExportMonth(ctx, finance, cs[0].Uin, month, df, billing.XLSX, "", &xlsx); err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(&xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if got := book.GetSheetList(); strings.Join(got, ",") != "paymodes,products,regions,daily,details" {
		t.Fatalf("sheets %v", got)
	}
	rows, _, err := w.app.DB.QueryAudit(ctx, store.AuditFilter{Action: billing.ExportAction, Limit: 10})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d export rows, %v", len(rows), err)
	}
	if rows[0].TargetUin != cs[0].Uin || rows[0].Params["format"] != "xlsx" || rows[1].Params["format"] != "csv" || rows[1].Params["month"] != month {
		t.Fatalf("audit rows %+v", rows)
	}
}

// TestResellersCustomersWithTheirKey: with a second-level reseller's own
// key stored, the refresh reads its customers with it, and the reseller's
// login finds them, and only them, on its overview.
func TestResellersCustomersWithTheirKey(t *testing.T) {
	var reseller uint64
	w := newWorldWith(t, 4, func(a *app.App) {
		sb, err := a.Sandbox()
		if err != nil {
			t.Fatal(err)
		}
		demo := sb.DemoSubAgent()
		reseller = demo.Uin
		if _, err := a.Keys.Save(t.Context(), audit.CommandLine(), keyring.Input{Kind: store.CredentialSubagent,
			SubagentUin: strconv.FormatUint(demo.Uin, 10), SecretID: demo.Credential.SecretId, SecretKey: demo.Credential.SecretKey}); err != nil {
			t.Fatal(err)
		}
	})
	ctx := t.Context()
	svc := w.app.Billing
	mine, n, err := w.app.DB.SearchCustomers(ctx, store.CustomerQuery{ResellerUin: &reseller, Sort: "uin", Limit: 100})
	if err != nil || n == 0 {
		t.Fatalf("reseller %d has %d customers, %v", reseller, n, err)
	}
	sub := audit.Actor{Principal: auth.Principal{UserID: 99, Role: auth.RoleSubagent, SubagentUin: reseller}}
	month := svc.Months()[1]
	f, err := svc.ParseQuery(sub, billing.Query{Month: month, Sort: "uin"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Overview(ctx, sub, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Rows) != len(mine) {
		t.Fatalf("the reseller's login sees %d rows of its %d customers", len(o.Rows), len(mine))
	}
	c, err := w.app.Keys.ActAs(ctx, reseller)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range o.Rows {
		if r.Uin != mine[i].Uin || r.ResellerUin != reseller {
			t.Fatalf("row %d: %+v", i, r.BillRow)
		}
		if want := detailSum(t, c, r.Uin, month); !r.Amount.Equal(want) {
			t.Errorf("customer %d: %s, detail lines %s", r.Uin, r.Amount, want)
		}
	}
	// The partner's people count the direct customers as before.
	f, _ = svc.ParseQuery(w.staff, billing.Query{Month: month})
	if o, err = svc.Overview(ctx, w.staff, f); err != nil || o.DirectRead != o.Of || o.Customers != o.Of+len(mine) {
		t.Fatalf("partner overview: %d of %d direct, %d rows, %v", o.DirectRead, o.Of, o.Customers, err)
	}
}
