package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// appendAudits appends n entries one second apart and returns them.
func appendAudits(t *testing.T, db *DB, clock *testClock, n int) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	for i := range n {
		clock.Advance(time.Second)
		e, err := db.AppendAudit(t.Context(), AuditEntry{
			Actor: "alice", ActorRole: "admin", Action: "customer.remark", TargetUin: uint64(1000 + i),
			Params: map[string]string{"remark": fmt.Sprintf("note %d", i)}, Outcome: OutcomeOK,
			RequestId: fmt.Sprintf("req-%d", i), ClientAddr: "192.0.2.7",
		})
		if err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditChain(t *testing.T) {
	db, clock, _ := openTestDB(t)
	entries := appendAudits(t, db, clock, 5)
	for i, e := range entries {
		if e.ID != int64(i+1) {
			t.Errorf("entry %d id = %d", i, e.ID)
		}
		if e.Time.Location() != time.UTC || !e.Time.Equal(clock.Now().Add(time.Duration(i-4)*time.Second)) {
			t.Errorf("entry %d time = %v, want the clock's UTC time", i, e.Time)
		}
		wantPrev := genesisHash
		if i > 0 {
			wantPrev = entries[i-1].Hash
		}
		if e.PrevHash != wantPrev || len(e.Hash) != 64 {
			t.Errorf("entry %d prev %s hash %s, want prev %s", i, e.PrevHash, e.Hash, wantPrev)
		}
	}
	assertAuditIntact(t, db, 5)

	// What the store returns is what it stored.
	got, _, err := db.QueryAudit(t.Context(), AuditFilter{TargetUin: 1002})
	if err != nil || len(got) != 1 {
		t.Fatalf("QueryAudit = %v, %v", got, err)
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(entries[2]) {
		t.Errorf("read back %+v, appended %+v", got[0], entries[2])
	}

	t.Run("invalid entries refused", func(t *testing.T) {
		for _, e := range []AuditEntry{
			{Actor: "a", Action: "x", Outcome: "maybe"},
			{Actor: "a", Action: "", Outcome: OutcomeOK},
		} {
			if _, err := db.AppendAudit(t.Context(), e); err == nil {
				t.Errorf("AppendAudit(%+v) succeeded", e)
			}
		}
		assertAuditIntact(t, db, 5)
	})
}

func TestAuditTriggersRefuseChanges(t *testing.T) {
	db, clock, path := openTestDB(t)
	appendAudits(t, db, clock, 2)
	raw := openRaw(t, path)
	ctx := t.Context()

	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'mallory' WHERE id = 1`,
		`DELETE FROM audit_log WHERE id = 2`,
		`DELETE FROM audit_log`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := raw.ExecContext(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("err = %v, want the trigger's refusal", err)
			}
		})
	}
	assertAuditIntact(t, db, 2)
}

// tamper runs stmts on a raw connection with the audit triggers dropped, then
// puts the triggers back, as an attacker with file access could.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	ctx := t.Context()
	raw := openRaw(t, path)
	rows, err := raw.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'`)
	if err != nil {
		t.Fatal(err)
	}
	triggers := map[string]string{}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		triggers[name] = sql
	}
	rows.Close()
	if len(triggers) != 2 {
		t.Fatalf("found %d audit triggers, want 2", len(triggers))
	}
	for name := range triggers {
		stmts = append([]string{`DROP TRIGGER ` + name}, stmts...)
	}
	for _, sql := range triggers {
		stmts = append(stmts, sql)
	}
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyAuditFindsTampering(t *testing.T) {
	tests := []struct {
		name        string
		stmts       []string
		rehashRow   int64             // recompute this row's hash after tampering, as a smarter attacker would
		rehash      func(*AuditEntry) // the change the UPDATE made, applied to rehashRow in memory
		wantBroken  int64
		wantProblem string
		wantRows    int
	}{
		{"content changed", []string{`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`}, 0, nil, 3, "content does not match", 2},
		{"param changed", []string{`UPDATE audit_log SET params = '{"remark":"nothing to see"}' WHERE id = 2`}, 0, nil, 2, "content does not match", 1},
		{"time changed", []string{`UPDATE audit_log SET time = '2020-01-01T00:00:00.000000000Z' WHERE id = 5`}, 0, nil, 5, "content does not match", 4},
		{"content changed and rehashed", []string{`UPDATE audit_log SET outcome = 'failed' WHERE id = 3`}, 3,
			func(e *AuditEntry) { e.Outcome = OutcomeFailed }, 4, "prev_hash does not match the hash of row 3", 3},
		{"row deleted", []string{`DELETE FROM audit_log WHERE id = 3`}, 0, nil, 4, "row 3 is missing", 2},
		{"rows deleted", []string{`DELETE FROM audit_log WHERE id IN (2, 3)`}, 0, nil, 4, "rows 2 to 3 are missing", 1},
		{"first row deleted", []string{`DELETE FROM audit_log WHERE id = 1`}, 0, nil, 2, "row 1 is missing", 0},
		{"last row deleted", []string{`DELETE FROM audit_log WHERE id = 5`}, 0, nil, 5, "missing from the end", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, clock, path := openTestDB(t)
			appendAudits(t, db, clock, 5)
			stmts := tt.stmts
			if tt.rehashRow != 0 {
				stmts = append(stmts, rehashStatement(t, db, tt.rehashRow, tt.rehash))
			}
			tamper(t, path, stmts...)

			report, err := db.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if report.BrokenID != tt.wantBroken || !strings.Contains(report.Problem, tt.wantProblem) || report.Rows != tt.wantRows {
				t.Errorf("VerifyAudit = %+v, want broken %d (%q) after %d rows", report, tt.wantBroken, tt.wantProblem, tt.wantRows)
			}
		})
	}
}

