package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCachePutGet(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	fetched := clock.Now().Add(-time.Minute)

	if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, "customer", "1001", []byte(`{"name":"Acme"}`), fetched) }); err != nil {
		t.Fatal(err)
	}
	got, err := db.CacheGet(ctx, "customer", "1001")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "customer" || got.Key != "1001" || string(got.Value) != `{"name":"Acme"}` || !got.FetchedAt.Equal(fetched) {
		t.Errorf("CacheGet = %+v", got)
	}

	t.Run("overwrite", func(t *testing.T) {
		clock.Advance(time.Hour)
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.CachePut(ctx, "customer", "1001", []byte(`{"name":"Acme Ltd"}`), time.Time{})
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.CacheGet(ctx, "customer", "1001")
		if err != nil {
			t.Fatal(err)
		}
		// A zero fetchedAt means now by the store's clock.
		if string(got.Value) != `{"name":"Acme Ltd"}` || !got.FetchedAt.Equal(clock.Now()) {
			t.Errorf("after overwrite = %+v", got)
		}
		if n, _, err := db.CacheStats(ctx, "customer", ""); err != nil || n != 1 {
			t.Errorf("entries after overwrite = %d, %v; want 1", n, err)
		}
	})

	t.Run("missing", func(t *testing.T) {
		for _, k := range [][2]string{{"customer", "9999"}, {"bill", "1001"}} {
			if _, err := db.CacheGet(ctx, k[0], k[1]); !errors.Is(err, ErrNotFound) {
				t.Errorf("CacheGet(%s, %s) err = %v, want ErrNotFound", k[0], k[1], err)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name, kind string
			value      string
		}{
			{"empty kind", "", `{}`},
			{"empty value", "customer", ``},
			{"not JSON", "customer", `{"name":`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, tt.kind, "2002", []byte(tt.value), time.Time{}) }); err == nil {
					t.Error("CachePut succeeded")
				}
			})
		}
	})

	t.Run("in a transaction", func(t *testing.T) {
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.CachePut(ctx, "customer", "3003", []byte(`1`), time.Time{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write err = %v", err)
		}
		if _, err := db.CacheGet(ctx, "customer", "3003"); !errors.Is(err, ErrNotFound) {
			t.Errorf("entry after rollback: err = %v, want ErrNotFound", err)
		}
	})
}

func TestCacheStatsByPrefix(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	// In byte order.
	keys := []string{"100", "1001", "1002", "101", "2001", "A1", "a%_", "a1", "ab", "é1", "\xff\xff"}
	value := func(key string) string { return fmt.Sprintf(`{"key":%q}`, fmt.Sprintf("%x", key)) }
	for _, k := range keys {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, "customer", k, []byte(value(k)), clock.Now()) }); err != nil {
			t.Fatalf("CachePut %q: %v", k, err)
		}
	}
	// Another kind with the same keys must never show up.
	if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, "bill.2025-02", "1001", []byte(`{}`), clock.Now()) }); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		prefix    string
		wantTotal int
	}{
		{"all", "", len(keys)},
		{"prefix", "100", 3},
		{"prefix is a whole key", "1001", 1},
		{"one character", "1", 4},
		{"case matters", "A", 1},
		{"LIKE characters are literal", "a%", 1},
		{"multi-byte", "é", 1},
		{"all 0xFF bytes", "\xff", 1},
		{"none", "3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, oldest, err := db.CacheStats(ctx, "customer", tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.wantTotal || (total > 0) != !oldest.IsZero() {
				t.Errorf("CacheStats(%q) = %d, %v; want %d", tt.prefix, total, oldest, tt.wantTotal)
			}
		})
	}
	got, err := db.CacheKeys(ctx, "customer", "", 100)
	if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", keys) {
		t.Errorf("CacheKeys = %q, %v; want %q in byte order", got, err, keys)
	}
	for _, k := range keys {
		if e, err := db.CacheGet(ctx, "customer", k); err != nil || string(e.Value) != value(k) {
			t.Errorf("CacheGet(%q) = %+v, %v", k, e, err)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix string
		want   string
		wantOK bool
	}{
		{"", "", false},
		{"abc", "abd", true},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			got, ok := prefixEnd(tt.prefix)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("prefixEnd(%q) = %q, %t; want %q, %t", tt.prefix, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCacheInvalidateAndStats(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	base := clock.Now()

	n, oldest, err := db.CacheStats(ctx, "customer", "")
	if err != nil || !oldest.IsZero() || n != 0 {
		t.Fatalf("CacheStats of nothing = %d, %v, %v; want 0, zero", n, oldest, err)
	}

	// Fetched out of order: 1002 is the oldest.
	fetched := map[string]time.Time{"1001": base.Add(-time.Minute), "1002": base.Add(-time.Hour), "1003": base}
	for key, at := range fetched {
		if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, "customer", key, []byte(`{}`), at) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, "bill", "1001", []byte(`{}`), base.Add(-24*time.Hour)) }); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name       string
		invalidate string // key to invalidate in kind "customer"
		wantOldest time.Time
		wantCount  int
	}{
		{"before", "-", fetched["1002"], 3},
		{"missing key is fine", "9999", fetched["1002"], 3},
		{"drop the oldest", "1002", fetched["1001"], 2},
		{"whole kind", "", time.Time{}, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.invalidate != "-" {
				if err := db.CacheInvalidate(ctx, "customer", st.invalidate); err != nil {
					t.Fatal(err)
				}
			}
			n, oldest, err := db.CacheStats(ctx, "customer", "")
			if err != nil || !oldest.Equal(st.wantOldest) || n != st.wantCount {
				t.Errorf("CacheStats = %v, %d, %v; want %v, %d", oldest, n, err, st.wantOldest, st.wantCount)
			}
		})
	}

	// Invalidating one kind leaves the others alone.
	if n, oldest, err := db.CacheStats(ctx, "bill", ""); err != nil || n != 1 || !oldest.Equal(base.Add(-24*time.Hour)) {
		t.Errorf("CacheStats(bill) = %v, %d, %v", oldest, n, err)
	}
	if err := db.CacheInvalidate(ctx, "", ""); err == nil {
		t.Error("CacheInvalidate with an empty kind succeeded")
	}
	err = db.Write(ctx, func(tx *Tx) error { return tx.CacheInvalidate(ctx, "bill", "1001") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CacheGet(ctx, "bill", "1001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CacheGet after Tx.CacheInvalidate: err = %v, want ErrNotFound", err)
	}
}

