package audit

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/auth"
	"resellerportal/store"
)

func TestFilterParse(t *testing.T) {
	cases := []struct {
		in    Filter
		field string
	}{
		{Filter{From: "2026-01-01", To: "2026-01-31", Actor: "ann", Action: "login", Customer: "12345"}, ""},
		{Filter{From: "yesterday"}, "from"},
		{Filter{To: "31/01/2026"}, "to"},
		{Filter{Customer: "abc"}, "customer"},
		{Filter{Actor: string(make([]byte, 500))}, "actor"},
	}
	for _, tc := range cases {
		f, err := tc.in.Parse()
		if tc.field == "" {
			if err != nil || f.TargetUin != 12345 || !f.To.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("Parse(%+v) = %+v, %v", tc.in, f, err)
			}
			continue
		}
		if apperr.Fields(err)[tc.field] == nil {
			t.Errorf("Parse(%.40v): %v, want a problem with %s", tc.in, err, tc.field)
		}
	}
}

func TestReadPagesAndExport(t *testing.T) {
	ctx := t.Context()
	db, err := store.Open(ctx, t.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 120 {
		who := CommandLine()
		who.Username = fmt.Sprintf("user%d", i%3)
		if _, err := db.AppendAudit(ctx, who.Entry("customer.remark", uint64(1000+i%2), nil)); err != nil {
			t.Fatal(err)
		}
	}
	log := NewLog(db)
	fin := Actor{Principal: auth.Principal{UserID: 9, Username: "fay", Role: auth.RoleFinance}, Addr: "10.0.0.1"}
	staff := Actor{Principal: auth.Principal{UserID: 8, Username: "sam", Role: auth.RoleStaff}}
	if _, err := log.Read(ctx, staff, store.AuditFilter{}, 0, false); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("staff read the log: %v", err)
	}
	// Walk every page towards older rows, then one back.
	var seen []int64
	var pages []Page
	after := int64(0)
	for {
		p, err := log.Read(ctx, fin, store.AuditFilter{Actor: "user1"}, after, false)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		for _, e := range p.Entries {
			seen = append(seen, e.ID)
		}
		if p.Count != 40 || p.Capped {
			t.Fatalf("count %d (capped %v), want 40", p.Count, p.Capped)
		}
		if p.Older == 0 {
			break
		}
		after = p.Older
	}
	if len(seen) != 40 || len(pages) != 1 || pages[0].Newer != 0 {
		t.Fatalf("walked %d rows over %d pages", len(seen), len(pages))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("rows out of order at %d: %v", i, seen)
		}
	}
	all, err := log.Read(ctx, fin, store.AuditFilter{}, 0, false)
	if err != nil || all.Older == 0 || all.Newer != 0 || len(all.Entries) != PageSize {
		t.Fatalf("first page: %d rows, older %d, newer %d, %v", len(all.Entries), all.Older, all.Newer, err)
	}
	second, _ := log.Read(ctx, fin, store.AuditFilter{}, all.Older, false)
	back, _ := log.Read(ctx, fin, store.AuditFilter{}, second.Newer, true)
	if len(back.Entries) != PageSize || back.Entries[0].ID != all.Entries[0].ID || back.Newer != 0 {
		t.Fatalf("going back from the second page did not give the first: %d rows from %d, newer %d", len(back.Entries), back.Entries[0].ID, back.Newer)
	}

	// The export holds exactly what the filter selects, and records it.
	var buf bytes.Buffer
	n, err := log.Export(ctx, fin, store.AuditFilter{Actor: "user2", TargetUin: 1001}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil || n != 20 || len(records) != 21 {
		t.Fatalf("exported %d rows (%d records, %v), want 20", n, len(records), err)
	}
	rows, _, _ := db.QueryAudit(ctx, store.AuditFilter{Action: "audit.export"})
	if len(rows) != 1 || rows[0].Params["actor"] != "user2" || rows[0].Params["customer"] != "1001" || rows[0].Params["rows"] != "20" || rows[0].ClientAddr != "10.0.0.1" {
		t.Fatalf("the export's audit row: %+v", rows)
	}
	if _, err := log.Export(ctx, staff, store.AuditFilter{}, &buf); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("staff exported the log: %v", err)
	}
}

// TestEveryRecordedActionIsKnown: the actions the code records are the ones
// the audit page can name and filter by.
func TestEveryRecordedActionIsKnown(t *testing.T) {
	known := map[string]bool{}
	for _, a := range Actions() {
		known[a] = true
	}
	re := regexp.MustCompile(`(?:Entry\(|Action:\s*|action\s*:?= )"([A-Za-z_.]+)"`)
	for _, dir := range []string{"../users", "../keyring", "../audit", "../jobs", "../web/handlers"} {
		files, _ := filepath.Glob(dir + "/*.go")
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if !known[m[1]] {
					t.Errorf("%s records action %q, which audit.Actions does not list", f, m[1])
				}
			}
		}
	}
	for _, a := range []string{"AllocateCustomerCredit", "ForceQN", "ModifyClientRemark"} {
		if !known[a] {
			t.Errorf("the write %s is not a known action", a)
		}
	}
}
