package store

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// putCustomers upserts customers in one transaction.
func putCustomers(t testing.TB, db *DB, cs ...Customer) {
	t.Helper()
	ctx := t.Context()
	if err := db.Write(ctx, func(tx *Tx) error {
		for _, c := range cs {
			if err := tx.UpsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// uinsOf lists the customers' UINs in order.
func uinsOf(cs []Customer) []uint64 {
	out := make([]uint64, len(cs))
	for i, c := range cs {
		out[i] = c.Uin
	}
	return out
}

// customerFixture is a small directory: direct customers, two resellers'
// indirect ones, suspended ones both ways, spends of two months.
func customerFixture(t *testing.T) (*DB, *testClock) {
	db, clock, _ := openTestDB(t)
	bind := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	putCustomers(t, db,
		Customer{Uin: 100001, Name: "Acme Trading Ltd", Email: "billing@acmetrading.com", Phone: "91234567", Remark: "VIP gaming",
			Credit: "100.5", RemainingCredit: "80", AccountStatus: "0", AuthStatus: "3", AuthType: 1, BindTime: bind,
			SpendMonth: "2025-03", Spend: "12.5"},
		Customer{Uin: 100002, Name: "wei chan", Email: "wei.chan7@gmail.com", Phone: "81234567", Remark: "",
			Credit: "9", RemainingCredit: "9", AccountStatus: "0", AuthStatus: "-1", AuthType: -1, BindTime: bind.Add(time.Hour),
			SpendMonth: "2025-03", Spend: "0"},
		Customer{Uin: 100003, Name: "Zoë Müller", Email: "zoe@example.de", Phone: "15550001", Remark: "order 4471",
			Credit: "1000", RemainingCredit: "0", Force: 2, AccountStatus: "2", AuthStatus: "3", BindTime: bind.Add(2 * time.Hour),
			SpendMonth: "2025-02", Spend: "300"},
		Customer{Uin: 100004, Name: "Blue Harbor Games", Email: "it@blueharbor.com", Remark: "gaming",
			Credit: "10", RemainingCredit: "0", AccountStatus: "2", AuthStatus: "3", BindTime: bind.Add(3 * time.Hour)},
		Customer{Uin: 200001, Name: "Kenji Tanaka", ResellerUin: 900001, BindTime: bind.Add(4 * time.Hour)},
		Customer{Uin: 200002, Name: "Acme Cloud Partners", ResellerUin: 900001, BindTime: bind.Add(5 * time.Hour)},
		Customer{Uin: 300001, Name: "Priya Sharma", ResellerUin: 900002, BindTime: bind.Add(6 * time.Hour)},
		Customer{Uin: 1000012, Name: "Late Starter", Email: "late@starter.io", Credit: "100.25", RemainingCredit: "100.25",
			AuthStatus: "0", BindTime: bind.Add(7 * time.Hour)},
	)
	return db, clock
}

func TestUpsertCustomer(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	first := Customer{Uin: 4242, Name: "Acme", Email: "a@acme.com", Country: "65", Credit: "1.123456789", RemainingCredit: "1",
		AuthType: 1, HasExpense: true, ResellerUin: 77, BindTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	putCustomers(t, db, first)
	got, err := db.CustomerByUin(ctx, 4242)
	if err != nil {
		t.Fatal(err)
	}
	first.FetchedAt = clock.Now() // zero FetchedAt: now by the store's clock
	if got != first {
		t.Fatalf("CustomerByUin = %+v, want %+v", got, first)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.SetCustomerSpend(ctx, 4242, "2025-03", "42.10") }); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name                     string
		update                   Customer
		country, month, spend    string
		name_, credit, remaining string
	}{
		{"a refresh without country or spend keeps them",
			Customer{Uin: 4242, Name: "Acme Ltd", Credit: "2", RemainingCredit: "2"}, "65", "2025-03", "42.10", "Acme Ltd", "2", "2"},
		{"given ones replace them",
			Customer{Uin: 4242, Name: "Acme Ltd", Country: "852", SpendMonth: "2025-04", Spend: "1"}, "852", "2025-04", "1", "Acme Ltd", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			putCustomers(t, db, tt.update)
			got, err := db.CustomerByUin(ctx, 4242)
			if err != nil {
				t.Fatal(err)
			}
			if got.Country != tt.country || got.SpendMonth != tt.month || got.Spend != tt.spend || got.Name != tt.name_ ||
				got.Credit != tt.credit || got.RemainingCredit != tt.remaining || !got.FetchedAt.Equal(clock.Now()) {
				t.Errorf("after update = %+v", got)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		for _, c := range []Customer{
			{Uin: 0, Name: "no uin"},
			{Uin: 1 << 63, Name: "too large"},
			{Uin: 5, Credit: "1,000"},
			{Uin: 5, RemainingCredit: "NaN"},
			{Uin: 5, Spend: "1"},
			{Uin: 5, SpendMonth: "2025-3", Spend: "1"},
		} {
			err := db.Write(ctx, func(tx *Tx) error { return tx.UpsertCustomer(ctx, c) })
			if err == nil {
				t.Errorf("UpsertCustomer(%+v) = nil, want an error", c)
			}
		}
		if _, err := db.CustomerByUin(ctx, 5); !errors.Is(err, ErrNotFound) {
			t.Errorf("a refused customer was stored: %v", err)
		}
	})
}

func TestSetCustomerSpend(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	tests := []struct {
		name         string
		uin          uint64
		month, total string
		want         error // nil: ok; ErrNotFound; errAny: some error
	}{
		{"recorded", 100004, "2025-03", "7.25", nil},
		{"zero", 100002, "2025-03", "0", nil},
		{"not a customer", 999, "2025-03", "1", ErrNotFound},
		{"bad month", 100004, "March", "1", errAny},
		{"bad total", 100004, "2025-03", "1e", errAny},
		{"empty total", 100004, "2025-03", "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Write(ctx, func(tx *Tx) error { return tx.SetCustomerSpend(ctx, tt.uin, tt.month, tt.total) })
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("SetCustomerSpend = %v", err)
			case tt.want == errAny && err == nil:
				t.Fatal("SetCustomerSpend = nil, want an error")
			case tt.want == ErrNotFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("SetCustomerSpend = %v, want ErrNotFound", err)
			}
			if tt.want != nil {
				return
			}
			c, err := db.CustomerByUin(ctx, tt.uin)
			if err != nil || c.SpendMonth != tt.month || c.Spend != tt.total {
				t.Errorf("after SetCustomerSpend = %+v, %v", c, err)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestSearchCustomersFilters(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	tests := []struct {
		name string
		q    CustomerQuery
		want []uint64
	}{
		{"all, by UIN", CustomerQuery{}, []uint64{100001, 100002, 100003, 100004, 200001, 200002, 300001, 1000012}},
		{"name prefix, any case", CustomerQuery{Text: "ACM"}, []uint64{100001, 200002}},
		{"every word must match", CustomerQuery{Text: "acme cloud"}, []uint64{200002}},
		{"word inside a name", CustomerQuery{Text: "trad"}, []uint64{100001}},
		{"email", CustomerQuery{Text: "blueharbor.com"}, []uint64{100004}},
		{"email local part", CustomerQuery{Text: "wei.chan"}, []uint64{100002}},
		{"remark", CustomerQuery{Text: "gaming"}, []uint64{100001, 100004}},
		{"diacritics folded", CustomerQuery{Text: "zoe muller"}, []uint64{100003}},
		{"exact UIN", CustomerQuery{Text: "100003"}, []uint64{100003}},
		{"UIN prefix", CustomerQuery{Text: "10000"}, []uint64{100001, 100002, 100003, 100004, 1000012}},
		{"UIN prefix of a longer UIN", CustomerQuery{Text: "1000012"}, []uint64{1000012}},
		{"digits in a remark", CustomerQuery{Text: "4471"}, []uint64{100003}},
		{"digits in neither", CustomerQuery{Text: "5"}, nil},
		{"spaces around", CustomerQuery{Text: "  kenji  "}, []uint64{200001}},
		{"auth status", CustomerQuery{AuthStatus: "3"}, []uint64{100001, 100003, 100004}},
		{"not an auth status", CustomerQuery{NotAuthStatus: "3"}, []uint64{100002, 200001, 200002, 300001, 1000012}},
		{"suspended", CustomerQuery{Suspended: ptr(true)}, []uint64{100003, 100004}},
		{"not suspended", CustomerQuery{Suspended: ptr(false)}, []uint64{100001, 100002, 200001, 200002, 300001, 1000012}},
		{"direct customers", CustomerQuery{ResellerUin: ptr(uint64(0))}, []uint64{100001, 100002, 100003, 100004, 1000012}},
		{"one reseller's", CustomerQuery{ResellerUin: ptr(uint64(900001))}, []uint64{200001, 200002}},
		{"spend this month", CustomerQuery{HasSpendThisMonth: ptr(true), Month: "2025-03"}, []uint64{100001}},
		{"no spend this month", CustomerQuery{HasSpendThisMonth: ptr(false), Month: "2025-03"},
			[]uint64{100002, 100003, 100004, 200001, 200002, 300001, 1000012}},
		{"after a UIN", CustomerQuery{AfterUin: 200001}, []uint64{200002, 300001, 1000012}},
		{"credit used up", CustomerQuery{CreditAtMost: ptr(0)}, []uint64{100003, 100004}},
		{"80 % or less left", CustomerQuery{CreditAtMost: ptr(80)}, []uint64{100001, 100003, 100004}},
		{"79 % or less left", CustomerQuery{CreditAtMost: ptr(79)}, []uint64{100003, 100004}},
		{"any credit line", CustomerQuery{CreditAtMost: ptr(100)}, []uint64{100001, 100002, 100003, 100004, 1000012}},
		{"filters together", CustomerQuery{Text: "gaming", Suspended: ptr(true), ResellerUin: ptr(uint64(0))}, []uint64{100004}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, total, err := db.SearchCustomers(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := uinsOf(page); !slices.Equal(got, tt.want) || total != len(tt.want) {
				t.Errorf("SearchCustomers(%+v) = %v (total %d), want %v", tt.q, got, total, tt.want)
			}
		})
	}
}

// TestSearchCustomersTextIsNotSyntax feeds FTS5 syntax and SQL as search
// text: each is searched for as words, never run.
func TestSearchCustomersTextIsNotSyntax(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	putCustomers(t, db, Customer{Uin: 555, Name: `The "Quoted" Co`, Remark: "a OR b NEAR c"})
	tests := []struct {
		text string
		want []uint64
	}{
		{`"quoted"`, []uint64{555}},
		{`"quoted`, []uint64{555}},
		{`quoted"`, []uint64{555}},
		{`OR`, []uint64{555, 100003}}, // and "order" by its prefix
		{`NEAR`, []uint64{555}},
		{`acme OR kenji`, nil},
		{`name:acme`, nil},
		{`acme*`, []uint64{100001, 200002}},
		{`-acme`, []uint64{100001, 200002}},
		{`^acme`, []uint64{100001, 200002}},
		{`NEAR(acme trading)`, nil},
		{`"`, nil},
		{`*`, nil},
		{`(`, nil},
		{`' OR 1=1 --`, nil},
		{`%`, nil},
		{`acme_`, []uint64{100001, 200002}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			page, total, err := db.SearchCustomers(ctx, CustomerQuery{Text: tt.text})
			if err != nil {
				t.Fatalf("SearchCustomers(%q) = %v", tt.text, err)
			}
			if got := uinsOf(page); !slices.Equal(got, tt.want) || total != len(tt.want) {
				t.Errorf("SearchCustomers(%q) = %v (total %d), want %v", tt.text, got, total, tt.want)
			}
		})
	}
}

func TestSearchCustomersSort(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	direct := ptr(uint64(0))
	tests := []struct {
		name string
		q    CustomerQuery
		want []uint64
	}{
		// 9 < 10 < 100.25 < 100.5 < 1000: numeric, not text order.
		{"credit", CustomerQuery{ResellerUin: direct, Sort: "credit"}, []uint64{100002, 100004, 1000012, 100001, 100003}},
		{"credit, descending", CustomerQuery{ResellerUin: direct, Sort: "credit", Desc: true}, []uint64{100003, 100001, 1000012, 100004, 100002}},
		// Ties fall back to the UIN, in the same direction.
		{"remaining credit", CustomerQuery{ResellerUin: direct, Sort: "remaining_credit"}, []uint64{100003, 100004, 100002, 100001, 1000012}},
		{"remaining credit, descending", CustomerQuery{ResellerUin: direct, Sort: "remaining_credit", Desc: true}, []uint64{1000012, 100001, 100002, 100004, 100003}},
		{"name, any case", CustomerQuery{ResellerUin: direct, Sort: "name"}, []uint64{100001, 100004, 1000012, 100002, 100003}},
		{"email", CustomerQuery{ResellerUin: direct, Sort: "email"}, []uint64{100001, 100004, 1000012, 100002, 100003}},
		{"phone", CustomerQuery{ResellerUin: direct, Sort: "phone"}, []uint64{100004, 1000012, 100003, 100002, 100001}},
		{"remark", CustomerQuery{ResellerUin: direct, Sort: "remark"}, []uint64{100002, 1000012, 100004, 100003, 100001}},
		{"force", CustomerQuery{ResellerUin: direct, Sort: "force", Desc: true}, []uint64{100003, 1000012, 100004, 100002, 100001}},
		{"auth status", CustomerQuery{ResellerUin: direct, Sort: "auth_status"}, []uint64{100002, 1000012, 100001, 100003, 100004}},
		{"reseller", CustomerQuery{Sort: "reseller_uin", Desc: true, Limit: 3}, []uint64{300001, 200002, 200001}},
		{"bind time", CustomerQuery{Sort: "bind_time", Desc: true, Limit: 2}, []uint64{1000012, 300001}},
		{"uin, descending", CustomerQuery{Sort: "uin", Desc: true, Limit: 2}, []uint64{1000012, 300001}},
		// A spend of this month ranks above an earlier month's, whatever
		// the amounts; no spend lowest.
		{"spend", CustomerQuery{ResellerUin: direct, Sort: "spend", Desc: true}, []uint64{100001, 100002, 100003, 1000012, 100004}},
		{"spend, ascending", CustomerQuery{ResellerUin: direct, Sort: "spend"}, []uint64{100004, 1000012, 100003, 100002, 100001}},
		{"page", CustomerQuery{Sort: "name", Limit: 2, Offset: 2}, []uint64{100004, 200001}},
		{"past the end", CustomerQuery{Sort: "name", Limit: 2, Offset: 8}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, total, err := db.SearchCustomers(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := uinsOf(page); !slices.Equal(got, tt.want) {
				t.Errorf("SearchCustomers(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			if tt.q.Limit == 0 && total != len(tt.want) {
				t.Errorf("total = %d, want %d", total, len(tt.want))
			}
		})
	}

	t.Run("every sort runs both ways", func(t *testing.T) {
		for _, s := range CustomerSorts {
			for _, desc := range []bool{false, true} {
				page, total, err := db.SearchCustomers(ctx, CustomerQuery{Sort: s, Desc: desc, Month: "2025-03"})
				if err != nil || len(page) != 8 || total != 8 {
					t.Errorf("sort %s desc=%v: %d rows of %d, %v", s, desc, len(page), total, err)
				}
			}
		}
	})
}

func TestSearchCustomersRefused(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	tests := []struct {
		name string
		q    CustomerQuery
	}{
		{"unknown sort", CustomerQuery{Sort: "password"}},
		{"SQL as sort", CustomerQuery{Sort: "name; DROP TABLE customers"}},
		{"column not sortable", CustomerQuery{Sort: "account_status"}},
		{"spend filter without month", CustomerQuery{HasSpendThisMonth: ptr(true)}},
		{"malformed month", CustomerQuery{Month: "2025-3"}},
		{"reseller out of range", CustomerQuery{ResellerUin: ptr(uint64(1 << 63))}},
		{"credit share over 100", CustomerQuery{CreditAtMost: ptr(101)}},
		{"credit share negative", CustomerQuery{CreditAtMost: ptr(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.SearchCustomers(ctx, tt.q); !errors.Is(err, ErrInvalidCustomerQuery) {
				t.Errorf("SearchCustomers = %v, want ErrInvalidCustomerQuery", err)
			}
			err := db.EachCustomer(ctx, tt.q, func(Customer) error { return nil })
			if !errors.Is(err, ErrInvalidCustomerQuery) {
				t.Errorf("EachCustomer = %v, want ErrInvalidCustomerQuery", err)
			}
		})
	}
	t.Run("limits are clamped", func(t *testing.T) {
		page, total, err := db.SearchCustomers(ctx, CustomerQuery{Limit: MaxCustomerLimit + 1, Offset: -3})
		if err != nil || len(page) != 8 || total != 8 {
			t.Errorf("SearchCustomers = %d rows of %d, %v", len(page), total, err)
		}
	})
}

func TestEachCustomer(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	stop := errors.New("stop")
	direct := ptr(uint64(0))
	tests := []struct {
		name    string
		q       CustomerQuery
		stopAt  int // fn fails at this row (1-based); 0 never
		want    []uint64
		wantErr error
	}{
		{"every row in order, Limit and Offset ignored", CustomerQuery{Sort: "credit", Desc: true, ResellerUin: direct, Limit: 1, Offset: 3},
			0, []uint64{100003, 100001, 1000012, 100004, 100002}, nil},
		{"filtered", CustomerQuery{Text: "acme"}, 0, []uint64{100001, 200002}, nil},
		{"none", CustomerQuery{Text: "nobody"}, 0, nil, nil},
		{"stops at fn's error", CustomerQuery{}, 2, []uint64{100001, 100002}, stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			err := db.EachCustomer(ctx, tt.q, func(c Customer) error {
				got = append(got, c.Uin)
				if len(got) == tt.stopAt {
					return stop
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("EachCustomer = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("EachCustomer rows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCustomerOwner(t *testing.T) {
	db, _ := customerFixture(t)
	tests := []struct {
		uin     uint64
		want    uint64
		wantErr error
	}{
		{100001, 0, nil},
		{200002, 900001, nil},
		{300001, 900002, nil},
		{900001, 0, ErrNotFound}, // a reseller is not a customer
		{12345, 0, ErrNotFound},
		{1 << 63, 0, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatUint(tt.uin, 10), func(t *testing.T) {
			got, err := db.CustomerOwner(t.Context(), tt.uin)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("CustomerOwner(%d) = %d, %v; want %d, %v", tt.uin, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCustomerStatsAndLeavers(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	if n, oldest, err := db.CustomerStats(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty CustomerStats = %d, %v, %v", n, oldest, err)
	}
	start := clock.Now()
	putCustomers(t, db, Customer{Uin: 1, Name: "left"}, Customer{Uin: 2, Name: "stays"}, Customer{Uin: 3, Name: "stays too"})
	clock.Advance(time.Hour)
	refresh := clock.Now()
	clock.Advance(time.Second)
	putCustomers(t, db, Customer{Uin: 2, Name: "stays"}, Customer{Uin: 3, Name: "stays too"})
	if n, oldest, err := db.CustomerStats(ctx); err != nil || n != 3 || !oldest.Equal(start) {
		t.Fatalf("CustomerStats = %d, %v, %v; want 3, %v", n, oldest, err, start)
	}
	n, err := WriteReturning(ctx, db, func(tx *Tx) (int, error) { return tx.DeleteCustomersFetchedBefore(ctx, refresh) })
	if err != nil || n != 1 {
		t.Fatalf("DeleteCustomersFetchedBefore = %d, %v; want 1", n, err)
	}
	if _, err := db.CustomerByUin(ctx, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("the customer that left is still there: %v", err)
	}
	if n, oldest, err := db.CustomerStats(ctx); err != nil || n != 2 || !oldest.Equal(refresh.Add(time.Second)) {
		t.Errorf("CustomerStats after = %d, %v, %v", n, oldest, err)
	}
	// The search index forgets the customer too.
	if page, _, err := db.SearchCustomers(ctx, CustomerQuery{Text: "left"}); err != nil || len(page) != 0 {
		t.Errorf("search for the deleted customer = %v, %v", uinsOf(page), err)
	}
	t.Run("one customer", func(t *testing.T) {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteCustomer(ctx, 2) }); err != nil {
			t.Fatal(err)
		}
		err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteCustomer(ctx, 2) })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting it again = %v, want ErrNotFound", err)
		}
	})
}

// TestCustomerSearchIndexFollowsChanges checks the triggers that keep the
// external-content search index in step with the table.
func TestCustomerSearchIndexFollowsChanges(t *testing.T) {
	db, _ := customerFixture(t)
	ctx := t.Context()
	putCustomers(t, db, Customer{Uin: 100001, Name: "Renamed Holdings", Email: "ap@renamed.com", Remark: "former acme"})
	tests := []struct {
		text string
		want []uint64
	}{
		{"trading", nil},
		{"renamed", []uint64{100001}},
		{"former", []uint64{100001}},
		{"acme", []uint64{100001, 200002}},
		{"vip", nil},
	}
	for _, tt := range tests {
		page, _, err := db.SearchCustomers(ctx, CustomerQuery{Text: tt.text})
		if err != nil || !slices.Equal(uinsOf(page), tt.want) {
			t.Errorf("search %q = %v, %v; want %v", tt.text, uinsOf(page), err, tt.want)
		}
	}
	// rank 1 asks FTS5 to check the index against the content table too.
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO customers_fts (customers_fts, rank) VALUES ('integrity-check', 1)`)
		return err
	}); err != nil {
		t.Errorf("the search index does not match the table: %v", err)
	}
}

func TestMicros(t *testing.T) {
	tests := []struct {
		amount string
		want   int64
		ok     bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"12", 12_000_000, true},
		{"-12.5", -12_500_000, true},
		{"100.25", 100_250_000, true},
		{"0.000001", 1, true},
		{"0.0000005", 1, true},   // half away from zero
		{"-0.0000005", -1, true}, // on both sides
		{"0.00000049999", 0, true},
		{"1.12345678", 1_123_457, true},
		{"999999999999.999999", 999_999_999_999_999_999, true},
		{"1e3", 1_000_000_000, true},                  // not plain: parsed in full
		{"9223372036854.775807", math.MaxInt64, true}, // thirteen digits: parsed in full
		{"9223372036855", 0, false},
		{"1,000", 0, false},
		{"1.", 1_000_000, true}, // as decimal reads it
		{".5", 500_000, true},
		{"abc", 0, false},
		{"-", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.amount, func(t *testing.T) {
			got, err := micros("credit", tt.amount)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("micros(%q) = %d, %v; want %d (ok %v)", tt.amount, got, err, tt.want, tt.ok)
			}
			if d, err := decimal.NewFromString(tt.amount); err == nil && tt.ok {
				if want := d.Shift(6).Round(0).IntPart(); want != got {
					t.Errorf("micros(%q) = %d, decimal says %d", tt.amount, got, want)
				}
			}
		})
	}
}

func TestUinPrefixRanges(t *testing.T) {
	tests := []struct {
		digits string
		first  [2]int64 // the first range
		n      int      // how many ranges
	}{
		{"1", [2]int64{1, 1}, 19},
		{"12", [2]int64{12, 12}, 18},
		{"9223372036854775807", [2]int64{9223372036854775807, 9223372036854775807}, 1},
		{"9223372036854775808", [2]int64{}, 0},
		{"0", [2]int64{}, 0},
		{"01", [2]int64{}, 0},
		{"12345678901234567890", [2]int64{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.digits, func(t *testing.T) {
			_, args := uinPrefixRanges(tt.digits)
			if len(args) != 2*tt.n {
				t.Fatalf("%d ranges, want %d: %v", len(args)/2, tt.n, args)
			}
			if tt.n > 0 && (args[0] != tt.first[0] || args[1] != tt.first[1]) {
				t.Errorf("first range = %v–%v, want %v", args[0], args[1], tt.first)
			}
			for i := 0; i+1 < len(args); i += 2 {
				if args[i].(int64) > args[i+1].(int64) {
					t.Errorf("range %v–%v is empty", args[i], args[i+1])
				}
			}
		})
	}
}

// benchWords are the pieces of the benchmark's customers: names, companies,
// mail domains and remarks of the kinds a partner's directory holds.
var (
	benchGiven    = []string{"Wei", "Mei", "Jun", "Hui", "Kenji", "Yuki", "Min-jun", "Ji-woo", "Arjun", "Priya", "Siti", "Ahmad", "Nguyen", "Linh", "Somchai", "Ananda", "Maria", "José", "Olga", "Chloé"}
	benchFamily   = []string{"Chan", "Wong", "Lee", "Tan", "Lim", "Ng", "Cheung", "Lau", "Tanaka", "Sato", "Kim", "Park", "Sharma", "Rahman", "Tran", "Pham", "Santos", "Müller", "Novak", "Dubois"}
	benchWords    = []string{"Acme", "Blue Harbor", "Golden Lotus", "Red Panda", "Summit", "Jade", "Orchid", "Pacific", "Nova", "Kite", "Lantern", "Harbor View", "Silk Road", "Tiger", "Bamboo"}
	benchKinds    = []string{"Games", "Trading", "Logistics", "Media", "Software", "Health", "Education", "Fintech", "Retail", "Travel"}
	benchForms    = []string{"Ltd", "Pte Ltd", "Co", "Inc", "Sdn Bhd", "GmbH", "LLC"}
	benchDomains  = []string{"gmail.com", "outlook.com", "yahoo.com", "qq.com", "icloud.com", "proton.me"}
	benchRemarks  = []string{"", "", "", "VIP", "gaming vertical", "trial account", "migrated from AWS", "pays by wire", "contact via WhatsApp", "reseller referral", "education discount", "order 4471"}
	benchStatuses = []string{"-1", "0", "3", "3", "3", "3"}
)

// benchCustomer makes the i-th of the benchmark's customers, deterministic.
func benchCustomer(i int, resellers int, month string, fetched time.Time) Customer {
	r := uint64(i)*2654435761 + 12345 // a cheap deterministic scramble
	pick := func(n int) int { r = r*6364136223846793005 + 1442695040888963407; return int((r >> 33) % uint64(n)) }
	c := Customer{Uin: 100000000 + uint64(i)*7 + uint64(pick(7)), FetchedAt: fetched,
		BindTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Minute)}
	if pick(5) < 2 {
		c.Name = benchWords[pick(len(benchWords))] + " " + benchKinds[pick(len(benchKinds))] + " " + benchForms[pick(len(benchForms))]
		c.Email = []string{"billing", "it", "admin", "cloud"}[pick(4)] + "@" + strconv.Itoa(i) + "corp.com"
		c.AuthType = 1
	} else {
		given, family := benchGiven[pick(len(benchGiven))], benchFamily[pick(len(benchFamily))]
		c.Name = given + " " + family
		c.Email = given + "." + family + strconv.Itoa(pick(100)) + "@" + benchDomains[pick(len(benchDomains))]
		c.AuthType = 0
	}
	c.Remark = benchRemarks[pick(len(benchRemarks))]
	c.Phone = strconv.Itoa(80000000 + pick(19999999))
	if pick(5) == 0 {
		c.ResellerUin = 900000000 + uint64(pick(resellers))
		c.AuthType = -1
		return c
	}
	c.Credit = strconv.Itoa(pick(5000)) + "." + strconv.Itoa(10+pick(90))
	c.RemainingCredit = strconv.Itoa(pick(500))
	c.AuthStatus = benchStatuses[pick(len(benchStatuses))]
	c.AccountStatus = "0"
	if pick(30) == 0 {
		c.Force, c.AccountStatus = 2, "2"
	} else if pick(40) == 0 {
		c.AccountStatus = "2"
	}
	c.HasExpense = pick(3) > 0
	if c.HasExpense {
		c.SpendMonth, c.Spend = month, strconv.Itoa(pick(900))+"."+strconv.Itoa(10000000+pick(89999999))
	}
	return c
}

// BenchmarkCustomers measures the customer list's queries over 50,000
// customers (a fifth of them indirect, of 300 second-level resellers):
// each search, filter, sort and deep page a page would ask for, reported
// as server time per query (ms/op). Every one should stay under 100 ms.
//
//	go test -run '^$' -bench Customers ./store/
func BenchmarkCustomers(b *testing.B) {
	const (
		customers = 50000
		resellers = 300
		month     = "2025-03"
	)
	ctx := b.Context()
	db, err := Open(ctx, b.TempDir()+"/portal.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fetched := time.Now()
	for from := 0; from < customers; from += 5000 {
		if err := db.Write(ctx, func(tx *Tx) error {
			for i := from; i < from+5000; i++ {
				if err := tx.UpsertCustomer(ctx, benchCustomer(i, resellers, month, fetched)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	reseller := uint64(900000000 + 17)
	deep := customers - 50
	tests := []struct {
		name string
		q    CustomerQuery
	}{
		{"text=common-name", CustomerQuery{Text: "wei"}},
		{"text=name-and-word", CustomerQuery{Text: "golden games"}},
		{"text=one-letter", CustomerQuery{Text: "a"}},
		{"text=email", CustomerQuery{Text: "gmail.com"}},
		{"text=uin-prefix", CustomerQuery{Text: "1000"}},
		{"text=exact-uin", CustomerQuery{Text: strconv.FormatUint(benchCustomer(5000, resellers, month, fetched).Uin, 10)}},
		{"text=rare,sort=credit", CustomerQuery{Text: "whatsapp", Sort: "credit", Desc: true}},
		{"filter=auth-status", CustomerQuery{AuthStatus: "0"}},
		{"filter=not-auth-status", CustomerQuery{NotAuthStatus: "3"}},
		{"filter=suspended", CustomerQuery{Suspended: ptr(true)}},
		{"filter=not-suspended,sort=name", CustomerQuery{Suspended: ptr(false), Sort: "name"}},
		{"filter=direct", CustomerQuery{ResellerUin: ptr(uint64(0))}},
		{"filter=reseller", CustomerQuery{ResellerUin: &reseller, Sort: "name"}},
		{"filter=spend", CustomerQuery{HasSpendThisMonth: ptr(true), Month: month}},
		{"filter=no-spend", CustomerQuery{HasSpendThisMonth: ptr(false), Month: month}},
		{"sort=name", CustomerQuery{Sort: "name"}},
		{"sort=credit,desc", CustomerQuery{Sort: "credit", Desc: true}},
		{"sort=spend,desc", CustomerQuery{Sort: "spend", Desc: true}},
		{"sort=bind-time,desc", CustomerQuery{Sort: "bind_time", Desc: true}},
		{"deep,sort=uin", CustomerQuery{Offset: deep}},
		{"deep,sort=name", CustomerQuery{Sort: "name", Offset: deep}},
		{"deep,sort=credit,desc", CustomerQuery{Sort: "credit", Desc: true, Offset: deep}},
		{"deep,sort=bind-time,desc", CustomerQuery{Sort: "bind_time", Desc: true, Offset: deep}},
		{"deep,sort=spend", CustomerQuery{Sort: "spend", Offset: deep}},
		{"deep,sort=phone", CustomerQuery{Sort: "phone", Offset: deep}},
		{"deep,filter=direct,sort=name", CustomerQuery{ResellerUin: ptr(uint64(0)), Sort: "name", Offset: 39950}},
		{"deep,filter=not-suspended,sort=credit", CustomerQuery{Suspended: ptr(false), Sort: "credit", Offset: 47000}},
		{"deep,filter=no-spend,sort=name", CustomerQuery{HasSpendThisMonth: ptr(false), Month: month, Sort: "name", Offset: 20000}},
		{"deep,text=one-letter,sort=name", CustomerQuery{Text: "a", Sort: "name", Offset: 30000}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			tt.q.Limit = 50
			var start time.Time
			for b.Loop() {
				if start.IsZero() {
					start = time.Now()
				}
				page, total, err := db.SearchCustomers(ctx, tt.q)
				if err != nil {
					b.Fatal(err)
				}
				if total == 0 || (tt.q.Offset < total && len(page) == 0) {
					b.Fatalf("%d rows of %d", len(page), total)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
