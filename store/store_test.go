package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// testClock is an injected clock that moves only when told to.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTestDB opens a fresh database file in a temporary directory.
func openTestDB(t *testing.T) (*DB, *testClock, string) {
	t.Helper()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := Open(t.Context(), path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, clock, path
}

// openRaw opens a plain connection to path that bypasses the store, the way
// someone tampering with the file would.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open raw: %v", err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestOpenMigratesAndIsIdempotent(t *testing.T) {
	ctx := t.Context()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "portal.db")

	db, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.SetSetting(ctx, "greeting", "hello") }); err != nil {
		t.Fatalf("SetSetting: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for i := range 2 {
		t.Run(fmt.Sprintf("reopen %d", i+1), func(t *testing.T) {
			db, err := Open(ctx, path, Options{Now: clock.Now})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer db.Close()
			var version int64
			if err := db.read.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil {
				t.Fatalf("read goose version: %v", err)
			}
			entries, err := migrationFiles.ReadDir("migrations")
			if err != nil {
				t.Fatal(err)
			}
			// The version is the last file's number: numbers are handed
			// out to branches ahead, so the files may skip some.
			last, err := strconv.ParseInt(strings.SplitN(entries[len(entries)-1].Name(), "_", 2)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if version != last {
				t.Errorf("schema version = %d, want %d", version, last)
			}
			var applied int
			if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
				t.Fatal(err)
			}
			if applied != len(entries) {
				t.Errorf("%d migration rows, want %d (each applied once)", applied, len(entries))
			}
			if got, err := db.Setting(ctx, "greeting"); err != nil || got != "hello" {
				t.Errorf("Setting after reopen = %q, %v; want hello", got, err)
			}
		})
	}
}

func TestPragmasOnPooledConnections(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()

	// Holding several connections at once forces the read pool to open
	// distinct ones, each configured only by the DSN.
	pools := []struct {
		name      string
		pool      *sql.DB
		conns     int
		queryOnly int
	}{
		{"writer", db.write, 1, 0},
		{"reader", db.read, 3, 1},
	}
	for _, p := range pools {
		t.Run(p.name, func(t *testing.T) {
			var held []*sql.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for i := range p.conns {
				conn, err := p.pool.Conn(ctx)
				if err != nil {
					t.Fatalf("conn %d: %v", i, err)
				}
				held = append(held, conn)
			}
			for i, conn := range held {
				checks := []struct {
					pragma string
					want   string
				}{
					{"journal_mode", "wal"},
					{"synchronous", "2"},
					{"foreign_keys", "1"},
					{"busy_timeout", "10000"},
					{"query_only", fmt.Sprint(p.queryOnly)},
				}
				for _, c := range checks {
					var got string
					if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
						t.Fatalf("conn %d PRAGMA %s: %v", i, c.pragma, err)
					}
					if got != c.want {
						t.Errorf("conn %d PRAGMA %s = %q, want %q", i, c.pragma, got, c.want)
					}
				}
			}
		})
	}

	t.Run("read pool refuses writes", func(t *testing.T) {
		_, err := db.read.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('x', 'y', 'z')`)
		if err == nil {
			t.Fatal("insert through the read pool succeeded")
		}
	})
}

func TestUniqueViolationUsesSQLiteCode(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	if _, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.CreateUser(ctx, User{Username: "dup", Role: "staff"}) }); err != nil {
		t.Fatal(err)
	}
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO users (username, username_key, role, created_at, updated_at, password_changed_at)
			VALUES ('dup', 'dup', 'staff', '', '', '')`)
		return err
	})
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		t.Fatalf("raw duplicate insert error = %v, want SQLITE_CONSTRAINT_UNIQUE", err)
	}
	if !isUniqueViolation(err) {
		t.Error("isUniqueViolation = false")
	}
}

func TestWriteRollsBackAuditWithUserChange(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	boom := errors.New("partner API said no")

	err := db.Write(ctx, func(tx *Tx) error {
		u, err := tx.CreateUser(ctx, User{Username: "carol", Role: "finance"})
		if err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, AuditEntry{Actor: "admin", ActorRole: "admin", Action: "user.create",
			Params: map[string]string{"user": u.Username}, Outcome: OutcomeOK}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write error = %v, want %v", err, boom)
	}
	if _, err := db.UserByUsername(ctx, "carol"); !errors.Is(err, ErrNotFound) {
		t.Errorf("user after rollback: err = %v, want ErrNotFound", err)
	}
	if total, err := db.CountAudit(ctx, AuditFilter{}, 10); err != nil || total != 0 {
		t.Errorf("audit rows after rollback = %d, %v; want 0", total, err)
	}

	// The rolled-back row must leave no hole in the ids or the chain.
	e, err := db.AppendAudit(ctx, AuditEntry{Actor: "admin", Action: "login", Outcome: OutcomeOK})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != 1 || e.PrevHash != genesisHash {
		t.Errorf("first committed row: id %d prev %s, want id 1 and genesis", e.ID, e.PrevHash)
	}
	assertAuditIntact(t, db, 1)

	t.Run("panic rolls back too", func(t *testing.T) {
		func() {
			defer func() { _ = recover() }()
			_ = db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.CreateUser(ctx, User{Username: "dave", Role: "staff"}); err != nil {
					return err
				}
				panic("handler bug")
			})
		}()
		if _, err := db.UserByUsername(ctx, "dave"); !errors.Is(err, ErrNotFound) {
			t.Errorf("user after panic: err = %v, want ErrNotFound", err)
		}
		// The writer connection must be usable again.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetSetting(ctx, "after", "panic") }); err != nil {
			t.Errorf("write after panic: %v", err)
		}
	})
}

