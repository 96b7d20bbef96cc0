package jobs_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// healthyCustomer returns a direct customer of the sandbox with more than
// half its credit left, giving one credit first if none has.
func (r *rig) healthyCustomer() (uin uint64, credit, remaining decimal.Decimal) {
	r.t.Helper()
	cs := r.customers()
	for _, c := range cs {
		cr, rem := c.Credit.Decimal(), c.RemainingCredit.Decimal()
		if cr.IsPositive() && rem.Mul(decimal.NewFromInt(2)).GreaterThan(cr) {
			return c.ClientUin, cr, rem
		}
	}
	c := cs[0]
	if _, err := r.client.AllocateCustomerCredit(r.t.Context(), &partnerapi.AllocateCustomerCreditRequest{ClientUin: c.ClientUin,
		AddedCredit: partnerapi.AmountFromDecimal(decimal.NewFromInt(1000))}); err != nil {
		r.t.Fatal(err)
	}
	return c.ClientUin, c.Credit.Decimal().Add(decimal.NewFromInt(1000)), c.RemainingCredit.Decimal().Add(decimal.NewFromInt(1000))
}

// takeBackTo is the (negative) allocation that leaves share of the credit
// available: a take-back lowers the credit and the available credit alike,
// so taking x leaves (remaining - x) / (credit - x).
func takeBackTo(credit, remaining decimal.Decimal, share string) decimal.Decimal {
	s := decimal.RequireFromString(share)
	return remaining.Sub(credit.Mul(s)).DivRound(decimal.NewFromInt(1).Sub(s), 2).Neg()
}

func (r *rig) crossings(uin uint64) []store.AuditEntry {
	r.t.Helper()
	rows, _, err := r.db.QueryAudit(r.t.Context(), store.AuditFilter{Action: watch.Action, TargetUin: uin, Limit: store.MaxAuditLimit})
	if err != nil {
		r.t.Fatal(err)
	}
	return rows
}

func (r *rig) watchState(uin uint64) *store.WatchState {
	r.t.Helper()
	s, err := r.db.WatchState(r.t.Context(), uin)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return &s
}

// TestDirectoryRefreshFeedsTheWatch checks that a directory refresh
// evaluates every direct customer's credit: one taken down to 5 % is past
// the 10 % threshold, audited once however often the refresh runs again.
func TestDirectoryRefreshFeedsTheWatch(t *testing.T) {
	r := newRigWith(t, rigOptions{customers: 30, scale: 1000})
	uin, credit, remaining := r.healthyCustomer()
	if _, err := r.client.AllocateCustomerCredit(t.Context(), &partnerapi.AllocateCustomerCreditRequest{ClientUin: uin,
		AddedCredit: partnerapi.AmountFromDecimal(takeBackTo(credit, remaining, "0.05"))}); err != nil {
		t.Fatal(err)
	}
	e := r.engine()
	r.start(e)
	for run := range 2 {
		j := r.waitFor(e, startDirectory(r, e), "an end", ended)
		if j.Status != store.JobDone {
			t.Fatalf("directory job %s: %s", j.Status, j.Error)
		}
		st := r.watchState(uin)
		if st == nil || st.Kind != store.WatchPercent || st.Value != "10" {
			t.Fatalf("run %d: state %+v, want past 10 %%", run+1, st)
		}
		rows := r.crossings(uin)
		if len(rows) != 1 || rows[0].Params["via"] != "directory" || rows[0].Params["job"] == "" || rows[0].Params["threshold"] != "percent:10" {
			t.Fatalf("run %d: crossings %+v, want the first run's alone", run+1, rows)
		}
	}
	// Nobody else in the sandbox's world is past 10 % without being listed.
	list, total, err := r.db.WatchedCustomers(t.Context(), store.WatchQuery{Limit: store.MaxCustomerLimit})
	if err != nil || total == 0 || len(list) != total {
		t.Fatalf("%d listed of %d, %v", len(list), total, err)
	}
	for _, c := range list {
		row, err := r.db.CustomerByUin(t.Context(), c.Uin)
		if err != nil || row.Credit != c.Credit || row.RemainingCredit != c.Remaining {
			t.Errorf("customer %d: state of %s/%s, row %s/%s (%v)", c.Uin, c.Remaining, c.Credit, row.RemainingCredit, row.Credit, err)
		}
	}
}

// TestAllocationFeedsTheWatch checks that a successful allocation
// evaluates the figures its answer carries: a take-back to 20 % crosses
// 25 % at once, with the job and RequestId in the audit row, and a top-up
// clears it.
func TestAllocationFeedsTheWatch(t *testing.T) {
	r := newRigWith(t, rigOptions{customers: 12, scale: 1000})
	uin, credit, remaining := r.healthyCustomer()
	if _, err := jobs.RefreshCustomer(t.Context(), r.client, r.db, uin); err != nil {
		t.Fatal(err)
	}
	if st := r.watchState(uin); st != nil {
		t.Fatalf("a healthy customer is past %+v", st)
	}
	e := r.engine()
	r.start(e)
	take := r.submitWrites(e, r.owner, jobs.WriteParams{Interactive: true}, jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit,
		ClientUin: uin, AddedCredit: takeBackTo(credit, remaining, "0.20").String(), Remark: "take back"})
	if j := r.waitFor(e, take.ID, "an end", ended); j.Status != store.JobDone {
		t.Fatalf("take-back %s: %s", j.Status, j.Error)
	}
	st := r.watchState(uin)
	if st == nil || st.Kind != store.WatchPercent || st.Value != "25" {
		t.Fatalf("after the take-back: %+v", st)
	}
	rows := r.crossings(uin)
	if len(rows) != 1 || rows[0].Params["via"] != "allocation" || rows[0].RequestId == "" || rows[0].Params["job"] == "" {
		t.Fatalf("crossings %+v", rows)
	}
	top := r.submitWrites(e, r.owner, jobs.WriteParams{Interactive: true}, jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit,
		ClientUin: uin, AddedCredit: credit.String(), Remark: "top up"})
	if j := r.waitFor(e, top.ID, "an end", ended); j.Status != store.JobDone {
		t.Fatalf("top-up %s: %s", j.Status, j.Error)
	}
	if st := r.watchState(uin); st != nil {
		t.Fatalf("after the top-up still past %+v", st)
	}
	if rows := r.crossings(uin); len(rows) != 1 {
		t.Fatalf("a top-up is no crossing: %d rows", len(rows))
	}
}