// rehashStatement applies change to a copy of row id in memory and returns the
// UPDATE that stores the changed row's recomputed hash.
func rehashStatement(t *testing.T, db *DB, id int64, change func(*AuditEntry)) string {
	t.Helper()
	entries, _, err := db.QueryAudit(t.Context(), AuditFilter{Limit: MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.ID == id {
			change(&e)
			h, err := auditHash(e)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf(`UPDATE audit_log SET hash = '%s' WHERE id = %d`, h, id)
		}
	}
	t.Fatalf("row %d not found", id)
	return ""
}

func TestAuditRedactsSensitiveParams(t *testing.T) {
	db, _, _ := openTestDB(t)
	tests := []struct {
		key      string
		redacted bool
	}{
		{"Password", true},
		{"new_password", true},
		{"SecretKey", true},
		{"client_secret", true},
		{"api_token", true},
		{"AccessKeyId", true},
		{"VerificationCode", true},
		{"sms_code", true},
		{"VerifyCode", true},
		{"CountryCode", false},
		{"country_code_hint", true},
		{"remark", false},
		{"amount", false},
		{"Uin", false},
	}
	params := map[string]string{}
	for _, tt := range tests {
		params[tt.key] = "value-of-" + tt.key
	}
	stored, err := db.AppendAudit(t.Context(), AuditEntry{Actor: "a", Action: "credential.save", Params: params, Outcome: OutcomeOK})
	if err != nil {
		t.Fatal(err)
	}
	read, _, err := db.QueryAudit(t.Context(), AuditFilter{})
	if err != nil || len(read) != 1 {
		t.Fatalf("QueryAudit = %v, %v", read, err)
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			want := "value-of-" + tt.key
			if tt.redacted {
				want = Redacted
			}
			if got := stored.Params[tt.key]; got != want {
				t.Errorf("returned %s = %q, want %q", tt.key, got, want)
			}
			if got := read[0].Params[tt.key]; got != want {
				t.Errorf("stored %s = %q, want %q", tt.key, got, want)
			}
		})
	}
	if params["Password"] != "value-of-Password" {
		t.Error("AppendAudit modified the caller's map")
	}
	assertAuditIntact(t, db, 1)
}

