package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// waitJob waits for a job to finish, woken by the engine's changes.
func (p *portal) waitJob(id int64) store.Job {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		changed := p.app.Engine.Changed()
		j, err := p.db.JobByID(p.t.Context(), id)
		if err != nil {
			p.t.Fatal(err)
		}
		if j.Status != store.JobQueued && j.Status != store.JobRunning {
			return j
		}
		select {
		case <-changed:
		case <-deadline:
			p.t.Fatalf("job %d still %s", id, j.Status)
		}
	}
}

// jobIDFrom reads the job id from the redirect after starting a job.
func jobIDFrom(t *testing.T, r response) int64 {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/jobs/") {
		t.Fatalf("starting a job answered %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Location"), "/jobs/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRefreshJobsFromThePage(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	empty := p.get(staff, "/jobs/")
	if len(byTestID(t, empty.Body, "jobs-empty")) != 1 {
		t.Fatal("no empty state before any job")
	}

	dir := p.waitJob(jobIDFrom(t, p.post(staff, "/jobs/directory", nil)))
	if dir.Status != store.JobDone || dir.Done != dir.Total {
		t.Fatalf("directory job %s %d/%d", dir.Status, dir.Done, dir.Total)
	}
	month := time.Now().UTC().Format("2006-01")
	bills := p.waitJob(jobIDFrom(t, p.post(staff, "/jobs/bills", url.Values{"month": {month}})))
	if bills.Status != store.JobDone || bills.Total == 0 || bills.Done != bills.Total {
		t.Fatalf("bills job %s %d/%d", bills.Status, bills.Done, bills.Total)
	}

	page := p.get(staff, "/jobs/?month="+month)
	if n := len(byTestID(t, page.Body, "job-row")); n != 2 {
		t.Fatalf("%d jobs listed, want 2", n)
	}
	dirCount := byTestID(t, page.Body, "directory-count")
	billCount := byTestID(t, page.Body, "bills-count")
	// The directory counts the resellers' customers too; bills are the
	// direct customers'.
	customers, want := strconv.Itoa(dir.UnitsDone), strconv.Itoa(bills.Total)
	if len(dirCount) != 1 || len(billCount) != 1 || attr(dirCount[0], "data-count") != customers ||
		attr(billCount[0], "data-count") != want || attr(billCount[0], "data-total") != want {
		t.Fatalf("cache cards do not show %s customers with %s of %s bills", customers, want, want)
	}
	detail := p.get(staff, "/jobs/"+itoa(bills.ID))
	if st := byTestID(t, detail.Body, "job-status"); len(st) != 1 || len(byTestID(t, detail.Body, "job-progress")) != 1 {
		t.Fatal("the job page shows no status or progress")
	}
	// A finished job is not polled any more.
	if polled := find(t, detail.Body, func(n *html.Node) bool { return strings.HasPrefix(attr(n, "hx-trigger"), "every") }); len(polled) != 0 {
		t.Fatal("a finished job is still polled")
	}

	if r := p.post(staff, "/jobs/bills", url.Values{"month": {"1999-01"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a month out of range got %d", r.StatusCode)
	}
}

func TestJobsBelongToTheirOwners(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	id := jobIDFrom(t, p.post(staff, "/jobs/directory", nil))
	p.waitJob(id)

	finance := p.login("finance")
	if r := p.get(finance, "/jobs/"+itoa(id)); r.StatusCode != http.StatusNotFound {
		t.Fatalf("finance opened staff's job: %d", r.StatusCode)
	}
	if r := p.post(finance, "/jobs/"+itoa(id)+"/cancel", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("finance cancelled staff's job: %d", r.StatusCode)
	}
	if n := len(byTestID(t, p.get(finance, "/jobs/").Body, "job-row")); n != 0 {
		t.Fatalf("finance sees %d jobs of others", n)
	}
	if len(byTestID(t, p.get(finance, "/jobs/").Body, "refresh-directory")) != 0 {
		t.Fatal("finance is offered a refresh")
	}
	admin := p.login("admin")
	if r := p.get(admin, "/jobs/"+itoa(id)); r.StatusCode != http.StatusOK {
		t.Fatalf("admin cannot open staff's job: %d", r.StatusCode)
	}
	if n := len(byTestID(t, p.get(admin, "/jobs/").Body, "job-row")); n != 1 {
		t.Fatalf("admin sees %d jobs, want everyone's 1", n)
	}
}

func TestAPIStatusShowsBudgets(t *testing.T) {
	p := newPortal(t)
	admin := p.login("admin")
	p.get(admin, "/") // a few partner API calls
	page := p.get(admin, "/admin/api-status")
	rows := byTestID(t, page.Body, "limiter-row")
	if len(rows) != len(partnerapi.Actions()) {
		t.Fatalf("%d budgets listed for the distributor's key, want every action's (%d), idle ones included", len(rows), len(partnerapi.Actions()))
	}
	found := false
	for _, r := range rows {
		found = found || strings.Contains(text(r), "QueryPartnerCredit")
	}
	if !found {
		t.Fatal("QueryPartnerCredit's budget is not listed")
	}
}

// TestNotAllowlistedWriteIsExplained: a suspension refused because Tencent
// has not allowlisted the partner for ForceQN says so on the job's page.
func TestNotAllowlistedWriteIsExplained(t *testing.T) {
	p := newPortal(t)
	if err := p.sandbox.SetAllowlisted(sandbox.AllPartners, partnerapi.ActionForceQN, false); err != nil {
		t.Fatal(err)
	}
	suspend := int64(2)
	c, err := p.app.Keys.Distributor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.QueryCustomersCredit(t.Context(), &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
	if err != nil || len(list.Data) == 0 {
		t.Fatalf("a customer: %v", err)
	}
	items, err := jobs.PlanWrites([]jobs.WriteIntent{{Action: partnerapi.ActionForceQN, ClientUin: list.Data[0].ClientUin, Type: &suspend}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := p.app.Engine.Submit(t.Context(), jobs.KindWrites, p.users["staff"], "", nil, items)
	if err != nil {
		t.Fatal(err)
	}
	if j := p.waitJob(job.ID); j.Failed != 1 {
		t.Fatalf("the refused suspension ended %s with %d failed", j.Status, j.Failed)
	}
	page := p.get(p.login("staff"), "/jobs/"+itoa(job.ID))
	items2 := byTestID(t, page.Body, "job-items")
	if len(items2) != 1 || !strings.Contains(text(items2[0]), "allowlist") {
		t.Fatalf("the job page does not say the partner is not allowlisted for suspensions")
	}
}

// TestJobConflictsArePlain: cancelling a job that has ended is a 409 with a
// sentence, not a 500; starting a refresh that runs already joins it.
func TestJobConflictsArePlain(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	id := jobIDFrom(t, p.post(staff, "/jobs/directory", nil))
	p.waitJob(id)
	r := p.post(staff, "/jobs/"+itoa(id)+"/cancel", nil)
	if r.StatusCode != http.StatusConflict || len(byTestID(t, r.Body, "error-409")) != 1 {
		t.Fatalf("cancelling a finished job answered %d", r.StatusCode)
	}
	// Two starts of the same refresh while it is planned or running: the
	// second is taken to the first.
	month := time.Now().UTC().Format("2006-01")
	p.sandbox.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryCustomersCredit, Latency: 2 * time.Second, Count: 1})
	first := jobIDFrom(t, p.post(staff, "/jobs/bills", url.Values{"month": {month}}))
	second := p.post(staff, "/jobs/bills", url.Values{"month": {month}})
	if got := jobIDFrom(t, second); got != first {
		if j, _ := p.db.JobByID(t.Context(), first); j.Status == store.JobQueued || j.Status == store.JobRunning {
			t.Fatalf("a second start made job %d beside the running %d", got, first)
		}
	}
	if r := p.post(staff, "/jobs/bills", url.Values{"month": {"not-a-month"}}); r.StatusCode != http.StatusUnprocessableEntity || len(byTestID(t, r.Body, "error-422")) != 1 {
		t.Fatalf("a bad month answered %d", r.StatusCode)
	}
}
