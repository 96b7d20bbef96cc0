package watch

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/store"
)

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openDB(t *testing.T) (*store.DB, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "portal.db"), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, c
}

func put(t *testing.T, db *store.DB, cs ...store.Customer) {
	t.Helper()
	if err := db.Write(t.Context(), func(tx *store.Tx) error { return tx.UpsertCustomers(t.Context(), cs) }); err != nil {
		t.Fatal(err)
	}
}

// observe hands reads to Observe in one transaction, as a refresh does.
func observe(t *testing.T, db *store.DB, src Source, seen ...Seen) int {
	t.Helper()
	n, err := store.WriteReturning(t.Context(), db, func(tx *store.Tx) (int, error) { return Observe(t.Context(), tx, seen, src) })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func crossings(t *testing.T, db *store.DB) []store.AuditEntry {
	t.Helper()
	rows, _, err := db.QueryAudit(t.Context(), store.AuditFilter{Action: Action, Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func state(t *testing.T, db *store.DB, uin uint64) *store.WatchState {
	t.Helper()
	s, err := db.WatchState(t.Context(), uin)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestObserveRecordsEachCrossingOnce(t *testing.T) {
	db, clk := openDB(t)
	put(t, db, store.Customer{Uin: 501, Name: "Lotus Ltd", Credit: "1000", RemainingCredit: "900", ResellerUin: 0})
	src := Source{Via: "directory", Job: 7, RequestID: "req-1", Addr: "job 7"}
	read := func(remaining string) Seen { return Seen{Uin: 501, Credit: "1000", Remaining: remaining} }

	steps := []struct {
		name      string
		remaining string
		crossed   int
		past      string // the state's threshold, "" none
	}{
		{"fine", "900", 0, ""},
		{"falls past 25 %", "240", 1, "percent:25"},
		{"read again at the same level", "240", 0, "percent:25"},
		{"lower, still past 25 % only", "150", 0, "percent:25"},
		{"falls past 10 %", "90", 1, "percent:10"},
		{"climbs back past 25 % only: no crossing downward", "200", 0, "percent:25"},
		{"falls past 10 % again: a new crossing", "50", 1, "percent:10"},
		{"nothing left", "0", 1, "percent:0"},
		{"topped up", "1000", 0, ""},
		{"falls past 25 % once more", "250", 1, "percent:25"},
	}
	total := 0
	var since time.Time
	for _, s := range steps {
		clk.advance(time.Minute)
		if n := observe(t, db, src, read(s.remaining)); n != s.crossed {
			t.Fatalf("%s: %d crossings, want %d", s.name, n, s.crossed)
		}
		total += s.crossed
		st := state(t, db, 501)
		switch {
		case s.past == "" && st != nil:
			t.Fatalf("%s: still past %s", s.name, st.Kind)
		case s.past != "" && (st == nil || st.Kind+":"+st.Value != s.past):
			t.Fatalf("%s: state %+v, want past %s", s.name, st, s.past)
		case st != nil && s.crossed == 1:
			if !st.Since.Equal(clk.Now()) {
				t.Errorf("%s: since %s, want the read's time %s", s.name, st.Since, clk.Now())
			}
			since = st.Since
		case st != nil && !st.Since.Equal(since) && s.name != "climbs back past 25 % only: no crossing downward":
			t.Errorf("%s: since moved to %s", s.name, st.Since)
		}
	}
	rows := crossings(t, db)
	if len(rows) != total {
		t.Fatalf("%d audit rows, want %d", len(rows), total)
	}
	last := rows[0] // newest first
	if last.TargetUin != 501 || last.Actor != "system" || last.RequestId != "req-1" || last.ClientAddr != "job 7" ||
		last.Params["threshold"] != "percent:25" || last.Params["bound"] != "250" || last.Params["remaining"] != "250" ||
		last.Params["via"] != "directory" || last.Params["job"] != "7" {
		t.Errorf("crossing row %+v", last)
	}
	if rows[1].Params["previous"] != "percent:10" || rows[1].Params["threshold"] != "percent:0" {
		t.Errorf("the fall to nothing names the threshold before it: %+v", rows[1].Params)
	}
}

func TestObserveLeavesUnknownAndOlderReadsAlone(t *testing.T) {
	db, clk := openDB(t)
	put(t, db, store.Customer{Uin: 601, Name: "Indirect", ResellerUin: 88}, store.Customer{Uin: 602, Name: "Direct", Credit: "100", RemainingCredit: "5"})
	src := Source{Via: "customer page"}
	if n := observe(t, db, src, Seen{Uin: 601, ResellerUin: 88}); n != 0 || state(t, db, 601) != nil {
		t.Fatal("a read without figures changed the state")
	}
	if n := observe(t, db, src, Seen{Uin: 601, ResellerUin: 88, Credit: "100", Remaining: "1"}); n != 1 {
		t.Fatalf("%d crossings", n)
	}
	if rows := crossings(t, db); len(rows) != 1 || rows[0].OnBehalfOf != 88 {
		t.Fatalf("a reseller's customer's crossing is on its behalf: %+v", rows)
	}
	older := clk.Now().Add(-time.Hour)
	if n := observe(t, db, src, Seen{Uin: 601, Credit: "100", Remaining: "100", AsOf: older}); n != 0 || state(t, db, 601) == nil {
		t.Fatal("an older read cleared a newer state")
	}
	if n := observe(t, db, src, Seen{Uin: 9999, Credit: "100", Remaining: "0"}); n != 0 {
		t.Fatal("a customer the table does not hold crossed")
	}
	// Several customers in one go, as a directory page.
	if n := observe(t, db, src, Seen{Uin: 602, Credit: "100", Remaining: "5"}, Seen{Uin: 601, Credit: "100", Remaining: "0", ResellerUin: 88}); n != 2 {
		t.Fatalf("%d crossings", n)
	}
}

func TestThresholdsChangeTheState(t *testing.T) {
	db, _ := openDB(t)
	put(t, db, store.Customer{Uin: 701, Name: "Kite", Credit: "1000", RemainingCredit: "400"})
	svc := NewService(db)
	staff := audit.UserActor(store.User{ID: 2, Username: "staff-user", Role: "staff"}, "10.0.0.2")
	ctx := t.Context()

	// 40 % left: fine by the defaults; a custom 50 % puts it past at once.
	if err := svc.Set(ctx, staff, 701, Input{Defaults: true, Rows: []Row{{Kind: "percent", Value: "50"}, {Kind: "amount", Value: ""}}}); err != nil {
		t.Fatal(err)
	}
	st := state(t, db, 701)
	if st == nil || st.Kind != "percent" || st.Value != "50" || st.Bound != "500" {
		t.Fatalf("state %+v", st)
	}
	c, err := svc.Customer(ctx, staff, 701)
	if err != nil || !c.Level.Past() || len(c.Thresholds) != 4 || !c.CanEdit {
		t.Fatalf("%+v, %v", c, err)
	}
	sets, _, _ := db.QueryAudit(ctx, store.AuditFilter{Action: SetAction, Limit: 10})
	if len(sets) != 1 || sets[0].Actor != "staff-user" || sets[0].TargetUin != 701 || sets[0].Params["thresholds"] != "percent:50" ||
		sets[0].Params["defaults"] != "on" || sets[0].Params["previous"] != "" {
		t.Fatalf("audit of the change %+v", sets)
	}
	// An amount below it is more severe: a crossing.
	if err := svc.Set(ctx, staff, 701, Input{Defaults: false, Rows: []Row{{Kind: "percent", Value: "50"}, {Kind: "amount", Value: "450.50"}}}); err != nil {
		t.Fatal(err)
	}
	if st := state(t, db, 701); st == nil || st.Kind != "amount" || st.Value != "450.5" {
		t.Fatalf("state %+v", st)
	}
	if n := len(crossings(t, db)); n != 2 {
		t.Fatalf("%d crossings, want 2", n)
	}
	// None at all: not watched, no state.
	if err := svc.Set(ctx, staff, 701, Input{Defaults: false}); err != nil {
		t.Fatal(err)
	}
	if st := state(t, db, 701); st != nil {
		t.Fatalf("still past %+v", st)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rows  []Row
		field string // the field at fault; "" valid
		n     int
	}{
		{"empty rows are left out", []Row{{"percent", ""}, {"amount", "  "}}, "", 0},
		{"a per cent and an amount", []Row{{"percent", "12.5"}, {"amount", "1000000"}}, "", 2},
		{"a repeat counts once", []Row{{"percent", "5"}, {"percent", "5.00"}}, "", 1},
		{"three decimals", []Row{{"amount", "1.005"}}, "value.0", 0},
		{"a sign", []Row{{"percent", "+5"}}, "value.0", 0},
		{"an exponent", []Row{{"amount", "1e3"}}, "value.0", 0},
		{"not a number", []Row{{"amount", ""}, {"amount", "ten"}}, "value.1", 0},
		{"over 100 %", []Row{{"percent", "100.01"}}, "value.0", 0},
		{"over the largest amount", []Row{{"amount", "1000000000.01"}}, "value.0", 0},
		{"too long", []Row{{"amount", "000000000000000000001"}}, "value.0", 0},
		{"an unknown kind", []Row{{"ratio", "1"}}, "kind.0", 0},
		{"too many", func() []Row {
			var rows []Row
			for i := range MaxCustom + 1 {
				rows = append(rows, Row{"amount", string(rune('1' + i%9))})
				rows[i].Value += "0" + string(rune('0'+i/9))
			}
			return rows
		}(), "value.10", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th, err := Parse(Input{Defaults: true, Rows: tc.rows})
			if tc.field == "" {
				if err != nil || len(th.Custom) != tc.n {
					t.Fatalf("%d thresholds, %v", len(th.Custom), err)
				}
				return
			}
			if fields := apperr.Fields(err); fields[tc.field] == nil {
				t.Fatalf("got %v, want a problem with %s", err, tc.field)
			}
		})
	}
}

func TestServiceHoldsAResellerToItsOwn(t *testing.T) {
	db, _ := openDB(t)
	put(t, db,
		store.Customer{Uin: 801, Name: "Own", ResellerUin: 55},
		store.Customer{Uin: 802, Name: "Other", ResellerUin: 66},
		store.Customer{Uin: 803, Name: "Direct", Credit: "100", RemainingCredit: "0"},
	)
	svc := NewService(db)
	ctx := t.Context()
	sub := audit.UserActor(store.User{ID: 5, Username: "sub", Role: "subagent", SubagentUin: 55}, "10.0.0.5")
	finance := audit.UserActor(store.User{ID: 6, Username: "fin", Role: "finance"}, "10.0.0.6")
	staff := audit.UserActor(store.User{ID: 7, Username: "staff", Role: "staff"}, "10.0.0.7")
	// Each is read and found past a threshold, as their pages would.
	observe(t, db, Source{Via: "customer page"},
		Seen{Uin: 801, ResellerUin: 55, Credit: "100", Remaining: "1"}, Seen{Uin: 802, ResellerUin: 66, Credit: "100", Remaining: "2"},
		Seen{Uin: 803, Credit: "100", Remaining: "0"})

	if _, err := svc.Customer(ctx, sub, 802); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another reseller's customer: %v", err)
	}
	if err := svc.Set(ctx, sub, 803, Input{Defaults: true}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("setting a direct customer: %v", err)
	}
	if err := svc.Set(ctx, sub, 801, Input{Defaults: true, Rows: []Row{{"amount", "50"}}}); err != nil {
		t.Errorf("its own customer: %v", err)
	}
	if err := svc.Set(ctx, finance, 803, Input{Defaults: true}); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("finance sets: %v", err)
	}
	if c, err := svc.Customer(ctx, finance, 803); err != nil || c.CanEdit {
		t.Errorf("finance reads: %v, may edit %v", err, c.CanEdit)
	}
	if _, err := svc.Customer(ctx, staff, 4242); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("an unknown customer: %v", err)
	}
	l, err := svc.List(ctx, sub, 10)
	if err != nil || l.Total != 1 || len(l.Customers) != 1 || l.Customers[0].Uin != 801 {
		t.Fatalf("the reseller's list %+v, %v", l, err)
	}
	l, err = svc.List(ctx, staff, 10)
	if err != nil || l.Total != 3 || l.Customers[0].Uin != 803 {
		t.Fatalf("the partner's list %+v, %v", l, err)
	}
}
