package handlers_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/users"
)

// fourEyesOn switches four-eyes approval on as the admin, through the
// settings page.
func (p *portal) fourEyesOn(threshold string, hours int) {
	p.t.Helper()
	admin := p.login("admin")
	r := p.post(admin, "/admin/four-eyes", url.Values{"enabled": {"on"}, "threshold": {threshold}, "expiry": {strconv.Itoa(hours)}})
	if r.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("four-eyes settings: %d %s", r.StatusCode, r.Body)
	}
}

// approval reads a request as stored.
func (p *portal) approval(id int64) store.ApprovalRequest {
	p.t.Helper()
	a, err := p.db.ApprovalRequestByID(p.t.Context(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return a
}

// heldRequest reads the request number out of a held write's flash.
func (p *portal) heldRequest(c *http.Client, r response) int64 {
	p.t.Helper()
	page := p.follow(c, r)
	flash := byTestID(p.t, page.Body, "flash")
	if len(flash) != 1 {
		p.t.Fatalf("no flash after a held write: %s", page.Body)
	}
	msg := text(flash[0])
	i := strings.Index(msg, "#")
	if i < 0 {
		p.t.Fatalf("the flash names no request: %q", msg)
	}
	n := strings.TrimRightFunc(msg[i+1:], func(r rune) bool { return r < '0' || r > '9' })
	if j := strings.IndexFunc(n, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
		n = n[:j]
	}
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		p.t.Fatalf("the flash names no request: %q", msg)
	}
	return id
}

func TestApprovalSuspensionWaitsForASecondPerson(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("1000", 24)
	staff, admin := p.login("staff"), p.login("admin")
	uin := p.directCustomers(2)[1]
	path := "/customers/" + strconv.FormatUint(uin, 10)
	name := p.row(uin).Name

	r := p.post(staff, path+"/suspend", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	id := p.heldRequest(staff, r)
	if n := p.sandbox.Requests(partnerapi.ActionForceQN); n != 0 || p.row(uin).Force == 2 {
		t.Fatalf("a held suspension reached the API: %d calls", n)
	}
	if a := p.approval(id); a.State != store.ApprovalPending || a.RequestedBy != p.users["staff"].ID || a.Holds != "suspension" {
		t.Fatalf("request %+v", a)
	}

	t.Run("the replayed form joins the request", func(t *testing.T) {
		again := p.post(staff, path+"/suspend", nil)
		if got := p.heldRequest(staff, again); got != id {
			t.Errorf("a replayed suspension made request %d, want %d", got, id)
		}
		if p.sandbox.Requests(partnerapi.ActionForceQN) != 0 {
			t.Error("the replay reached the API")
		}
	})
	t.Run("the requester cannot decide", func(t *testing.T) {
		for _, action := range []string{"approve", "reject"} {
			r := p.post(staff, "/approvals/"+itoa(id)+"/"+action, url.Values{"reason": {"mine"}})
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("%s own request: %d", action, r.StatusCode)
			}
		}
		page := p.get(staff, "/approvals/"+itoa(id))
		if len(byTestID(t, page.Body, "approve-form")) != 0 || len(byTestID(t, page.Body, "approval-own")) != 1 {
			t.Error("the requester is offered the decision")
		}
		if p.approval(id).State != store.ApprovalPending || p.sandbox.Requests(partnerapi.ActionForceQN) != 0 {
			t.Error("the requester's own decision took effect")
		}
	})
	t.Run("who sees it", func(t *testing.T) {
		if r := p.get(p.login("finance"), "/approvals"); r.StatusCode != http.StatusForbidden {
			t.Errorf("finance: %d", r.StatusCode)
		}
		sub := p.login("subagent")
		if r := p.get(sub, "/approvals/"+itoa(id)); r.StatusCode != http.StatusNotFound {
			t.Errorf("a reseller's login opened the distributor's request: %d", r.StatusCode)
		}
		if r := p.post(sub, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("a reseller's login approved: %d", r.StatusCode)
		}
		if rows := byTestID(t, p.get(sub, "/approvals").Body, "approval-row"); len(rows) != 0 {
			t.Errorf("a reseller's login lists %d distributor requests", len(rows))
		}
		list := p.get(admin, "/approvals")
		rows := byTestID(t, list.Body, "approval-row")
		if len(rows) != 1 || attr(rows[0], "data-id") != itoa(id) || !strings.Contains(text(rows[0]), name) {
			t.Fatalf("the admin's list: %d rows", len(rows))
		}
		if c := byTestID(t, list.Body, "nav-count"); len(c) != 1 || !strings.Contains(text(c[0]), "1") {
			t.Error("the navigation does not count the waiting request")
		}
		mine := p.get(staff, "/approvals?list=mine")
		if rows := byTestID(t, mine.Body, "approval-row"); len(rows) != 1 {
			t.Errorf("the requester's own list has %d rows", len(rows))
		}
	})

	page := p.get(admin, "/approvals/"+itoa(id))
	confirm := byTestID(t, page.Body, "approve-confirm")
	if len(confirm) != 1 || !strings.Contains(text(confirm[0]), name) {
		t.Fatalf("the approve button does not name %q", name)
	}
	if p.sandbox.Requests(partnerapi.ActionForceQN) != 0 {
		t.Fatal("opening the request sent something")
	}
	ok := p.post(admin, "/approvals/"+itoa(id)+"/approve", nil)
	if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/approvals/"+itoa(id) {
		t.Fatalf("approve: %d %s", ok.StatusCode, ok.Body)
	}
	if n := p.sandbox.Requests(partnerapi.ActionForceQN); n != 1 {
		t.Fatalf("after approval, %d ForceQN calls", n)
	}
	if p.row(uin).Force != 2 {
		t.Error("the customer is not suspended")
	}
	a := p.approval(id)
	if a.State != store.ApprovalUsed || a.DecidedBy != p.users["admin"].ID || a.JobID == 0 {
		t.Fatalf("after approval: %+v", a)
	}
	if j, err := p.db.JobByID(t.Context(), a.JobID); err != nil || j.OwnerID != p.users["staff"].ID {
		t.Errorf("the job is not the requester's: %+v %v", j, err)
	}
	shown := p.follow(admin, ok)
	if s := byTestID(t, shown.Body, "approval-state"); len(s) != 1 || attr(s[0], "data-state") != store.ApprovalUsed {
		t.Error("the page does not show the request used")
	}

	t.Run("approving twice sends once", func(t *testing.T) {
		twice := p.post(admin, "/approvals/"+itoa(id)+"/approve", nil)
		if twice.StatusCode != http.StatusConflict {
			t.Errorf("second approval: %d", twice.StatusCode)
		}
		_, err := p.app.Jobs.SubmitWrites(t.Context(), audit.UserActor(p.users["staff"], "test"), a.Title,
			jobs.WriteParams{Interactive: true, Approval: id}, []jobs.WriteIntent{suspendIntent(uin)})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Conflict {
			t.Errorf("a used approval submitted again: %v", err)
		}
		if n := p.sandbox.Requests(partnerapi.ActionForceQN); n != 1 {
			t.Errorf("%d ForceQN calls, want 1", n)
		}
	})
	t.Run("audited", func(t *testing.T) {
		p.get(admin, "/approvals?list=decided") // records the outcome of ended jobs
		for _, action := range []string{"approval.request", "approval.approve", "approval.outcome"} {
			rows := p.auditRows(action)
			if len(rows) != 1 || rows[0].TargetUin != uin || rows[0].Params["request"] != itoa(id) {
				t.Errorf("%s: %+v", action, rows)
			}
		}
		if r := p.auditRows("approval.outcome"); len(r) == 1 && (r[0].Outcome != store.OutcomeOK || r[0].Params["ok"] != "1") {
			t.Errorf("outcome row %+v", r[0])
		}
		if r := p.auditRows("approval.approve"); len(r) == 1 && r[0].Actor != p.users["admin"].Username {
			t.Errorf("approved by %q", r[0].Actor)
		}
	})
}

