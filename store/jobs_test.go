package store

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// newOwner creates a user to own jobs.
func newOwner(t *testing.T, db *DB, name string) User {
	t.Helper()
	u, err := WriteReturning(t.Context(), db, func(tx *Tx) (User, error) { return tx.CreateUser(t.Context(), User{Username: name, Role: "staff"}) })
	if err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

// writeItems returns n items each carrying a JSON payload, with a Seq and
// Status that CreateJob must ignore.
func writeItems(n int) []JobItem {
	items := make([]JobItem, n)
	for i := range items {
		items[i] = JobItem{Seq: 100 + i, Status: ItemOK, Key: fmt.Sprint(20000 + i),
			Payload: fmt.Appendf(nil, `{"Action":"AllocateCredit","uin":%d}`, 20000+i)}
	}
	return items
}

// newJob creates a job of n items owned by owner.
func newJob(t *testing.T, db *DB, owner User, kind string, n int) Job {
	t.Helper()
	j, err := WriteReturning(t.Context(), db, func(tx *Tx) (Job, error) {
		return tx.CreateJob(t.Context(), Job{Kind: kind, OwnerID: owner.ID, Title: kind + " job"}, writeItems(n))
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	return j
}

// mustJob reads a job or fails the test.
func mustJob(t *testing.T, db *DB, id int64) Job {
	t.Helper()
	j, err := db.JobByID(t.Context(), id)
	if err != nil {
		t.Fatalf("JobByID %d: %v", id, err)
	}
	return j
}

// assertCountersMatch checks, in one snapshot, that the job's counters equal
// the counts of its items.
func assertCountersMatch(t *testing.T, db *DB, id int64) {
	t.Helper()
	err := db.readTx(t.Context(), func(tx *sql.Tx) error {
		var got, want [6]int // total, done, failed, unknown, units, units done
		if err := tx.QueryRow(`SELECT total, done, failed, unknown, units, units_done FROM jobs WHERE id = ?`, id).
			Scan(&got[0], &got[1], &got[2], &got[3], &got[4], &got[5]); err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT
				count(*),
				count(*) FILTER (WHERE status = 'ok'),
				count(*) FILTER (WHERE status = 'failed'),
				count(*) FILTER (WHERE status = 'unknown'),
				coalesce(sum(units), 0),
				coalesce(sum(units) FILTER (WHERE status = 'ok'), 0)
			FROM job_items WHERE job_id = ?`, id).Scan(&want[0], &want[1], &want[2], &want[3], &want[4], &want[5]); err != nil {
			return err
		}
		if got != want {
			t.Errorf("job %d counters total/done/failed/unknown/units/units done = %v, items say %v", id, got, want)
		}
		return nil
	})
	if err != nil {
		t.Errorf("read counters: %v", err) // not Fatal: workers call this from their goroutines
	}
}

func TestCreateJob(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	alice := newOwner(t, db, "alice")
	clock.Advance(time.Minute)

	params := []byte(`{"month":"2025-02"}`)
	job, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) {
		return tx.CreateJob(ctx, Job{Kind: "writes.apply", OwnerID: alice.ID, Title: "February credits",
			Params: params, Status: JobDone, Done: 7}, writeItems(3))
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	if job.ID == 0 || job.Kind != "writes.apply" || job.OwnerID != alice.ID || job.Owner != "alice" ||
		job.Title != "February credits" || !bytes.Equal(job.Params, params) || job.Status != JobQueued ||
		job.Total != 3 || job.Done != 0 || job.Failed != 0 || job.Unknown != 0 || job.CancelRequested ||
		!job.CreatedAt.Equal(clock.Now()) || !job.UpdatedAt.Equal(clock.Now()) ||
		!job.StartedAt.IsZero() || !job.FinishedAt.IsZero() {
		t.Errorf("CreateJob = %+v", job)
	}
	if got := mustJob(t, db, job.ID); fmt.Sprint(got) != fmt.Sprint(job) {
		t.Errorf("JobByID = %+v, created %+v", got, job)
	}

	items, err := db.JobItems(ctx, job.ID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := writeItems(3)
	if len(items) != len(want) {
		t.Fatalf("JobItems = %d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		if it.JobID != job.ID || it.Seq != i || it.Status != ItemPending || it.Key != want[i].Key ||
			!bytes.Equal(it.Payload, want[i].Payload) || it.Attempts != 0 || it.Result != nil ||
			!it.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("item %d = %+v", i, it)
		}
	}

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name    string
			job     Job
			items   []JobItem
			wantErr error // nil: any error
		}{
			{"empty kind", Job{OwnerID: alice.ID}, nil, nil},
			{"params not JSON", Job{Kind: "k", OwnerID: alice.ID, Params: []byte("{")}, nil, nil},
			{"payload not JSON", Job{Kind: "k", OwnerID: alice.ID}, []JobItem{{Payload: []byte("nope")}}, nil},
			{"owner missing", Job{Kind: "k", OwnerID: 999}, writeItems(2), ErrNotFound},
			{"no owner", Job{Kind: "k"}, nil, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) { return tx.CreateJob(ctx, tt.job, tt.items) })
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Errorf("CreateJob err = %v, want %v", err, tt.wantErr)
				}
			})
		}
		if _, total, err := db.ListJobs(ctx, JobFilter{}); err != nil || total != 1 {
			t.Errorf("jobs after refusals = %d, %v; want 1", total, err)
		}
	})

	t.Run("no items", func(t *testing.T) {
		j, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) {
			return tx.CreateJob(ctx, Job{Kind: "directory.refresh", OwnerID: alice.ID}, nil)
		})
		if err != nil || j.Total != 0 || j.Params != nil {
			t.Errorf("CreateJob without items = %+v, %v", j, err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		if _, err := db.JobByID(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("JobByID(999) err = %v", err)
		}
		if _, err := db.JobItems(ctx, 999, nil, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("JobItems(999) err = %v", err)
		}
		if _, err := db.CountItems(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("CountItems(999) err = %v", err)
		}
	})

	t.Run("rolled back with its transaction", func(t *testing.T) {
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.CreateJob(ctx, Job{Kind: "k", OwnerID: alice.ID}, writeItems(2)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write err = %v", err)
		}
		if _, total, _ := db.ListJobs(ctx, JobFilter{Statuses: []string{JobQueued}}); total != 2 {
			t.Errorf("queued jobs = %d, want 2", total)
		}
	})
}

func TestListJobs(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	alice, bob := newOwner(t, db, "alice"), newOwner(t, db, "bob")

	// Jobs one minute apart, in id order: a1 a2 b3 a4 b5.
	ids := map[string]int64{}
	for _, spec := range []struct {
		name  string
		owner User
	}{{"a1", alice}, {"a2", alice}, {"b3", bob}, {"a4", alice}, {"b5", bob}} {
		clock.Advance(time.Minute)
		ids[spec.name] = newJob(t, db, spec.owner, "bills.refresh", 1).ID
	}
	if err := db.StartJob(ctx, ids["a2"]); err != nil {
		t.Fatal(err)
	}
	if err := db.StartJob(ctx, ids["b3"]); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishJob(ctx, ids["b3"], JobFailed, "partner API down"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		filter    JobFilter
		want      []string
		wantTotal int
	}{
		{"everyone newest first", JobFilter{}, []string{"b5", "a4", "b3", "a2", "a1"}, 5},
		{"one owner", JobFilter{OwnerID: alice.ID}, []string{"a4", "a2", "a1"}, 3},
		{"one status", JobFilter{Statuses: []string{JobQueued}}, []string{"b5", "a4", "a1"}, 3},
		{"several statuses", JobFilter{Statuses: []string{JobRunning, JobFailed}}, []string{"b3", "a2"}, 2},
		{"owner and status", JobFilter{OwnerID: bob.ID, Statuses: []string{JobQueued}}, []string{"b5"}, 1},
		{"page", JobFilter{Limit: 2, Offset: 1}, []string{"a4", "b3"}, 5},
		{"past the end", JobFilter{Offset: 10}, nil, 5},
		{"nobody's", JobFilter{OwnerID: 999}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, total, err := db.ListJobs(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, j := range jobs {
				got = append(got, j.ID)
			}
			var want []int64
			for _, name := range tt.want {
				want = append(want, ids[name])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || total != tt.wantTotal {
				t.Errorf("ListJobs = %v (total %d), want %v (total %d)", got, total, want, tt.wantTotal)
			}
		})
	}

	failed := mustJob(t, db, ids["b3"])
	if failed.Owner != "bob" || failed.Error != "partner API down" || failed.FinishedAt.IsZero() {
		t.Errorf("failed job = %+v", failed)
	}
}

func TestJobTransitions(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")

	// Helpers that put a fresh two-item job in a given state.
	queued := func(t *testing.T) int64 { return newJob(t, db, owner, "writes.apply", 2).ID }
	running := func(t *testing.T) int64 {
		id := queued(t)
		if err := db.StartJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	itemsDone := func(t *testing.T) int64 {
		id := running(t)
		for seq := range 2 {
			if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, id, seq) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, seq, ItemOK, "", "req", []byte(`{}`)) }); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	finished := func(status string) func(t *testing.T) int64 {
		return func(t *testing.T) int64 {
			id := itemsDone(t)
			if status == JobCancelled {
				id = running(t)
			}
			if err := db.FinishJob(ctx, id, status, ""); err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	missing := func(*testing.T) int64 { return 999 }

	start := func(id int64) error { return db.StartJob(ctx, id) }
	finish := func(status string) func(int64) error {
		return func(id int64) error { return db.FinishJob(ctx, id, status, "why") }
	}
	markSent := func(seq int) func(int64) error {
		return func(id int64) error {
			return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, id, seq) })
		}
	}
	finishItem := func(seq int, status string) func(int64) error {
		return func(id int64) error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, seq, status, "", "", nil) })
		}
	}
	errAny := errors.New("any error")

	tests := []struct {
		name       string
		prepare    func(*testing.T) int64
		op         func(int64) error
		wantErr    error // errAny: some error other than ErrConflict and ErrNotFound
		wantStatus string
	}{
		{"start queued", queued, start, nil, JobRunning},
		{"start running again (resume)", running, start, nil, JobRunning},
		{"start done", finished(JobDone), start, ErrConflict, JobDone},
		{"start failed", finished(JobFailed), start, ErrConflict, JobFailed},
		{"start cancelled", finished(JobCancelled), start, ErrConflict, JobCancelled},
		{"start missing", missing, start, ErrNotFound, ""},
		{"done when all items finished", itemsDone, finish(JobDone), nil, JobDone},
		{"done with items pending", running, finish(JobDone), ErrConflict, JobRunning},
		{"done before starting", queued, finish(JobDone), ErrConflict, JobQueued},
		{"fail queued", queued, finish(JobFailed), nil, JobFailed},
		{"fail running", running, finish(JobFailed), nil, JobFailed},
		{"cancel running", running, finish(JobCancelled), nil, JobCancelled},
		{"finish done again", finished(JobDone), finish(JobDone), ErrConflict, JobDone},
		{"fail a done job", finished(JobDone), finish(JobFailed), ErrConflict, JobDone},
		{"cancel a failed job", finished(JobFailed), finish(JobCancelled), ErrConflict, JobFailed},
		{"finish as running", running, finish(JobRunning), errAny, JobRunning},
		{"finish missing", missing, finish(JobFailed), ErrNotFound, ""},
		{"send item of queued job", queued, markSent(0), ErrConflict, JobQueued},
		{"send item of done job", finished(JobDone), markSent(0), ErrConflict, JobDone},
		{"send finished item", itemsDone, markSent(1), ErrConflict, JobRunning},
		{"send missing item", running, markSent(5), ErrNotFound, JobRunning},
		{"finish finished item", itemsDone, finishItem(0, ItemFailed), ErrConflict, JobRunning},
		{"finish item as pending", running, finishItem(0, ItemPending), errAny, JobRunning},
		{"finish item as sent", running, finishItem(0, ItemSent), errAny, JobRunning},
		{"finish missing item", running, finishItem(7, ItemOK), ErrNotFound, JobRunning},
		{"finish item with bad result", running, func(id int64) error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, 0, ItemOK, "", "", []byte("{")) })
		}, errAny, JobRunning},
		{"read item finished without intent", running, finishItem(0, ItemOK), nil, JobRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.prepare(t)
			before, _ := db.JobByID(ctx, id)
			clock.Advance(time.Second)
			err := tt.op(id)
			switch tt.wantErr {
			case nil:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case errAny:
				if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want a plain error", err)
				}
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			}
			if tt.wantStatus == "" {
				return
			}
			after := mustJob(t, db, id)
			if after.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", after.Status, tt.wantStatus)
			}
			if err != nil && fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused op changed the job:\n before %+v\n after  %+v", before, after)
			}
			assertCountersMatch(t, db, id)
		})
	}

	t.Run("times", func(t *testing.T) {
		id := queued(t)
		clock.Advance(time.Minute)
		firstStart := clock.Now()
		if err := db.StartJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if err := db.StartJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		j := mustJob(t, db, id)
		if !j.StartedAt.Equal(firstStart) || !j.UpdatedAt.Equal(clock.Now()) || !j.FinishedAt.IsZero() {
			t.Errorf("after two starts: started %v updated %v finished %v; want started %v",
				j.StartedAt, j.UpdatedAt, j.FinishedAt, firstStart)
		}
		clock.Advance(time.Minute)
		if err := db.FinishJob(ctx, id, JobFailed, "credential revoked"); err != nil {
			t.Fatal(err)
		}
		j = mustJob(t, db, id)
		if !j.FinishedAt.Equal(clock.Now()) || j.Error != "credential revoked" || !j.StartedAt.Equal(firstStart) {
			t.Errorf("after failing: %+v", j)
		}
		// A failed job's items never started were never sent: skipped, as
		// a cancelled job's are, so its rest can be run and no write of it
		// stays in flight.
		if n, err := db.CountItems(ctx, id); err != nil || n[ItemSkipped] != 2 || n[ItemPending] != 0 {
			t.Errorf("CountItems = %v, %v; want 2 skipped", n, err)
		}
	})

	t.Run("unknown item reconciled after the job ended", func(t *testing.T) {
		id := running(t)
		if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, id, 0) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, 0, ItemUnknown, "RequestTimeout", "req-1", nil) }); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishJob(ctx, id, JobFailed, "stopped"); err != nil {
			t.Fatal(err)
		}
		if j := mustJob(t, db, id); j.Unknown != 1 {
			t.Errorf("Unknown = %d, want 1", j.Unknown)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, 0, ItemOK, "", "req-1", []byte(`{"read":"back"}`)) }); err != nil {
			t.Fatalf("reconcile after the job ended: %v", err)
		}
		if j := mustJob(t, db, id); j.Unknown != 0 || j.Done != 1 {
			t.Errorf("after reconciling: Unknown %d Done %d, want 0 and 1", j.Unknown, j.Done)
		}
		assertCountersMatch(t, db, id)
	})
}

func TestItemLifecycle(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	job := newJob(t, db, owner, "writes.apply", 4)
	if err := db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name        string
		op          func() error
		seq         int
		wantStatus  string
		wantTries   int
		wantCounter [3]int // done, failed, unknown
	}{
		{"intent", func() error { return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, 0) }) }, 0, ItemSent, 1, [3]int{0, 0, 0}},
		{"ok", func() error {
			return db.Write(ctx, func(tx *Tx) error {
				return tx.FinishItem(ctx, job.ID, 0, ItemOK, "", "req-0", []byte(`{"amount":"5"}`))
			})
		}, 0, ItemOK, 1, [3]int{1, 0, 0}},
		{"intent 1", func() error { return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, 1) }) }, 1, ItemSent, 1, [3]int{1, 0, 0}},
		{"failed", func() error {
			return db.Write(ctx, func(tx *Tx) error {
				return tx.FinishItem(ctx, job.ID, 1, ItemFailed, "InsufficientBalance", "req-1", nil)
			})
		}, 1, ItemFailed, 1, [3]int{1, 1, 0}},
		{"intent 2", func() error { return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, 2) }) }, 2, ItemSent, 1, [3]int{1, 1, 0}},
		{"unknown", func() error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 2, ItemUnknown, "Timeout", "", nil) })
		}, 2, ItemUnknown, 1, [3]int{1, 1, 1}},
		{"still unknown after read-back", func() error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 2, ItemUnknown, "Timeout", "", nil) })
		}, 2, ItemUnknown, 1, [3]int{1, 1, 1}},
		{"re-sent after read-back said not applied", func() error { return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, 2) }) }, 2, ItemSent, 2, [3]int{1, 1, 0}},
		{"ok at last", func() error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 2, ItemOK, "", "req-2b", []byte(`{}`)) })
		}, 2, ItemOK, 2, [3]int{2, 1, 0}},
		{"skipped", func() error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 3, ItemSkipped, "", "", nil) })
		}, 3, ItemSkipped, 0, [3]int{2, 1, 0}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Advance(time.Second)
			if err := st.op(); err != nil {
				t.Fatal(err)
			}
			items, err := db.JobItems(ctx, job.ID, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			it := items[st.seq]
			if it.Status != st.wantStatus || it.Attempts != st.wantTries || !it.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("item = %+v, want status %s attempts %d", it, st.wantStatus, st.wantTries)
			}
			j := mustJob(t, db, job.ID)
			if got := [3]int{j.Done, j.Failed, j.Unknown}; got != st.wantCounter || !j.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("counters = %v (updated %v), want %v", got, j.UpdatedAt, st.wantCounter)
			}
			assertCountersMatch(t, db, job.ID)
		})
	}

	items, err := db.JobItems(ctx, job.ID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it := items[1]; it.Code != "InsufficientBalance" || it.RequestId != "req-1" || it.Result != nil {
		t.Errorf("failed item = %+v", it)
	}
	if it := items[0]; it.RequestId != "req-0" || string(it.Result) != `{"amount":"5"}` {
		t.Errorf("ok item = %+v", it)
	}

	t.Run("filter and limit", func(t *testing.T) {
		tests := []struct {
			statuses []string
			limit    int
			wantSeqs string
		}{
			{nil, 0, "[0 1 2 3]"},
			{nil, 2, "[0 1]"},
			{[]string{ItemOK}, 0, "[0 2]"},
			{[]string{ItemFailed, ItemSkipped}, 0, "[1 3]"},
			{[]string{ItemPending}, 0, "[]"},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.statuses, tt.limit), func(t *testing.T) {
				items, err := db.JobItems(ctx, job.ID, tt.statuses, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				seqs := []int{}
				for _, it := range items {
					seqs = append(seqs, it.Seq)
				}
				if fmt.Sprint(seqs) != tt.wantSeqs {
					t.Errorf("seqs = %v, want %s", seqs, tt.wantSeqs)
				}
			})
		}
	})

	counts, err := db.CountItems(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ItemPending: 0, ItemSent: 0, ItemOK: 2, ItemFailed: 1, ItemUnknown: 0, ItemSkipped: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("CountItems = %v, want %v", counts, want)
	}
	if err := db.FinishJob(ctx, job.ID, JobDone, ""); err != nil {
		t.Errorf("FinishJob done: %v", err)
	}
}

func TestJobsResumeAfterRestart(t *testing.T) {
	ctx := t.Context()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "portal.db")
	open := func(t *testing.T) *DB {
		t.Helper()
		db, err := Open(ctx, path, Options{Now: clock.Now})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db
	}

	db := open(t)
	owner := newOwner(t, db, "alice")
	clock.Advance(time.Minute)
	queued := newJob(t, db, owner, "bills.refresh", 2)
	clock.Advance(time.Minute)
	running := newJob(t, db, owner, "writes.apply", 3)
	clock.Advance(time.Minute)
	done := newJob(t, db, owner, "directory.refresh", 0)
	for _, id := range []int64{running.ID, done.ID} {
		if err := db.StartJob(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishJob(ctx, done.ID, JobDone, ""); err != nil {
		t.Fatal(err)
	}
	startedAt := mustJob(t, db, running.ID).StartedAt
	// Item 0 finished; item 1's intent is committed and then the portal
	// "crashes" during the call.
	if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, running.ID, 0) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, running.ID, 0, ItemOK, "", "req-0", []byte(`{}`)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, running.ID, 1) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t)
	defer db.Close()

	jobs, err := db.ResumableJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].ID != queued.ID || jobs[1].ID != running.ID {
		t.Fatalf("ResumableJobs = %+v, want queued job %d then running job %d", jobs, queued.ID, running.ID)
	}
	if j := jobs[1]; j.Status != JobRunning || j.Done != 1 || j.Total != 3 || !j.StartedAt.Equal(startedAt) {
		t.Errorf("resumed job = %+v", j)
	}

	// The interrupted item is still "sent": the engine reads that as unknown
	// and reconciles it before anything is sent again.
	toReconcile, err := db.JobItems(ctx, running.ID, []string{ItemSent, ItemUnknown}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(toReconcile) != 1 || toReconcile[0].Seq != 1 || toReconcile[0].Status != ItemSent || toReconcile[0].Attempts != 1 {
		t.Fatalf("items to reconcile = %+v, want item 1 sent once", toReconcile)
	}
	// The finished write is never sent again.
	if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, running.ID, 0) }); !errors.Is(err, ErrConflict) {
		t.Errorf("MarkItemSent on the finished item: err = %v, want ErrConflict", err)
	}

	clock.Advance(time.Hour)
	if err := db.StartJob(ctx, running.ID); err != nil {
		t.Fatalf("StartJob on resume: %v", err)
	}
	if j := mustJob(t, db, running.ID); !j.StartedAt.Equal(startedAt) {
		t.Errorf("StartedAt after resume = %v, want the first start %v", j.StartedAt, startedAt)
	}
	// The read-back found nothing happened, so the item is sent again.
	if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, running.ID, 1) }); err != nil {
		t.Fatal(err)
	}
	items, err := db.JobItems(ctx, running.ID, []string{ItemSent}, 0)
	if err != nil || len(items) != 1 || items[0].Attempts != 2 {
		t.Errorf("re-sent item = %+v, %v; want 2 attempts", items, err)
	}
}

func TestFinishItemCountersUnderConcurrency(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	const workers, perWorker = 20, 5
	job := newJob(t, db, owner, "writes.apply", workers*perWorker)
	if err := db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}

	outcomes := []string{ItemOK, ItemFailed, ItemUnknown, ItemOK}
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*2)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				seq := w + i*workers // every worker has different items
				if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, seq) }); err != nil {
					errs <- err
					continue
				}
				err := db.Write(ctx, func(tx *Tx) error {
					return tx.FinishItem(ctx, job.ID, seq, outcomes[seq%len(outcomes)], "", fmt.Sprint("req-", seq), nil)
				})
				if err != nil {
					errs <- err
				}
				assertCountersMatch(t, db, job.ID)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("worker: %v", err)
	}

	counts, err := db.CountItems(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	j := mustJob(t, db, job.ID)
	want := map[string]int{ItemOK: 50, ItemFailed: 25, ItemUnknown: 25}
	for status, n := range want {
		if counts[status] != n {
			t.Errorf("CountItems[%s] = %d, want %d", status, counts[status], n)
		}
	}
	if j.Done != counts[ItemOK] || j.Failed != counts[ItemFailed] || j.Unknown != counts[ItemUnknown] {
		t.Errorf("counters done/failed/unknown = %d/%d/%d, counts %v", j.Done, j.Failed, j.Unknown, counts)
	}
}

func TestCancelJob(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")

	t.Run("queued is cancelled at once", func(t *testing.T) {
		job := newJob(t, db, owner, "writes.apply", 3)
		clock.Advance(time.Minute)
		if err := db.RequestCancel(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		j := mustJob(t, db, job.ID)
		if j.Status != JobCancelled || !j.CancelRequested || !j.FinishedAt.Equal(clock.Now()) || !j.StartedAt.IsZero() {
			t.Errorf("cancelled queued job = %+v", j)
		}
		counts, err := db.CountItems(ctx, job.ID)
		if err != nil || counts[ItemSkipped] != 3 || counts[ItemPending] != 0 {
			t.Errorf("CountItems = %v, %v; want 3 skipped", counts, err)
		}
		if err := db.StartJob(ctx, job.ID); !errors.Is(err, ErrConflict) {
			t.Errorf("StartJob after cancel: err = %v, want ErrConflict", err)
		}
		if err := db.RequestCancel(ctx, job.ID); err != nil {
			t.Errorf("second RequestCancel: %v, want nil", err)
		}
		resumable, err := db.ResumableJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resumable {
			if r.ID == job.ID {
				t.Errorf("cancelled job %d is resumable", job.ID)
			}
		}
	})

	t.Run("running stops sending and ends cancelled", func(t *testing.T) {
		job := newJob(t, db, owner, "writes.apply", 4)
		if err := db.StartJob(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		// Item 0 done, items 1 and 2 in flight, item 3 not started.
		for _, seq := range []int{0, 1, 2} {
			if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, seq) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 0, ItemOK, "", "r0", nil) }); err != nil {
			t.Fatal(err)
		}

		if err := db.RequestCancel(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		j := mustJob(t, db, job.ID)
		if j.Status != JobRunning || !j.CancelRequested || !j.FinishedAt.IsZero() {
			t.Errorf("after RequestCancel = %+v, want running with cancel requested", j)
		}
		err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, 3) })
		if !errors.Is(err, ErrCancelRequested) || !errors.Is(err, ErrConflict) {
			t.Errorf("MarkItemSent after cancel: err = %v, want ErrCancelRequested (a conflict)", err)
		}
		// A call in flight when the cancel came still records its outcome.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, 1, ItemOK, "", "r1", nil) }); err != nil {
			t.Errorf("FinishItem of an in-flight item: %v", err)
		}
		if err := db.RequestCancel(ctx, job.ID); err != nil {
			t.Errorf("second RequestCancel: %v", err)
		}

		clock.Advance(time.Minute)
		if err := db.FinishJob(ctx, job.ID, JobCancelled, ""); err != nil {
			t.Fatal(err)
		}
		items, err := db.JobItems(ctx, job.ID, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Status)
		}
		// Item 2 was still "sent": with the job over, its outcome is unknown.
		if want := []string{ItemOK, ItemOK, ItemUnknown, ItemSkipped}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("item statuses = %v, want %v", got, want)
		}
		j = mustJob(t, db, job.ID)
		if j.Status != JobCancelled || j.Done != 2 || j.Unknown != 1 || !j.FinishedAt.Equal(clock.Now()) {
			t.Errorf("cancelled running job = %+v", j)
		}
		assertCountersMatch(t, db, job.ID)
	})

	t.Run("refused", func(t *testing.T) {
		done := newJob(t, db, owner, "directory.refresh", 0)
		if err := db.StartJob(ctx, done.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishJob(ctx, done.ID, JobDone, ""); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			id      int64
			wantErr error
		}{
			{"done", done.ID, ErrConflict},
			{"missing", 999, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := db.RequestCancel(ctx, tt.id); !errors.Is(err, tt.wantErr) {
					t.Errorf("RequestCancel err = %v, want %v", err, tt.wantErr)
				}
			})
		}
		if j := mustJob(t, db, done.ID); j.CancelRequested || j.Status != JobDone {
			t.Errorf("done job after refused cancel = %+v", j)
		}
	})
}

func TestJobForeignKeys(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	job := newJob(t, db, owner, "writes.apply", 3)

	// raw runs a statement on the writer, bypassing the store's methods.
	raw := func(query string, args ...any) error {
		return db.Write(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, query, args...)
			return err
		})
	}
	if err := raw(`DELETE FROM users WHERE id = ?`, owner.ID); !isForeignKeyViolation(err) {
		t.Errorf("deleting a job's owner: err = %v, want a foreign key violation", err)
	}
	if err := raw(`UPDATE jobs SET owner_id = 999 WHERE id = ?`, job.ID); !isForeignKeyViolation(err) {
		t.Errorf("pointing a job at a missing user: err = %v, want a foreign key violation", err)
	}
	if err := raw(`INSERT INTO job_items (job_id, seq, status, updated_at) VALUES (999, 0, 'pending', '')`); !isForeignKeyViolation(err) {
		t.Errorf("item of a missing job: err = %v, want a foreign key violation", err)
	}
	if err := raw(`DELETE FROM jobs WHERE id = ?`, job.ID); err != nil {
		t.Fatalf("delete job: %v", err)
	}
	var left int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM job_items WHERE job_id = ?`, job.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("items left after deleting their job = %d, %v; want 0 (cascade)", left, err)
	}
}

// TestJobStatusIsChecked makes sure the schema refuses what the store never
// writes, so a bug elsewhere cannot store a status the engine does not know.
func TestJobStatusIsChecked(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	job := newJob(t, db, owner, "writes.apply", 1)
	for _, stmt := range []string{
		`UPDATE jobs SET status = 'paused' WHERE id = ?`,
		`UPDATE job_items SET status = 'maybe' WHERE job_id = ?`,
	} {
		err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, stmt, job.ID)
			return err
		})
		if err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
}

func TestCreateOrJoinJob(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	alice, bob := newOwner(t, db, "alice"), newOwner(t, db, "bob")

	create := func(t *testing.T, owner User, kind, scope string) (Job, bool) {
		t.Helper()
		var (
			j      Job
			joined bool
		)
		err := db.Write(ctx, func(tx *Tx) error {
			var err error
			j, joined, err = tx.CreateOrJoinJob(ctx, Job{Kind: kind, OwnerID: owner.ID, Scope: scope, Planning: true}, nil)
			return err
		})
		if err != nil {
			t.Fatalf("CreateOrJoinJob %s %q: %v", kind, scope, err)
		}
		return j, joined
	}
	first, joined := create(t, alice, "bills.refresh", "2025-02")
	if joined || first.Scope != "2025-02" || !first.Planning || first.Status != JobQueued {
		t.Fatalf("first = %+v, joined %v", first, joined)
	}

	tests := []struct {
		name       string
		owner      User
		kind       string
		scope      string
		wantJoined bool
	}{
		{"same kind and scope joins, whoever asks", bob, "bills.refresh", "2025-02", true},
		{"another scope", alice, "bills.refresh", "2025-01", false},
		{"another kind", alice, "directory.refresh", "2025-02", false},
		{"no scope never joins", alice, "writes.apply", "", false},
		{"no scope twice", alice, "writes.apply", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, joined := create(t, tt.owner, tt.kind, tt.scope)
			if joined != tt.wantJoined {
				t.Fatalf("joined = %v, want %v", joined, tt.wantJoined)
			}
			if joined && (j.ID != first.ID || j.OwnerID != alice.ID) {
				t.Errorf("joined %+v, want job %d of alice", j, first.ID)
			}
			if !joined && j.ID == first.ID {
				t.Errorf("created job has the first job's id")
			}
		})
	}

	t.Run("CreateJob refuses an active scope", func(t *testing.T) {
		_, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) {
			return tx.CreateJob(ctx, Job{Kind: "bills.refresh", OwnerID: bob.ID, Scope: "2025-02"}, nil)
		})
		if !errors.Is(err, ErrActiveJob) || !errors.Is(err, ErrConflict) {
			t.Errorf("err = %v, want ErrActiveJob", err)
		}
	})

	t.Run("ActiveJob", func(t *testing.T) {
		if j, err := db.ActiveJob(ctx, "bills.refresh", "2025-02"); err != nil || j.ID != first.ID {
			t.Errorf("ActiveJob = %d, %v; want %d", j.ID, err, first.ID)
		}
		if _, err := db.ActiveJob(ctx, "bills.refresh", "1999-01"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ActiveJob of nothing: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("an ended job frees its scope", func(t *testing.T) {
		if err := db.RequestCancel(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		again, joined := create(t, bob, "bills.refresh", "2025-02")
		if joined || again.ID == first.ID || again.OwnerID != bob.ID {
			t.Errorf("after cancelling: %+v, joined %v; want a new job of bob", again, joined)
		}
	})

	t.Run("concurrent starts create one job", func(t *testing.T) {
		const starters = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created = map[int64]int{}
			joins   int
		)
		for range starters {
			wg.Go(func() {
				var (
					j      Job
					joined bool
				)
				err := db.Write(ctx, func(tx *Tx) error {
					var err error
					j, joined, err = tx.CreateOrJoinJob(ctx, Job{Kind: "directory.refresh", OwnerID: alice.ID, Scope: "all"}, nil)
					return err
				})
				if err != nil {
					t.Errorf("CreateOrJoinJob: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				created[j.ID]++
				if joined {
					joins++
				}
			})
		}
		wg.Wait()
		if len(created) != 1 || joins != starters-1 {
			t.Errorf("jobs %v, %d joins; want one job and %d joins", created, joins, starters-1)
		}
	})
}

func TestPlanningAddsItems(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	job, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) {
		return tx.CreateJob(ctx, Job{Kind: "directory.refresh", OwnerID: owner.ID, Scope: "all", Planning: true}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if job.Total != 0 || job.Units != 0 || !job.Planning || job.PlanCursor != "" {
		t.Fatalf("new planning job = %+v", job)
	}
	if err := db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	page := func(n, units int) JobItem {
		return JobItem{Key: fmt.Sprint("page ", n), Units: units, Payload: fmt.Appendf(nil, `{"Page":%d}`, n)}
	}
	steps := []struct {
		name       string
		items      []JobItem
		cursor     string
		wantTotal  int
		wantUnits  int
		wantCursor string
	}{
		{"first batch", []JobItem{page(1, 100), page(2, 100)}, "2", 2, 200, "2"},
		{"second batch, the last page short", []JobItem{page(3, 37)}, "3", 3, 237, "3"},
		{"an item without units counts one", []JobItem{{Key: "x"}}, "4", 4, 238, "4"},
		{"an empty batch moves the cursor", nil, "5", 4, 238, "5"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Advance(time.Second)
			if err := db.AddJobItems(ctx, job.ID, st.items, st.cursor); err != nil {
				t.Fatal(err)
			}
			j := mustJob(t, db, job.ID)
			if j.Total != st.wantTotal || j.Units != st.wantUnits || j.PlanCursor != st.wantCursor || !j.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("job = total %d units %d cursor %q updated %v; want %d, %d, %q",
					j.Total, j.Units, j.PlanCursor, j.UpdatedAt, st.wantTotal, st.wantUnits, st.wantCursor)
			}
			assertCountersMatch(t, db, job.ID)
		})
	}
	items, err := db.JobItems(ctx, job.ID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if it.Seq != i || it.Status != ItemPending {
			t.Errorf("item %d = %+v", i, it)
		}
	}
	if items[2].Units != 37 || items[3].Units != 1 {
		t.Errorf("units = %d, %d; want 37 and 1", items[2].Units, items[3].Units)
	}
	if err := db.AddJobItems(ctx, job.ID, []JobItem{{Payload: []byte("{")}}, "6"); err == nil {
		t.Error("AddJobItems took an item that is not JSON")
	}

	// Every item finished, but the job may not end done while it plans.
	for seq := range 4 {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, seq, ItemOK, "", "", nil) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishJob(ctx, job.ID, JobDone, ""); !errors.Is(err, ErrConflict) {
		t.Errorf("FinishJob done while planning: err = %v, want ErrConflict", err)
	}
	if err := db.FinishPlanning(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if j := mustJob(t, db, job.ID); j.Planning || j.UnitsDone != 238 || j.Done != 4 {
		t.Errorf("after planning = %+v", j)
	}

	refused := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"finish planning twice", func() error { return db.FinishPlanning(ctx, job.ID) }, ErrConflict},
		{"add items after planning", func() error { return db.AddJobItems(ctx, job.ID, []JobItem{page(9, 1)}, "9") }, ErrConflict},
		{"finish planning of nothing", func() error { return db.FinishPlanning(ctx, 999) }, ErrNotFound},
		{"add items to nothing", func() error { return db.AddJobItems(ctx, 999, nil, "") }, ErrNotFound},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := db.FinishJob(ctx, job.ID, JobDone, ""); err != nil {
		t.Errorf("FinishJob done after planning: %v", err)
	}
}

// TestCountersFollowEveryTransition walks items with different units
// through every status change the engine makes, reconciliation included,
// and checks after each that the job's counters equal its items' counts.
func TestCountersFollowEveryTransition(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	items := make([]JobItem, 8)
	for i := range items {
		items[i] = JobItem{Key: fmt.Sprint(i), Units: 10 + i}
	}
	job, err := WriteReturning(ctx, db, func(tx *Tx) (Job, error) {
		return tx.CreateJob(ctx, Job{Kind: "writes.apply", OwnerID: owner.ID}, items)
	})
	if err != nil {
		t.Fatal(err)
	}
	if job.Units != 10*8+28 {
		t.Fatalf("units = %d", job.Units)
	}
	if err := db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	send := func(seq int) func() error {
		return func() error { return db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, job.ID, seq) }) }
	}
	finish := func(seq int, status string) func() error {
		return func() error {
			return db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, seq, status, "", "", nil) })
		}
	}
	steps := []struct {
		name string
		op   func() error
		want [4]int // done, failed, unknown, units done
	}{
		{"read finished without intent", finish(0, ItemOK), [4]int{1, 0, 0, 10}},
		{"sent", send(1), [4]int{1, 0, 0, 10}},
		{"sent then ok", finish(1, ItemOK), [4]int{2, 0, 0, 21}},
		{"pending fails", finish(2, ItemFailed), [4]int{2, 1, 0, 21}},
		{"sent", send(3), [4]int{2, 1, 0, 21}},
		{"sent then unknown", finish(3, ItemUnknown), [4]int{2, 1, 1, 21}},
		{"unknown stays unknown", finish(3, ItemUnknown), [4]int{2, 1, 1, 21}},
		{"unknown resent", send(3), [4]int{2, 1, 0, 21}},
		{"resent then unknown again", finish(3, ItemUnknown), [4]int{2, 1, 1, 21}},
		{"reconciled applied", finish(3, ItemOK), [4]int{3, 1, 0, 34}},
		{"sent", send(4), [4]int{3, 1, 0, 34}},
		{"sent then unknown", finish(4, ItemUnknown), [4]int{3, 1, 1, 34}},
		{"reconciled not applied, job ended", finish(4, ItemFailed), [4]int{3, 2, 0, 34}},
		{"sent", send(5), [4]int{3, 2, 0, 34}},
		{"sent then unknown", finish(5, ItemUnknown), [4]int{3, 2, 1, 34}},
		{"sent left in flight", send(6), [4]int{3, 2, 1, 34}},
		{"cancel: sent becomes unknown, pending skipped", func() error {
			if err := db.RequestCancel(ctx, job.ID); err != nil {
				return err
			}
			return db.FinishJob(ctx, job.ID, JobCancelled, "")
		}, [4]int{3, 2, 2, 34}},
		{"reconciled after cancel: not applied is skipped", finish(5, ItemSkipped), [4]int{3, 2, 1, 34}},
		{"reconciled after cancel: applied", finish(6, ItemOK), [4]int{4, 2, 0, 50}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.op(); err != nil {
				t.Fatal(err)
			}
			j := mustJob(t, db, job.ID)
			if got := [4]int{j.Done, j.Failed, j.Unknown, j.UnitsDone}; got != st.want {
				t.Errorf("done/failed/unknown/units done = %v, want %v", got, st.want)
			}
			assertCountersMatch(t, db, job.ID)
		})
	}
}

