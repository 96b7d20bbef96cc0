package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func TestAuditVerifyCatchesTampering(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	ctx := t.Context()
	for _, name := range []string{"ann", "bob", "cat"} {
		if err := Run(ctx, []string{"user", "add", "--data", dir, "--username", name, "--role", "finance"}, env, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Run(ctx, []string{"audit", "verify", "--data", dir}, env, &out, io.Discard); err != nil {
		t.Fatalf("verify of an intact log: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "OK: 3 audit rows") {
		t.Fatalf("verify said %q", out.String())
	}

	out.Reset()
	if err := Run(ctx, []string{"audit", "export", "--data", dir, "--from", "2000-01-01"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("export gave %d rows (%v), want a header and 3", len(rows), err)
	}

	// Change the second row behind the application's back: drop the
	// trigger that forbids it, edit, and put the trigger back.
	tamper(t, ctx, filepath.Join(dir, "portal.db"))
	out.Reset()
	err = Run(ctx, []string{"audit", "verify", "--data", dir}, env, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "BROKEN: audit row 2") {
		t.Fatalf("tampering not caught: %v\n%s", err, out.String())
	}
}

func tamper(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, sqlText string
	if err := db.QueryRowContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%UPDATE%' LIMIT 1`).Scan(&name, &sqlText); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`DROP TRIGGER "` + name + `"`,
		`UPDATE audit_log SET actor = 'mallory' WHERE id = 2`,
		sqlText,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}