func suspendIntent(uin uint64) jobs.WriteIntent {
	two := int64(2)
	return jobs.WriteIntent{Action: partnerapi.ActionForceQN, ClientUin: uin, Type: &two}
}

func TestApprovalRejectAndExpire(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("1000", 2)
	staff, admin := p.login("staff"), p.login("admin")
	uins := p.directCustomers(3)
	path := "/customers/" + strconv.FormatUint(uins[1], 10)
	id := p.heldRequest(staff, p.post(staff, path+"/suspend", nil))

	t.Run("a rejection needs a reason", func(t *testing.T) {
		r := p.post(admin, "/approvals/"+itoa(id)+"/reject", url.Values{"reason": {"  "}})
		if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-reason")) != 1 {
			t.Fatalf("status %d", r.StatusCode)
		}
	})
	r := p.post(admin, "/approvals/"+itoa(id)+"/reject", url.Values{"reason": {"Customer paid this morning"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", r.StatusCode)
	}
	if a := p.approval(id); a.State != store.ApprovalRejected || a.Reason != "Customer paid this morning" {
		t.Fatalf("after rejecting: %+v", a)
	}
	if reason := byTestID(t, p.get(staff, "/approvals/"+itoa(id)).Body, "approval-reason"); len(reason) != 1 {
		t.Error("the requester does not read the reason")
	}
	if r := p.post(admin, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusConflict {
		t.Errorf("approving a rejected request: %d", r.StatusCode)
	}
	if rows := p.auditRows("approval.reject"); len(rows) != 1 || rows[0].Params["reason"] != "Customer paid this morning" {
		t.Errorf("reject rows %+v", rows)
	}

	// Expiry: two hours later nobody may approve.
	path = "/customers/" + strconv.FormatUint(uins[2], 10)
	late := p.heldRequest(staff, p.post(staff, path+"/suspend", nil))
	p.advance(2*time.Hour + time.Minute)
	admin = p.login("admin") // the session ended meanwhile
	if r := p.post(admin, "/approvals/"+itoa(late)+"/approve", nil); r.StatusCode != http.StatusConflict {
		t.Errorf("approving an expired request: %d", r.StatusCode)
	}
	if a := p.approval(late); a.State != store.ApprovalExpired {
		t.Errorf("state %s, want expired", a.State)
	}
	if rows := p.auditRows("approval.expire"); len(rows) != 1 || rows[0].Params["request"] != itoa(late) {
		t.Errorf("expire rows %+v", rows)
	}
	if n := p.sandbox.Requests(partnerapi.ActionForceQN); n != 0 {
		t.Errorf("%d ForceQN calls", n)
	}
}

// TestApprovalGateHoldsBulkWrites: a writes job of many intents submitted
// straight to the jobs service (as bulk allocation and the command line
// do) is held whole, and nothing but a valid approval lets it go.
func TestApprovalGateHoldsBulkWrites(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("500", 24)
	ctx := t.Context()
	staff := audit.UserActor(p.users["staff"], "test")
	uins := p.directCustomers(20)
	var intents []jobs.WriteIntent
	for _, u := range uins {
		intents = append(intents, jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: u, AddedCredit: "1.25", Remark: "bulk"})
	}

	small, err := p.app.Jobs.SubmitWrites(ctx, staff, "Small allocations", jobs.WriteParams{}, intents[:3])
	if err != nil || small.ID == 0 {
		t.Fatalf("allocations under the amount were held: %v", err)
	}
	p.waitJob(small.ID)
	before := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit)
	// Each allocation carries its idempotency key, as a bulk allocation's
	// lines do, so the approved writes are the very ones held.
	for i := range intents {
		intents[i].Key = "bulk-line-" + strconv.Itoa(i)
	}

	intents[7].AddedCredit = "500.01" // one line above the amount holds the whole job
	_, err = p.app.Jobs.SubmitWrites(ctx, staff, "Bulk allocation", jobs.WriteParams{}, intents)
	var held *jobs.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("a bulk job with a line above the amount: %v", err)
	}
	a := p.approval(held.Request)
	if a.Writes != len(intents) || a.Holds != "over_limit" || a.Amount != decimal.RequireFromString("1.25").Mul(decimal.NewFromInt(19)).Add(decimal.RequireFromString("500.01")).String() {
		t.Errorf("request %+v", a)
	}
	jobsList, _, err := p.db.ListJobs(ctx, store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobsList {
		if j.Title == "Bulk allocation" {
			t.Errorf("the held job %d was stored", j.ID)
		}
	}

	// An approval that is not approved, or for other writes, lets nothing go.
	for name, params := range map[string]jobs.WriteParams{"pending": {Approval: held.Request}, "unknown": {Approval: 999999}} {
		if _, err := p.app.Jobs.SubmitWrites(ctx, staff, "Bulk allocation", params, intents); err == nil || errors.As(err, &held) {
			t.Errorf("%s approval: %v", name, err)
		}
	}
	if err := p.db.Write(ctx, func(tx *store.Tx) error {
		return tx.DecideApprovalRequest(ctx, held.Request, store.ApprovalPending, store.ApprovalApproved, p.users["admin"].ID, "admin-user", "")
	}); err != nil {
		t.Fatal(err)
	}
	other := append([]jobs.WriteIntent(nil), intents...)
	other[7].AddedCredit = "5000"
	if _, err := p.app.Jobs.SubmitWrites(ctx, staff, "Bulk allocation", jobs.WriteParams{Approval: held.Request}, other); err == nil {
		t.Error("an approval let other writes go")
	}
	admin := audit.UserActor(p.users["admin"], "test")
	if _, err := p.app.Jobs.SubmitWrites(ctx, admin, "Bulk allocation", jobs.WriteParams{Approval: held.Request}, intents); err == nil {
		t.Error("an approval let another person's job go")
	}
	if n := p.sandbox.Requests(partnerapi.ActionAllocateCustomerCredit); n != before {
		t.Fatalf("%d allocations reached the API before approval", n-before)
	}
	job, err := p.app.Jobs.SubmitWrites(ctx, staff, "Bulk allocation", jobs.WriteParams{Approval: held.Request}, intents)
	if err != nil {
		t.Fatalf("the approved writes: %v", err)
	}
	if j := p.waitJob(job.ID); j.Status != store.JobDone {
		t.Errorf("job %s", j.Status)
	}
	if _, err := p.app.Jobs.SubmitWrites(ctx, staff, "Bulk allocation", jobs.WriteParams{Approval: held.Request}, intents); err == nil {
		t.Error("the approval was used twice")
	}
}