func TestQueryAuditFilters(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	start := clock.Now()
	// Row i is written at start + i minutes.
	rows := []struct {
		actor, action string
		target        uint64
	}{
		{"alice", "login", 0},
		{"bob", "credit.allocate", 111},
		{"alice", "credit.allocate", 222},
		{"bob", "customer.remark", 111},
		{"alice", "credit.allocate", 111},
		{"carol", "login", 0},
	}
	for _, r := range rows {
		clock.Advance(time.Minute)
		if _, err := db.AppendAudit(ctx, AuditEntry{Actor: r.actor, Action: r.action, TargetUin: r.target, Outcome: OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	at := func(i int) time.Time { return start.Add(time.Duration(i+1) * time.Minute) }

	tests := []struct {
		name     string
		filter   AuditFilter
		wantIDs  []int64
		wantMore bool
		count    int
	}{
		{"all newest first", AuditFilter{}, []int64{6, 5, 4, 3, 2, 1}, false, 6},
		{"actor", AuditFilter{Actor: "alice"}, []int64{5, 3, 1}, false, 3},
		{"action", AuditFilter{Action: "credit.allocate"}, []int64{5, 3, 2}, false, 3},
		{"target", AuditFilter{TargetUin: 111}, []int64{5, 4, 2}, false, 3},
		{"actor and action", AuditFilter{Actor: "bob", Action: "credit.allocate"}, []int64{2}, false, 1},
		{"from inclusive", AuditFilter{From: at(3)}, []int64{6, 5, 4}, false, 3},
		{"to exclusive", AuditFilter{To: at(2)}, []int64{2, 1}, false, 2},
		{"window", AuditFilter{From: at(1), To: at(4)}, []int64{4, 3, 2}, false, 3},
		{"window and target", AuditFilter{From: at(1), To: at(4), TargetUin: 111}, []int64{4, 2}, false, 2},
		{"first page", AuditFilter{Limit: 2}, []int64{6, 5}, true, 6},
		{"next page", AuditFilter{Limit: 2, After: 5}, []int64{4, 3}, true, 6},
		{"last page", AuditFilter{Limit: 2, After: 3}, []int64{2, 1}, false, 6},
		{"page before", AuditFilter{Limit: 2, After: 3, Newer: true}, []int64{5, 4}, true, 6},
		{"filtered next page", AuditFilter{Actor: "alice", Limit: 1, After: 5}, []int64{3}, true, 3},
		{"past the end", AuditFilter{After: 1}, nil, false, 6},
		{"no match", AuditFilter{Actor: "nobody"}, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.QueryAudit(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) || more != tt.wantMore {
				t.Errorf("QueryAudit = %v (more %v), want %v (more %v)", ids, more, tt.wantIDs, tt.wantMore)
			}
			if n, err := db.CountAudit(ctx, tt.filter, 100); err != nil || n != tt.count {
				t.Errorf("CountAudit = %d, %v; want %d", n, err, tt.count)
			}
		})
	}
	if n, _ := db.CountAudit(ctx, AuditFilter{}, 4); n != 4 {
		t.Errorf("CountAudit up to 4 = %d", n)
	}

	t.Run("filters use indexes", func(t *testing.T) {
		for _, f := range []AuditFilter{{Actor: "a"}, {Action: "a"}, {TargetUin: 1}, {From: start}} {
			where, args := f.where()
			rows, err := db.read.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM audit_log WHERE `+where+` ORDER BY time DESC, id DESC`, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, "USING INDEX") && !strings.Contains(joined, "USING COVERING INDEX") {
				t.Errorf("plan for %+v = %q, want an index", f, joined)
			}
			if strings.Contains(joined, "TEMP B-TREE") {
				t.Errorf("plan for %+v = %q sorts in a temporary b-tree", f, joined)
			}
		}
	})
}

func TestExportAuditCSV(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	start := clock.Now()
	entries := []AuditEntry{
		{Actor: "alice", ActorRole: "admin", Action: "login", Outcome: OutcomeOK, ClientAddr: "192.0.2.1"},
		{Actor: "=HYPERLINK(\"http://evil\")", ActorRole: "staff", OnBehalfOf: 77, Action: "credit.allocate", TargetUin: 123,
			Params: map[string]string{"b": "+1", "a": "x,y", "password": "hunter2"}, Outcome: OutcomeFailed,
			Code: "-InvalidParameter", RequestId: "@SUM(A1)", ClientAddr: "192.0.2.2"},
		{Actor: "bob", ActorRole: "finance", Action: "export", Outcome: OutcomeUnknown},
	}
	var stored []AuditEntry
	for _, e := range entries {
		clock.Advance(time.Minute)
		s, err := db.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s)
	}

	tests := []struct {
		name    string
		filter  AuditFilter
		wantIDs []string
	}{
		{"everything", AuditFilter{}, []string{"1", "2", "3"}},
		{"window", AuditFilter{From: start.Add(2 * time.Minute), To: start.Add(3 * time.Minute)}, []string{"2"}},
		{"from", AuditFilter{From: start.Add(2 * time.Minute)}, []string{"2", "3"}},
		{"empty", AuditFilter{From: start.Add(time.Hour)}, nil},
		{"actor", AuditFilter{Actor: "bob"}, []string{"3"}},
		{"action and customer", AuditFilter{Action: "credit.allocate", TargetUin: 123}, []string{"2"}},
		{"page position ignored", AuditFilter{After: 2, Limit: 1}, []string{"1", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := db.ExportAuditCSV(ctx, &buf, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("parse exported CSV: %v", err)
			}
			if n != len(tt.wantIDs) || len(records) != len(tt.wantIDs)+1 {
				t.Fatalf("exported %d rows (%d records), want %d", n, len(records), len(tt.wantIDs))
			}
			if got := strings.Join(records[0], ","); got != strings.Join(auditCSVHeader, ",") {
				t.Errorf("header = %q", got)
			}
			for i, want := range tt.wantIDs {
				if records[i+1][0] != want {
					t.Errorf("row %d id = %s, want %s", i, records[i+1][0], want)
				}
			}
		})
	}

	t.Run("cells", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := db.ExportAuditCSV(ctx, &buf, AuditFilter{}); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, col := range records[0] {
			row[col] = records[2][i]
		}
		want := map[string]string{
			"id":           "2",
			"time_utc":     stored[1].Time.Format(time.RFC3339Nano),
			"actor":        "'=HYPERLINK(\"http://evil\")",
			"actor_role":   "staff",
			"on_behalf_of": "77",
			"target_uin":   "123",
			"action":       "credit.allocate",
			"params":       "a=x,y; b=+1; password=[redacted]",
			"outcome":      "failed",
			"code":         "'-InvalidParameter",
			"request_id":   "'@SUM(A1)",
			"client_addr":  "192.0.2.2",
			"hash":         stored[1].Hash,
		}
		for col, w := range want {
			got := row[col]
			if col == "time_utc" {
				parsed, err := time.Parse(time.RFC3339Nano, got)
				if err != nil || !parsed.Equal(stored[1].Time) {
					t.Errorf("time = %q, want %v", got, stored[1].Time)
				}
				continue
			}
			if got != w {
				t.Errorf("%s = %q, want %q", col, got, w)
			}
		}
	})
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := csvCell(tt.in); got != tt.want {
				t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAuditEntryByID(t *testing.T) {
	db, clock, _ := openTestDB(t)
	entries := appendAudits(t, db, clock, 3)
	got, err := db.AuditEntryByID(t.Context(), entries[1].ID)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(entries[1]) {
		t.Fatalf("AuditEntryByID = %+v, %v; want %+v", got, err, entries[1])
	}
	if _, err := db.AuditEntryByID(t.Context(), 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing row: %v", err)
	}
}