func TestEndedJobsWithUnknown(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	// ended builds a job of two items, sends the first and ends the job.
	ended := func(status string) int64 {
		id := newJob(t, db, owner, "writes.apply", 2).ID
		if err := db.StartJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, id, 0) }); err != nil {
			t.Fatal(err)
		}
		if status == JobDone {
			for seq, outcome := range []string{ItemUnknown, ItemOK} {
				if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, id, seq, outcome, "", "", nil) }); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := db.FinishJob(ctx, id, status, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := []int64{ended(JobDone), ended(JobFailed), ended(JobCancelled)}
	running := newJob(t, db, owner, "writes.apply", 1).ID
	if err := db.StartJob(ctx, running); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.MarkItemSent(ctx, running, 0) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, running, 0, ItemUnknown, "", "", nil) }); err != nil {
		t.Fatal(err)
	}
	settled := ended(JobFailed)
	if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, settled, 0, ItemOK, "", "", nil) }); err != nil {
		t.Fatal(err)
	}

	jobs, err := db.EndedJobsWithUnknown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, j := range jobs {
		got = append(got, j.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("EndedJobsWithUnknown = %v, want %v (not the running job %d nor the settled %d)", got, want, running, settled)
	}
}

func TestJobItemsFrom(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	owner := newOwner(t, db, "alice")
	job := newJob(t, db, owner, "bills.refresh", 6)
	if err := db.StartJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int{1, 4} {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishItem(ctx, job.ID, seq, ItemOK, "", "", nil) }); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		from, limit int
		want        string
	}{
		{0, 0, "[0 2 3 5]"},
		{0, 2, "[0 2]"},
		{3, 2, "[3 5]"},
		{6, 0, "[]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.from, "+", tt.limit), func(t *testing.T) {
			items, err := db.JobItemsFrom(ctx, job.ID, []string{ItemPending}, tt.from, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			seqs := []int{}
			for _, it := range items {
				seqs = append(seqs, it.Seq)
			}
			if fmt.Sprint(seqs) != tt.want {
				t.Errorf("seqs = %v, want %s", seqs, tt.want)
			}
		})
	}
}