func TestConcurrentWritersNeverBusy(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	const workers = 50
	const auditsPerWorker = 3

	var wg sync.WaitGroup
	errs := make(chan error, workers*8)
	for w := range workers {
		wg.Go(func() {
			for i := range auditsPerWorker {
				clock.Advance(time.Millisecond)
				if _, err := db.AppendAudit(ctx, AuditEntry{Actor: fmt.Sprintf("worker%d", w), Action: "tick",
					Params: map[string]string{"i": fmt.Sprint(i)}, Outcome: OutcomeOK}); err != nil {
					errs <- err
				}
			}
			// A user change and its audit row in one transaction.
			err := db.Write(ctx, func(tx *Tx) error {
				u, err := tx.CreateUser(ctx, User{Username: fmt.Sprintf("user%02d", w), Role: "staff"})
				if err != nil {
					return err
				}
				_, err = tx.AppendAudit(ctx, AuditEntry{Actor: "admin", Action: "user.create",
					Params: map[string]string{"id": fmt.Sprint(u.ID)}, Outcome: OutcomeOK})
				return err
			})
			if err != nil {
				errs <- err
			}
			if err := db.Write(ctx, func(tx *Tx) error { return tx.SetSetting(ctx, fmt.Sprintf("k%d", w%5), fmt.Sprint(w)) }); err != nil {
				errs <- err
			}
			// Reads run alongside the writes on the read pool.
			if _, _, err := db.QueryAudit(ctx, AuditFilter{Limit: 5}); err != nil {
				errs <- err
			}
			if _, err := db.CountUsers(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
			t.Errorf("SQLITE_BUSY: %v", err)
		} else {
			t.Errorf("concurrent write: %v", err)
		}
	}
	if n, err := db.CountUsers(ctx); err != nil || n != workers {
		t.Errorf("CountUsers = %d, %v; want %d", n, err, workers)
	}
	assertAuditIntact(t, db, workers*(auditsPerWorker+1))
}

// assertAuditIntact checks that VerifyAudit finds rows intact rows.
func assertAuditIntact(t *testing.T, db *DB, rows int) {
	t.Helper()
	report, err := db.VerifyAudit(t.Context())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	if report.BrokenID != 0 || report.Problem != "" || report.Rows != rows {
		t.Errorf("VerifyAudit = %+v, want %d intact rows", report, rows)
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	if got := dsn("/tmp/a?b#c%d.db", true); !strings.HasPrefix(got, "file:/tmp/a%3fb%23c%25d.db?") {
		t.Errorf("dsn = %q", got)
	}
	path := filepath.Join(t.TempDir(), "odd?name#with%25.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Write(t.Context(), func(tx *Tx) error { return tx.SetSetting(t.Context(), "k", "v") }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the given path: %v", err)
	}
}

// TestWriteDetachedOutlivesItsCaller checks that a detached write goes
// through when the context its function captured is cancelled — a client
// that hung up — statements prepared in it included, while a plain write
// stops.
func TestWriteDetachedOutlivesItsCaller(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.WriteDetached(ctx, func(tx *Tx) error {
		if _, err := tx.AppendAudit(ctx, AuditEntry{Actor: "a", Action: "logout", Outcome: OutcomeOK}); err != nil {
			return err
		}
		return tx.UpsertCustomers(ctx, []Customer{{Uin: 100001, Name: "kept", AuthType: -1}, {Uin: 100002, Name: "also kept", AuthType: -1}})
	})
	if err != nil {
		t.Fatalf("detached write with a cancelled caller: %v", err)
	}
	if rows, _, err := db.QueryAudit(t.Context(), AuditFilter{}); err != nil || len(rows) != 1 {
		t.Errorf("audit rows %v, %v", rows, err)
	}
	if n, _, err := db.CustomerStats(t.Context()); err != nil || n != 2 {
		t.Errorf("%d customers, %v", n, err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("a plain write with a cancelled context: %v", err)
	}
}
