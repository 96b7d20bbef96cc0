package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"resellerportal/store"
)

func TestBillsCommand(t *testing.T) {
	dir := t.TempDir()
	all := servedWith(t, dir)
	env := func(string) string { return "" }
	ctx := t.Context()
	month := time.Now().UTC().AddDate(0, 0, -time.Now().UTC().Day()).Format("2006-01")
	// A month's summaries as the bills refresh stores them.
	db, err := store.Open(ctx, filepath.Join(dir, "portal.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.PutBillMonth(ctx, store.BillMonth{CustomerUin: all[0].Uin, Month: month, Total: "12.345", FetchedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var out bytes.Buffer
	if err := Run(ctx, []string{"bills", "month", month, "--data", dir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "12.35") || !strings.Contains(out.String(), month+": USD 12.35 over 1 customers") {
		t.Fatalf("bills month printed:\n%s", out.String())
	}
	file := filepath.Join(dir, "bills.csv")
	out.Reset()
	if err := Run(ctx, []string{"bills", "month", "--data", dir, "--csv", "--out", file, month}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(b), "\uFEFFuin,name,") || !strings.Contains(string(b), ",12.345,") {
		t.Fatalf("CSV %q, %v", b, err)
	}
	for _, args := range [][]string{
		{"bills"},
		{"bills", "month", "--data", dir},
		{"bills", "month", "--data", dir, "2019-01"},
		{"bills", "month", "--data", dir, "--sort", "secret", month},
		{"bills", "month", "--data", dir, "--csv", "--xlsx", month},
	} {
		if err := Run(ctx, args, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
