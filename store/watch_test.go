package store

import (
	"errors"
	"testing"
	"time"
)

func TestWatchSettings(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	putCustomers(t, db, Customer{Uin: 1001, Name: "a", Credit: "1000", RemainingCredit: "900"}, Customer{Uin: 1002, Name: "b"})

	t.Run("nobody's settings are the defaults alone", func(t *testing.T) {
		s, err := db.WatchSettings(ctx, 1001)
		if err != nil || s.NoDefaults || len(s.Custom) != 0 || !s.UpdatedAt.IsZero() {
			t.Fatalf("%+v, %v", s, err)
		}
	})
	t.Run("set, replaced, read back in order", func(t *testing.T) {
		set := WatchSettings{Uin: 1001, NoDefaults: true, UpdatedBy: "staff-user", Custom: []WatchThreshold{
			{WatchAmount, "500"}, {WatchPercent, "12.5"}, {WatchAmount, "1500.25"}, {WatchPercent, "12.50"},
		}}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetWatchSettings(ctx, set) }); err != nil {
			t.Fatal(err)
		}
		s, err := db.WatchSettings(ctx, 1001)
		if err != nil {
			t.Fatal(err)
		}
		// 12.5 and 12.50 are the same threshold: stored once.
		want := []WatchThreshold{{WatchPercent, "12.5"}, {WatchAmount, "1500.25"}, {WatchAmount, "500"}}
		if !s.NoDefaults || s.UpdatedBy != "staff-user" || !s.UpdatedAt.Equal(clock.Now()) || len(s.Custom) != len(want) {
			t.Fatalf("%+v", s)
		}
		for i := range want {
			if s.Custom[i] != want[i] {
				t.Errorf("threshold %d = %+v, want %+v", i, s.Custom[i], want[i])
			}
		}
		set = WatchSettings{Uin: 1001, UpdatedBy: "admin-user", Custom: []WatchThreshold{{WatchPercent, "50"}}}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetWatchSettings(ctx, set) }); err != nil {
			t.Fatal(err)
		}
		m, err := db.WatchSettingsOf(ctx, []uint64{1001, 1002, 9999})
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 || m[1001].NoDefaults || len(m[1001].Custom) != 1 || m[1001].Custom[0].Value != "50" {
			t.Fatalf("after replacing: %+v", m)
		}
	})
	for _, bad := range []struct {
		name string
		s    WatchSettings
		want error
	}{
		{"an unknown customer", WatchSettings{Uin: 4242}, ErrNotFound},
		{"a kind it does not know", WatchSettings{Uin: 1001, Custom: []WatchThreshold{{"ratio", "1"}}}, nil},
		{"a value that is not a decimal", WatchSettings{Uin: 1001, Custom: []WatchThreshold{{WatchAmount, "1e3x"}}}, nil},
		{"a negative value", WatchSettings{Uin: 1001, Custom: []WatchThreshold{{WatchAmount, "-1"}}}, nil},
		{"an empty value", WatchSettings{Uin: 1001, Custom: []WatchThreshold{{WatchPercent, ""}}}, nil},
	} {
		t.Run("refuses "+bad.name, func(t *testing.T) {
			err := db.Write(ctx, func(tx *Tx) error { return tx.SetWatchSettings(ctx, bad.s) })
			if err == nil || (bad.want != nil && !errors.Is(err, bad.want)) {
				t.Fatalf("got %v, want an error (%v)", err, bad.want)
			}
		})
	}
}

func TestWatchStateAndLists(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	putCustomers(t, db,
		Customer{Uin: 2001, Name: "quarter", Credit: "1000", RemainingCredit: "200"},
		Customer{Uin: 2002, Name: "empty", Credit: "1000", RemainingCredit: "0"},
		Customer{Uin: 2003, Name: "tenth", Credit: "500", RemainingCredit: "40"},
		Customer{Uin: 2004, Name: "no line", Credit: "0", RemainingCredit: "0", ResellerUin: 77},
		Customer{Uin: 2005, Name: "fine", Credit: "1000", RemainingCredit: "1000"},
	)
	share := func(v int64) *int64 { return &v }
	since := clock.Now().Add(-time.Hour)
	states := []WatchState{
		{Uin: 2001, Kind: WatchPercent, Value: "25", Bound: "250", Credit: "1000", Remaining: "200", ShareMicros: share(200_000)},
		{Uin: 2002, Kind: WatchPercent, Value: "0", Bound: "0", Credit: "1000", Remaining: "0", ShareMicros: share(0)},
		{Uin: 2003, Kind: WatchPercent, Value: "10", Bound: "50", Credit: "500", Remaining: "40", ShareMicros: share(80_000)},
		{Uin: 2004, Kind: WatchAmount, Value: "10", Bound: "10", Credit: "0", Remaining: "5"},
	}
	err := db.Write(ctx, func(tx *Tx) error {
		for _, s := range states {
			s.Since, s.AsOf = since, clock.Now()
			if err := tx.PutWatchState(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("read back", func(t *testing.T) {
		s, err := db.WatchState(ctx, 2003)
		if err != nil || s.Kind != WatchPercent || s.Value != "10" || s.Bound != "50" || *s.ShareMicros != 80_000 || !s.Since.Equal(since) {
			t.Fatalf("%+v, %v", s, err)
		}
		if _, err := db.WatchState(ctx, 2005); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a customer past nothing: %v", err)
		}
	})
	t.Run("most severe first", func(t *testing.T) {
		list, total, err := db.WatchedCustomers(ctx, WatchQuery{})
		if err != nil || total != 4 {
			t.Fatalf("%d, %v", total, err)
		}
		want := []uint64{2002, 2003, 2001, 2004} // nothing left, 8 %, 20 %, no credit line
		for i, w := range want {
			if list[i].Uin != w {
				t.Errorf("row %d is %d, want %d", i, list[i].Uin, w)
			}
		}
		if list[3].Name != "no line" || list[3].ResellerUin != 77 || list[3].ShareMicros != nil {
			t.Errorf("row of a reseller's customer: %+v", list[3])
		}
	})
	t.Run("a reseller's, and a limit", func(t *testing.T) {
		r := uint64(77)
		list, total, err := db.WatchedCustomers(ctx, WatchQuery{ResellerUin: &r})
		if err != nil || total != 1 || len(list) != 1 || list[0].Uin != 2004 {
			t.Fatalf("%+v %d %v", list, total, err)
		}
		list, total, err = db.WatchedCustomers(ctx, WatchQuery{Limit: 2})
		if err != nil || total != 4 || len(list) != 2 {
			t.Fatalf("%d rows of %d, %v", len(list), total, err)
		}
	})
	t.Run("the customers list's filter", func(t *testing.T) {
		_, total, err := db.SearchCustomers(ctx, CustomerQuery{Watched: true})
		if err != nil || total != 4 {
			t.Fatalf("%d, %v", total, err)
		}
	})
	t.Run("cleared, and gone with its customer", func(t *testing.T) {
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.ClearWatchState(ctx, 2001); err != nil {
				return err
			}
			return tx.DeleteCustomer(ctx, 2002)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, total, err := db.WatchedCustomers(ctx, WatchQuery{})
		if err != nil || total != 2 {
			t.Fatalf("%d, %v", total, err)
		}
	})
	t.Run("no state for a customer the table does not hold", func(t *testing.T) {
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.PutWatchState(ctx, WatchState{Uin: 9999, Kind: WatchPercent, Value: "0", Bound: "0", Credit: "1", Remaining: "0",
				Since: clock.Now(), AsOf: clock.Now()})
		})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}
