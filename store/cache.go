package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CacheEntry is one cached partner API answer, such as a customer's
// directory record or one month's bill summary of a customer.
type CacheEntry struct {
	Kind      string // what sort of answer, e.g. "customer" or "bill.2025-02"
	Key       string // which one within the kind, e.g. a customer UIN as text
	Value     []byte // JSON
	FetchedAt time.Time
}

// cacheColumns are the read_cache columns scanCacheEntry reads.
const cacheColumns = `kind, key, value, fetched_at`

func scanCacheEntry(row rowScanner) (CacheEntry, error) {
	var (
		e            CacheEntry
		value, fetch string
	)
	if err := row.Scan(&e.Kind, &e.Key, &value, &fetch); err != nil {
		return CacheEntry{}, err
	}
	e.Value = []byte(value)
	var err error
	if e.FetchedAt, err = parseTime(fetch); err != nil {
		return CacheEntry{}, err
	}
	return e, nil
}

// CachePut stores value under (kind, key), replacing any previous entry.
// fetchedAt is when the answer was fetched from the API, which may be earlier
// than now; zero means now by the store's clock. The value must be JSON.
func (tx *Tx) CachePut(ctx context.Context, kind, key string, value []byte, fetchedAt time.Time) error {
	if kind == "" {
		return fmt.Errorf("cache put: empty kind")
	}
	if len(value) == 0 {
		return fmt.Errorf("cache put %s %q: empty value", kind, key)
	}
	if err := checkJSON("value", value); err != nil {
		return fmt.Errorf("cache put %s %q: %w", kind, key, err)
	}
	if fetchedAt.IsZero() {
		fetchedAt = tx.stamp()
	}
	st, err := tx.prepared(ctx, `
		INSERT INTO read_cache (kind, key, value, fetched_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at`)
	if err == nil {
		_, err = st.ExecContext(ctx, kind, key, string(value), formatTime(fetchedAt))
	}
	if err != nil {
		return fmt.Errorf("cache put %s %q: %w", kind, key, err)
	}
	return nil
}

// CacheGet returns the entry under (kind, key), or ErrNotFound.
func (db *DB) CacheGet(ctx context.Context, kind, key string) (CacheEntry, error) {
	e, err := scanCacheEntry(db.read.QueryRowContext(ctx,
		`SELECT `+cacheColumns+` FROM read_cache WHERE kind = ? AND key = ?`, kind, key))
	if err != nil {
		return CacheEntry{}, fmt.Errorf("cache get %s %q: %w", kind, key, notFound(err))
	}
	return e, nil
}

// prefixEnd returns the smallest string greater than every string that
// starts with prefix, in SQLite's byte-wise (BINARY) order, and false when
// there is none (prefix empty or all 0xFF bytes). It lets a key prefix be a
// range on the primary key, where LIKE would fold ASCII case and need escaping.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// CacheInvalidate deletes the entry under (kind, key), or every entry of the
// kind when key is "". Deleting what is not there is not an error.
func (tx *Tx) CacheInvalidate(ctx context.Context, kind, key string) error {
	if kind == "" {
		return fmt.Errorf("cache invalidate: empty kind")
	}
	query, args := `DELETE FROM read_cache WHERE kind = ? AND key = ?`, []any{kind, key}
	if key == "" {
		query, args = `DELETE FROM read_cache WHERE kind = ?`, []any{kind}
	}
	if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("cache invalidate %s %q: %w", kind, key, err)
	}
	return nil
}

// CacheInvalidate deletes cache entries in its own transaction; see
// Tx.CacheInvalidate.
func (db *DB) CacheInvalidate(ctx context.Context, kind, key string) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.CacheInvalidate(ctx, kind, key) })
}

// keyRange renders "the kind's keys that start with keyPrefix" as a SQL
// condition on the primary key and its arguments.
func keyRange(kind, keyPrefix string) (string, []any) {
	where := `kind = ? AND key >= ?`
	args := []any{kind, keyPrefix}
	if end, ok := prefixEnd(keyPrefix); ok {
		where += ` AND key < ?`
		args = append(args, end)
	}
	return where, args
}

// CacheStats returns how many of the kind's entries have a key starting
// with keyPrefix (all when "") and the oldest FetchedAt among them (zero
// when there are none). It is one aggregate over a narrow index, never a
// walk over the entries, so a page can afford it on every poll.
func (db *DB) CacheStats(ctx context.Context, kind, keyPrefix string) (int, time.Time, error) {
	where, args := keyRange(kind, keyPrefix)
	var (
		n      int
		oldest sql.NullString
	)
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(fetched_at) FROM read_cache WHERE `+where, args...).
		Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("cache stats %s %q: %w", kind, keyPrefix, err)
	}
	t, err := parseNullTime(oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("cache stats %s %q: %w", kind, keyPrefix, err)
	}
	return n, t, nil
}

// CacheKeys returns up to limit keys of the kind greater than after ("" for
// the first), in key order: a way to walk a large kind's keys a batch at a
// time without reading their values.
func (db *DB) CacheKeys(ctx context.Context, kind, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("cache keys %s: limit %d must be positive", kind, limit)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT key FROM read_cache WHERE kind = ? AND key > ? ORDER BY key LIMIT ?`,
		kind, after, limit)
	if err != nil {
		return nil, fmt.Errorf("cache keys %s after %q: %w", kind, after, err)
	}
	defer rows.Close()
	keys := make([]string, 0, limit)
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("cache keys %s after %q: %w", kind, after, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache keys %s after %q: %w", kind, after, err)
	}
	return keys, nil
}
