package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/cmd/portal/app"
	"resellerportal/store"
)

// servedWith fills a data directory as `portal serve` would have: a small
// fast sandbox world, and the customer list read by a directory refresh.
func servedWith(t *testing.T, dir string) []store.Customer {
	t.Helper()
	ctx := t.Context()
	a, err := app.Open(ctx, app.Config{DataDir: dir, Getenv: func(string) string { return "" }, SandboxSeed: 5, SandboxCustomers: 25, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()
	admin, err := store.WriteReturning(ctx, a.DB, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(ctx, store.User{Username: "ops", Role: "admin", PasswordHash: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := a.Jobs.StartDirectoryRefresh(ctx, audit.UserActor(admin, "local"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	for {
		changed := a.Engine.Changed()
		j, err := a.DB.JobByID(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == store.JobDone {
			break
		}
		if j.Status == store.JobFailed || j.Status == store.JobCancelled {
			t.Fatalf("directory refresh %s: %s", j.Status, j.Error)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("the directory refresh did not finish")
		}
	}
	list, _, err := a.DB.SearchCustomers(ctx, store.CustomerQuery{Sort: "uin", Limit: store.MaxCustomerLimit})
	if err != nil || len(list) == 0 {
		t.Fatalf("no customers stored: %v", err)
	}
	return list
}

func TestCustomersCommand(t *testing.T) {
	dir := t.TempDir()
	all := servedWith(t, dir)
	env := func(string) string { return "" }
	ctx := t.Context()
	first := all[0]

	var out bytes.Buffer
	if err := Run(ctx, []string{"customers", "search", "--data", dir, "--q", strconv.FormatUint(first.Uin, 10)}, env, &out, io.Discard); err != nil {
		t.Fatalf("search: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], strconv.FormatUint(first.Uin, 10)) || !strings.HasPrefix(lines[2], "1 customers match") {
		t.Fatalf("search printed:\n%s", out.String())
	}

	file := filepath.Join(dir, "customers.csv")
	out.Reset()
	if err := Run(ctx, []string{"customers", "export", "--data", dir, "--reseller", "direct", "--out", file}, env, &out, io.Discard); err != nil {
		t.Fatalf("export: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
	if err != nil || !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Fatalf("export file: %v", err)
	}
	direct := 0
	for _, c := range all {
		if c.ResellerUin == 0 {
			direct++
		}
	}
	if len(records)-1 != direct || !strings.Contains(out.String(), "Wrote "+strconv.Itoa(direct)+" customers") {
		t.Errorf("%d rows exported, %d direct customers; said %q", len(records)-1, direct, out.String())
	}

	out.Reset()
	if err := Run(ctx, []string{"customers", "show", "--data", dir, strconv.FormatUint(first.Uin, 10)}, env, &out, io.Discard); err != nil && first.ResellerUin == 0 {
		t.Fatalf("show: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), first.Name) {
		t.Errorf("show printed:\n%s", out.String())
	}

	for _, bad := range [][]string{
		{"customers", "search", "--data", dir, "--verified", "perhaps"},
		{"customers", "search", "--data", dir, "--sort", "secret"},
		{"customers", "show", "--data", dir, "nope"},
		{"customers", "show", "--data", dir, "1"},
		{"customers", "frobnicate"},
	} {
		if err := Run(ctx, bad, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
