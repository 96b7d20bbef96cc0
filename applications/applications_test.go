package applications_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/applications"
	"resellerportal/audit"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/apptest"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/users"
)

// world is the portal built as `portal serve` builds it, over a sandbox,
// with a staff user and a reseller's login.
type world struct {
	app     *app.App
	sandbox *sandbox.Server
	svc     *applications.Service
	staff   audit.Actor
	sub     audit.Actor
	subUin  uint64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	a, sb := apptest.Start(t, app.Config{SandboxSeed: 5, SandboxCustomers: 20, RateScale: 100})
	w := &world{app: a, sandbox: sb, subUin: sb.DemoSubAgent().Uin}
	var err error
	w.svc, err = applications.New(applications.Options{Clients: a.Keys, Writes: a.Jobs, Cache: a.Cache, DB: a.DB, Wait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	staff, _, err := a.Users.Create(ctx, audit.CommandLine(), users.Input{Username: "sam", Role: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	sub, _, err := a.Users.Create(ctx, audit.CommandLine(), users.Input{Username: "sue", Role: "subagent", SubagentUin: strconv.FormatUint(w.subUin, 10)})
	if err != nil {
		t.Fatal(err)
	}
	w.staff, w.sub = audit.UserActor(staff, "192.0.2.1"), audit.UserActor(sub, "192.0.2.2")
	return w
}

func uins(list []applications.Applicant) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = strconv.FormatUint(a.Uin, 10)
	}
	return out
}

func TestDecideThroughAWriteJob(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	p, err := w.svc.Pending(ctx, w.staff, apicache.Fresh)
	if err != nil {
		t.Fatal(err)
	}
	if p.Customers.Value == nil || p.Resellers.Value == nil || !p.ShowResellers || !p.DecideCustomers || !p.DecideResellers {
		t.Fatalf("staff's view: %+v", p)
	}
	customers := uins(*p.Customers.Value)
	if len(customers) < 2 {
		t.Fatalf("%d pending customers", len(customers))
	}

	out, err := w.svc.Decide(ctx, w.staff, applications.Decision{Kind: applications.Customer, Uins: customers[:2], Verdict: applications.Pass})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Ended || len(out.Items) != 2 || out.Items[0].Status != store.ItemOK || out.Items[1].Status != store.ItemOK {
		t.Fatalf("outcome %+v", out)
	}
	if out.Job.Kind != "writes.apply" {
		t.Fatalf("a decision is a %s job", out.Job.Kind)
	}
	// The list is read again at once: the cache forgot it.
	again, err := w.svc.Pending(ctx, w.staff, apicache.Cached)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(*again.Customers.Value); n != len(customers)-2 {
		t.Fatalf("%d pending after two approvals, want %d", n, len(customers)-2)
	}
	for _, u := range customers[:2] {
		uin, _ := strconv.ParseUint(u, 10, 64)
		if c, err := w.app.DB.CustomerByUin(ctx, uin); err != nil || c.ResellerUin != 0 {
			t.Fatalf("approved %d: %+v %v", uin, c, err)
		}
	}
	// The decision is the decider's to see.
	if _, err := w.svc.Decision(ctx, w.staff, out.Job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Decision(ctx, w.sub, out.Job.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("the reseller's login sees staff's decision: %v", err)
	}

	// Decided already: refused beside the field, nothing sent.
	sent := w.sandbox.Requests(partnerapi.ActionApproveClientApply)
	_, err = w.svc.Decide(ctx, w.staff, applications.Decision{Kind: applications.Customer, Uins: customers[:1], Verdict: applications.Reject, Reason: "x"})
	if f := apperr.Fields(err)["uin"]; f == nil || f.Data["Uin"] != customers[0] {
		t.Fatalf("deciding again: %v", err)
	}
	if w.sandbox.Requests(partnerapi.ActionApproveClientApply) != sent {
		t.Fatal("a decision on an application no longer pending was sent")
	}
}

func TestResellerLoginActsWithItsOwnKey(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	p, err := w.svc.Pending(ctx, w.sub, apicache.Fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Customers.Err, keyring.ErrNoResellerKey) || p.ShowResellers {
		t.Fatalf("without its key: %+v", p)
	}
	if _, err := w.svc.Decide(ctx, w.sub, applications.Decision{Kind: applications.Customer, Uins: []string{"5"}, Verdict: applications.Pass}); !errors.Is(err, keyring.ErrNoResellerKey) {
		t.Fatalf("deciding without its key: %v", err)
	}

	var cred sandbox.Credential
	for _, c := range w.sandbox.Credentials() {
		if c.Uin == w.subUin && c.Role == "subagent" {
			cred = c
		}
	}
	if _, err := w.app.Keys.Save(ctx, audit.CommandLine(), keyring.Input{Kind: store.CredentialSubagent,
		SubagentUin: strconv.FormatUint(w.subUin, 10), SecretID: cred.SecretId, SecretKey: cred.SecretKey}); err != nil {
		t.Fatal(err)
	}
	p, err = w.svc.Pending(ctx, w.sub, apicache.Fresh)
	if err != nil || p.Customers.Value == nil {
		t.Fatalf("with its key: %+v %v", p, err)
	}
	own := uins(*p.Customers.Value)
	staffView, _ := w.svc.Pending(ctx, w.staff, apicache.Fresh)
	theirs := uins(*staffView.Customers.Value)

	sent := w.sandbox.Requests(partnerapi.ActionApproveClientApply)
	_, err = w.svc.Decide(ctx, w.sub, applications.Decision{Kind: applications.Customer, Uins: []string{own[0], theirs[0]}, Verdict: applications.Pass})
	if apperr.Fields(err)["uin"] == nil || w.sandbox.Requests(partnerapi.ActionApproveClientApply) != sent {
		t.Fatalf("the distributor's applicant in a reseller's decision: %v", err)
	}
	out, err := w.svc.Decide(ctx, w.sub, applications.Decision{Kind: applications.Customer, Uins: own[:1], Verdict: applications.Pass})
	if err != nil || out.Items[0].Status != store.ItemOK {
		t.Fatalf("its own applicant: %+v %v", out, err)
	}
	uin, _ := strconv.ParseUint(own[0], 10, 64)
	if c, err := w.app.DB.CustomerByUin(ctx, uin); err != nil || c.ResellerUin != w.subUin {
		t.Fatalf("approved %d is filed under %d (%v), want the reseller", uin, c.ResellerUin, err)
	}
}
