package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func putBills(t *testing.T, db *DB, bs ...BillMonth) {
	t.Helper()
	ctx := t.Context()
	if err := db.Write(ctx, func(tx *Tx) error {
		for _, b := range bs {
			if err := tx.PutBillMonth(ctx, b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestBillMonthRoundTrip(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 3, 4, 5, 6, 0, time.UTC)
	b := BillMonth{CustomerUin: 1001, Month: "2026-11", Total: "12.34567891", RequestID: "req-1", FetchedAt: at,
		Products: []BillPart{{Code: "p_cos", Name: "COS", OriginalCost: "2.00000000", VoucherAmount: "0.00000000", Total: "2.00000000"},
			{Code: "p_cvm", Name: "CVM", OriginalCost: "11.34567891", VoucherAmount: "1.00000000", Total: "10.34567891"}},
		Regions: []BillPart{{Code: "ap-guangzhou", Name: "Guangzhou", Total: "12.34567891"}},
		PayModes: []BillPayMode{{BillPart: BillPart{Code: "postPay", Name: "Pay-as-you-go", Total: "12.34567891"},
			Actions: []BillPart{{Code: "postpay_deduct_h", Name: "Hourly", Total: "12.34567891"}}}},
	}
	putBills(t, db, b)
	got, err := db.BillMonthOf(ctx, 1001, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("BillMonthOf =\n%+v\nwant\n%+v", got, b)
	}
	// A second read of the month replaces every breakdown.
	b.Products, b.Regions, b.PayModes, b.Total = []BillPart{{Code: "p_cdn", Name: "CDN", Total: "1"}}, nil, nil, "1"
	putBills(t, db, b)
	if got, err = db.BillMonthOf(ctx, 1001, "2026-11"); err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("after replacing: %+v, %v", got, err)
	}
	if _, err := db.BillMonthOf(ctx, 1001, "2026-10"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unread month: %v, want ErrNotFound", err)
	}
	bad := []BillMonth{
		{CustomerUin: 0, Month: "2026-11", Total: "1", FetchedAt: at},
		{CustomerUin: 1, Month: "2026-1", Total: "1", FetchedAt: at},
		{CustomerUin: 1, Month: "2026-11", Total: "one", FetchedAt: at},
	}
	for _, x := range bad {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutBillMonth(ctx, x) }); err == nil {
			t.Errorf("PutBillMonth(%+v) took it", x)
		}
	}
}

func TestBillRowsAndTotals(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 3, 4, 5, 6, 0, time.UTC)
	putCustomers(t, db,
		Customer{Uin: 1, Name: "Alpha", AuthType: -1, FetchedAt: at},
		Customer{Uin: 2, Name: "beta", AuthType: -1, FetchedAt: at},
		Customer{Uin: 3, Name: "Gamma", ResellerUin: 77, AuthType: -1, FetchedAt: at})
	putBills(t, db,
		BillMonth{CustomerUin: 1, Month: "2026-11", Total: "10.00000001", FetchedAt: at},
		BillMonth{CustomerUin: 2, Month: "2026-11", Total: "0.1", FetchedAt: at.Add(time.Hour)},
		BillMonth{CustomerUin: 3, Month: "2026-11", Total: "5", FetchedAt: at},
		BillMonth{CustomerUin: 4, Month: "2026-11", Total: "0.2", FetchedAt: at}, // not in the customers table
		BillMonth{CustomerUin: 1, Month: "2026-10", Total: "20", FetchedAt: at},
		BillMonth{CustomerUin: 2, Month: "2026-10", Total: "0.05", FetchedAt: at},
	)
	direct, reseller := uint64(0), uint64(77)
	tests := []struct {
		name  string
		q     BillQuery
		want  []uint64
		total int
	}{
		{"default: total ascending", BillQuery{Month: "2026-11", Previous: "2026-10"}, []uint64{2, 4, 3, 1}, 4},
		{"total descending", BillQuery{Month: "2026-11", Previous: "2026-10", Desc: true}, []uint64{1, 3, 4, 2}, 4},
		{"name, any case", BillQuery{Month: "2026-11", Sort: "name"}, []uint64{4, 1, 2, 3}, 4},
		{"change", BillQuery{Month: "2026-11", Previous: "2026-10", Sort: "change"}, []uint64{1, 2, 4, 3}, 4},
		{"previous", BillQuery{Month: "2026-11", Previous: "2026-10", Sort: "previous", Desc: true}, []uint64{1, 2, 4, 3}, 4},
		{"a page", BillQuery{Month: "2026-11", Sort: "uin", Limit: 2, Offset: 1}, []uint64{2, 3}, 4},
		{"direct customers", BillQuery{Month: "2026-11", Sort: "uin", ResellerUin: &direct}, []uint64{1, 2, 4}, 3},
		{"a reseller's", BillQuery{Month: "2026-11", Sort: "uin", ResellerUin: &reseller}, []uint64{3}, 1},
		{"an empty month", BillQuery{Month: "2026-09"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, total, err := db.BillRows(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var uins []uint64
			for _, r := range rows {
				uins = append(uins, r.Uin)
			}
			if !reflect.DeepEqual(uins, tt.want) || total != tt.total {
				t.Fatalf("BillRows = %v (%d), want %v (%d)", uins, total, tt.want, tt.total)
			}
		})
	}
	rows, _, err := db.BillRows(ctx, BillQuery{Month: "2026-11", Previous: "2026-10", Sort: "uin"})
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.Name != "Alpha" || r.Total != "10.00000001" || r.TotalE8 != 1000000001 || r.Previous != "20" || r.PreviousE8 != 2000000000 {
		t.Fatalf("row 1 = %+v", r)
	}
	if r := rows[2]; r.ResellerUin != 77 || r.Previous != "" {
		t.Fatalf("row 3 = %+v", r)
	}
	if _, _, err := db.BillRows(ctx, BillQuery{Month: "2026-11", Sort: "credit"}); !errors.Is(err, ErrInvalidCustomerQuery) {
		t.Fatalf("unknown sort: %v", err)
	}

	totals, err := db.BillTotals(ctx, []string{"2026-11", "2026-10", "2026-09"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if FromE8(totals[0].TotalE8).String() != "15.30000001" || totals[0].Customers != 4 || !totals[0].Newest.Equal(at.Add(time.Hour)) || !totals[0].Oldest.Equal(at) {
		t.Fatalf("November = %+v", totals[0])
	}
	if FromE8(totals[1].TotalE8).String() != "20.05" || totals[2].Customers != 0 || totals[2].Month != "2026-09" {
		t.Fatalf("totals = %+v", totals)
	}
	mine, err := db.BillTotals(ctx, []string{"2026-11"}, &reseller)
	if err != nil || mine[0].Customers != 1 || FromE8(mine[0].TotalE8).String() != "5" {
		t.Fatalf("reseller's November = %+v, %v", mine, err)
	}
	n, oldest, err := db.BillMonthStats(ctx, "2026-11")
	if err != nil || n != 3 || !oldest.Equal(at) { // the reseller's customer 3 is not counted
		t.Fatalf("BillMonthStats = %d, %s, %v", n, oldest, err)
	}
}