// TestApprovalTakeBacks: a take-back waits unless the customer's
// available credit, read just before, stays above 0 after it.
func TestApprovalTakeBacks(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("1000", 24)
	ctx := t.Context()
	staff := audit.UserActor(p.users["staff"], "test")
	c, err := p.app.Keys.Distributor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uins := p.directCustomers(10)
	resp, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: uins})
	if err != nil {
		t.Fatal(err)
	}
	var uin uint64
	var have decimal.Decimal
	for _, d := range resp.Data {
		if d.RemainingCredit.Decimal().GreaterThan(decimal.NewFromInt(2)) {
			uin, have = d.Uin, d.RemainingCredit.Decimal()
			break
		}
	}
	if uin == 0 {
		t.Skip("no customer of the sandbox world has credit to take back")
	}
	takeBack := func(amount decimal.Decimal) []jobs.WriteIntent {
		return []jobs.WriteIntent{{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: uin, AddedCredit: amount.Neg().String()}}
	}
	var held *jobs.HeldError

	// Without a figure read first the gate cannot know: it holds.
	if _, err := p.app.Jobs.SubmitWrites(ctx, staff, "Take back 1", jobs.WriteParams{}, takeBack(decimal.NewFromInt(1))); !errors.As(err, &held) {
		t.Fatalf("an unread take-back: %v", err)
	}
	// Read first, a take-back that leaves credit goes.
	if err := p.app.Approvals.Prepare(ctx, jobs.WriteParams{}, takeBack(decimal.NewFromInt(1))); err != nil {
		t.Fatal(err)
	}
	job, err := p.app.Jobs.SubmitWrites(ctx, staff, "Take back 1", jobs.WriteParams{}, takeBack(decimal.NewFromInt(1)))
	if err != nil {
		t.Fatalf("a take-back that leaves credit was held: %v", err)
	}
	p.waitJob(job.ID)
	// One that takes everything waits, figure or not.
	all := have.Sub(decimal.NewFromInt(1))
	if err := p.app.Approvals.Prepare(ctx, jobs.WriteParams{}, takeBack(all)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.app.Jobs.SubmitWrites(ctx, staff, "Take back all", jobs.WriteParams{}, takeBack(all)); !errors.As(err, &held) {
		t.Fatalf("a take-back to 0: %v", err)
	}
	if a := p.approval(held.Request); a.Holds != "take_back" {
		t.Errorf("held for %q", a.Holds)
	}
}