func TestCacheStatsAndKeys(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	base := clock.Now()
	put := func(kind, key string, at time.Time) {
		t.Helper()
		if err := db.Write(ctx, func(tx *Tx) error { return tx.CachePut(ctx, kind, key, []byte(`{}`), at) }); err != nil {
			t.Fatal(err)
		}
	}
	put("bill.summary", "2025-02/1001", base.Add(-time.Hour))
	put("bill.summary", "2025-02/1002", base.Add(-time.Minute))
	put("bill.summary", "2025-01/1001", base.Add(-48*time.Hour))
	put("bill.summary", "2025-020/x", base.Add(-72*time.Hour)) // shares "2025-02" but not "2025-02/"
	put("customer", "1001", base)
	put("customer", "1002", base.Add(-time.Second))
	put("customer", "1003", base)

	stats := []struct {
		kind, prefix string
		wantN        int
		wantOldest   time.Time
	}{
		{"bill.summary", "2025-02/", 2, base.Add(-time.Hour)},
		{"bill.summary", "2025-01/", 1, base.Add(-48 * time.Hour)},
		{"bill.summary", "2024-12/", 0, time.Time{}},
		{"bill.summary", "", 4, base.Add(-72 * time.Hour)},
		{"customer", "", 3, base.Add(-time.Second)},
		{"nothing", "", 0, time.Time{}},
	}
	for _, tt := range stats {
		t.Run("stats "+tt.kind+" "+tt.prefix, func(t *testing.T) {
			n, oldest, err := db.CacheStats(ctx, tt.kind, tt.prefix)
			if err != nil || n != tt.wantN || !oldest.Equal(tt.wantOldest) {
				t.Errorf("CacheStats = %d, %v, %v; want %d, %v", n, oldest, err, tt.wantN, tt.wantOldest)
			}
		})
	}

	keys := []struct {
		after string
		limit int
		want  string
	}{
		{"", 10, "[1001 1002 1003]"},
		{"", 2, "[1001 1002]"},
		{"1002", 2, "[1003]"},
		{"1003", 2, "[]"},
	}
	for _, tt := range keys {
		t.Run(fmt.Sprint("keys after ", tt.after, " limit ", tt.limit), func(t *testing.T) {
			got, err := db.CacheKeys(ctx, "customer", tt.after, tt.limit)
			if err != nil || fmt.Sprint(got) != tt.want {
				t.Errorf("CacheKeys = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := db.CacheKeys(ctx, "customer", "", 0); err == nil {
		t.Error("CacheKeys with no limit succeeded")
	}
}

// TestCacheStatsUsesTheNarrowIndex checks that counting a key range reads
// the covering index, not the table and its JSON values.
func TestCacheStatsUsesTheNarrowIndex(t *testing.T) {
	db, _, _ := openTestDB(t)
	rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN
		SELECT count(*), min(fetched_at) FROM read_cache WHERE kind = ? AND key >= ? AND key < ?`, "bill.summary", "2025-02/", "2025-020")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "COVERING INDEX read_cache_key_fetched") {
		t.Errorf("plan = %q, want a search of the covering index read_cache_key_fetched", plan)
	}
}