func TestFourEyesSettings(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	page := p.get(admin, "/admin/four-eyes")
	if page.StatusCode != http.StatusOK || len(byTestID(t, page.Body, "foureyes-form")) != 1 {
		t.Fatalf("settings page %d", page.StatusCode)
	}
	if v := inputValue(t, page.Body, "threshold"); v != "1000.00" {
		t.Errorf("default amount %q", v)
	}
	for _, tc := range []struct {
		name, threshold, expiry, field string
	}{
		{"negative amount", "-1", "24", "threshold"},
		{"three decimals", "10.005", "24", "threshold"},
		{"not a number", "ten", "24", "threshold"},
		{"exponent", "1e9", "24", "threshold"},
		{"too long", strings.Repeat("9", 40), "24", "threshold"},
		{"no expiry", "10", "0", "expiry"},
		{"too long expiry", "10", "169", "expiry"},
		{"fraction of an hour", "10", "1.5", "expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.post(admin, "/admin/four-eyes", url.Values{"enabled": {"on"}, "threshold": {tc.threshold}, "expiry": {tc.expiry}})
			if r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-"+tc.field)) != 1 {
				t.Errorf("status %d", r.StatusCode)
			}
		})
	}
	if n := len(p.auditRows("foureyes.settings")); n != 0 {
		t.Fatalf("%d refused changes audited as made", n)
	}
	r := p.post(admin, "/admin/four-eyes", url.Values{"enabled": {"on"}, "threshold": {"2500.5"}, "expiry": {"48"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	set, err := p.app.Approvals.Settings(t.Context())
	if err != nil || !set.Enabled || set.Threshold.String() != "2500.5" || set.Expiry != 48*time.Hour {
		t.Fatalf("saved %+v %v", set, err)
	}
	rows := p.auditRows("foureyes.settings")
	if len(rows) != 1 || rows[0].Params["threshold"] != "2500.50" || rows[0].Params["was_enabled"] != "false" {
		t.Errorf("audit %+v", rows)
	}
	if r := p.get(p.login("staff"), "/admin/four-eyes"); r.StatusCode != http.StatusForbidden {
		t.Errorf("staff: %d", r.StatusCode)
	}
}

// TestApprovalOfAResellersRequest: a reseller's login's suspension waits
// too; its reseller's logins see the request but none of them may decide
// it (the control is the distributor's); the distributor's staff approve,
// and the write goes with the reseller's own key.
func TestApprovalOfAResellersRequest(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.saveSubagentKey()
	p.fourEyesOn("1000", 24)
	ctx := t.Context()
	sub := p.login("subagent")
	uins := rowUins(t, p.get(sub, "/customers/").Body)
	if len(uins) == 0 {
		t.Fatal("the reseller has no customers")
	}
	id := p.heldRequest(sub, p.post(sub, "/customers/"+uins[0]+"/suspend", nil))
	if a := p.approval(id); a.OnBehalfOf != p.subUin {
		t.Fatalf("the request is for reseller %d, want %d", a.OnBehalfOf, p.subUin)
	}

	colleague, _, err := p.app.Users.Create(ctx, audit.CommandLine(), users.Input{Username: "subagent-two", Role: "subagent",
		SubagentUin: strconv.FormatUint(p.subUin, 10)})
	if err != nil {
		t.Fatal(err)
	}
	p.setPassword(colleague, testPassword)
	other := p.browser()
	if r := p.post(other, "/login", url.Values{"username": {colleague.Username}, "password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	if rows := byTestID(t, p.get(other, "/approvals").Body, "approval-row"); len(rows) != 1 {
		t.Errorf("the reseller's other login lists %d requests", len(rows))
	}
	if r := p.post(other, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("the reseller's other login approved: %d", r.StatusCode)
	}
	if p.sandbox.Requests(partnerapi.ActionForceQN) != 0 {
		t.Fatal("the suspension reached the API before approval")
	}
	if r := p.post(p.login("staff"), "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff approval: %d", r.StatusCode)
	}
	n, _ := strconv.ParseUint(uins[0], 10, 64)
	if p.sandbox.Requests(partnerapi.ActionForceQN) != 1 || p.row(n).Force != 2 {
		t.Errorf("after approval: %d calls, force %d", p.sandbox.Requests(partnerapi.ActionForceQN), p.row(n).Force)
	}
	if rows := p.auditRows("approval.request"); len(rows) != 1 || rows[0].OnBehalfOf != p.subUin {
		t.Errorf("request rows %+v", rows)
	}
	// The requester sees the outcome on its request.
	page := p.get(sub, "/approvals/"+itoa(id))
	if s := byTestID(t, page.Body, "approval-state"); len(s) != 1 || attr(s[0], "data-state") != store.ApprovalUsed {
		t.Error("the requester does not see the request used")
	}
}

// TestApprovalSentAfterAnInterruption: a request approved whose writes job
// was never stored (the portal stopped in between) is sent by approving
// again — once.
func TestApprovalSentAfterAnInterruption(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("1000", 24)
	staff, admin := p.login("staff"), p.login("admin")
	uin := p.directCustomers(1)[0]
	id := p.heldRequest(staff, p.post(staff, "/customers/"+strconv.FormatUint(uin, 10)+"/suspend", nil))
	ctx := t.Context()
	if err := p.db.Write(ctx, func(tx *store.Tx) error {
		return tx.DecideApprovalRequest(ctx, id, store.ApprovalPending, store.ApprovalApproved, p.users["admin"].ID, "admin-user", "")
	}); err != nil {
		t.Fatal(err)
	}
	page := p.get(admin, "/approvals/"+itoa(id))
	if len(byTestID(t, page.Body, "approve-form")) != 1 || len(byTestID(t, page.Body, "reject-form")) != 0 {
		t.Fatal("an approved, unsent request is not offered to be sent")
	}
	if r := p.post(staff, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("the requester sent it: %d", r.StatusCode)
	}
	if r := p.post(admin, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", r.StatusCode)
	}
	if r := p.post(admin, "/approvals/"+itoa(id)+"/approve", nil); r.StatusCode != http.StatusConflict {
		t.Errorf("sending again: %d", r.StatusCode)
	}
	if n := p.sandbox.Requests(partnerapi.ActionForceQN); n != 1 || p.approval(id).State != store.ApprovalUsed {
		t.Errorf("%d ForceQN calls, state %s", n, p.approval(id).State)
	}
}

// TestApprovalConcurrentClicks: the same suspension posted from several
// tabs at once makes one request, and several approvers clicking at once
// send it once.
func TestApprovalConcurrentClicks(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	p.fourEyesOn("1000", 24)
	uin := p.directCustomers(1)[0]
	path := "/customers/" + strconv.FormatUint(uin, 10) + "/suspend"
	const n = 6
	staffTabs, approvers := make([]*http.Client, n), make([]*http.Client, n)
	for i := range n {
		staffTabs[i] = p.login("staff")
		approvers[i] = p.login("admin")
	}
	codes := make(chan int, n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			req, _ := http.NewRequest(http.MethodPost, p.ts.URL+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := staffTabs[i].Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range n {
		<-done
		if c := <-codes; c != http.StatusSeeOther {
			t.Errorf("a tab's suspension answered %d", c)
		}
	}
	rows, total, err := p.db.ListApprovalRequests(t.Context(), store.ApprovalFilter{})
	if err != nil || total != 1 {
		t.Fatalf("%d requests from %d tabs (%v)", total, n, err)
	}
	id := rows[0].ID
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			req, _ := http.NewRequest(http.MethodPost, p.ts.URL+"/approvals/"+itoa(id)+"/approve", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := approvers[i].Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	sent := 0
	for range n {
		<-done
		switch c := <-codes; c {
		case http.StatusSeeOther:
			sent++
		case http.StatusConflict:
		default:
			t.Errorf("an approval answered %d", c)
		}
	}
	if sent < 1 || p.sandbox.Requests(partnerapi.ActionForceQN) != 1 {
		t.Errorf("%d approvals went through, %d ForceQN calls; want the suspension sent once", sent, p.sandbox.Requests(partnerapi.ActionForceQN))
	}
}
