// Package store is the portal's SQLite persistence: users, server-side
// sessions, the append-only audit log, encrypted partner API credentials and
// settings, all in one database file.
//
// Writes are serialised through one connection whose transactions begin
// IMMEDIATE, and reads use a separate query-only pool, so concurrent requests
// queue in Go instead of failing with SQLITE_BUSY.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound reports that the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict reports that a write would violate a uniqueness rule, such as a
// second user with the same username.
var ErrConflict = errors.New("conflict")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configures Open.
type Options struct {
	// Now is the clock for every timestamp the store sets; time.Now when nil.
	Now func() time.Time
}

// DB is the portal database: one writer connection and a read-only pool.
type DB struct {
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
	// identity counts committed changes to users and sessions, so that
	// in-memory copies of them (the session and user caches) know when to
	// read again.
	identity atomic.Uint64
}

// Tx is one write transaction, handed to the function passed to DB.Write.
type Tx struct {
	tx  txConn
	now func() time.Time
	// identity is set by methods that change users or sessions.
	identity bool
	// stmts are the statements prepared in this transaction, by query,
	// for methods called once per row of a batch.
	stmts map[string]*sql.Stmt
}

// txConn is the transaction the store's methods run their statements on.
// In a detached write (DB.WriteDetached) it runs them with their context's
// values but without its cancellation: the function a caller hands to
// WriteDetached captures the caller's context, which a client hanging up
// cancels, and the write must go through all the same.
type txConn struct {
	*sql.Tx
	detached bool
}

// ctx is the context a statement runs with.
func (c txConn) ctx(ctx context.Context) context.Context {
	if c.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// ExecContext runs a statement in the transaction.
func (c txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.Tx.ExecContext(c.ctx(ctx), query, args...)
}

// QueryContext runs a query in the transaction.
func (c txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.Tx.QueryContext(c.ctx(ctx), query, args...)
}

// QueryRowContext runs a query for one row in the transaction.
func (c txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.Tx.QueryRowContext(c.ctx(ctx), query, args...)
}

// txStmt is a statement prepared in a transaction, run as txConn runs them.
type txStmt struct {
	*sql.Stmt
	conn txConn
}

// ExecContext runs the statement.
func (s txStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.Stmt.ExecContext(s.conn.ctx(ctx), args...)
}

// QueryContext runs the statement as a query.
func (s txStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return s.Stmt.QueryContext(s.conn.ctx(ctx), args...)
}

// QueryRowContext runs the statement as a query for one row.
func (s txStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.Stmt.QueryRowContext(s.conn.ctx(ctx), args...)
}

// prepared returns query prepared in the transaction, preparing it once:
// a batch of a thousand rows parses its statement once, not a thousand
// times. The statements close with the transaction.
func (tx *Tx) prepared(ctx context.Context, query string) (txStmt, error) {
	if st, ok := tx.stmts[query]; ok {
		return txStmt{st, tx.tx}, nil
	}
	st, err := tx.tx.Tx.PrepareContext(tx.tx.ctx(ctx), query)
	if err != nil {
		return txStmt{}, err
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return txStmt{st, tx.tx}, nil
}

// Every connection gets its pragmas from the DSN rather than from a one-off
// statement, because database/sql may open a fresh connection at any time and
// a pragma set on one connection does not carry over to the next.
// synchronous=FULL makes a committed audit row survive a power loss in WAL
// mode, which NORMAL does not promise.
const basePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"

// readPoolSize bounds the read pool; SQLite readers in WAL mode do not block
// each other or the writer, so a few per CPU is plenty.
func readPoolSize() int { return max(4, 2*runtime.NumCPU()) }

// dsn builds a file: URI for path. SQLite decodes %XX escapes in URIs, so the
// characters that would end or alter the path are escaped.
func dsn(path string, write bool) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if write {
		return "file:" + escaped + "?" + basePragmas + "&_txlock=immediate"
	}
	return "file:" + escaped + "?" + basePragmas + "&_pragma=query_only(1)"
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations. The directory must already exist.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	// One connection is the single-writer discipline: Write callers queue in
	// database/sql's pool instead of contending for SQLite's write lock.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// Migrate before the read pool exists so that its first connection finds
	// the file already in WAL mode and never needs to write.
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}

	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	n := readPoolSize()
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	return &DB{write: write, read: read, now: now}, nil
}

// migrate applies the embedded migrations with goose.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The global registry is disabled so that Go migrations registered by
	// some other package in the binary can never run against this database.
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Write runs fn in one write transaction (BEGIN IMMEDIATE on the single writer
// connection), committing when fn returns nil and rolling back otherwise.
//
// Writes queue behind each other, so fn must be short: never call the network
// (the partner API, mail) inside it, and never call db.Write or a DB-level
// mutating method from it, which would wait forever for the connection fn holds.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) (err error) {
	return db.writeTx(ctx, false, fn)
}

// writeTx runs fn in a write transaction; detached, its statements ignore the
// cancellation of the contexts they are given.
func (db *DB) writeTx(ctx context.Context, detached bool, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	committed := false
	defer func() {
		// Also covers a panic in fn, so the writer connection is never left
		// holding the lock.
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tx := &Tx{tx: txConn{Tx: sqlTx, detached: detached}, now: db.now}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	committed = true
	if tx.identity {
		db.identity.Add(1)
	}
	return nil
}

// WriteReturning is Write for a transaction that produces a value.
func WriteReturning[T any](ctx context.Context, db *DB, fn func(tx *Tx) (T, error)) (T, error) {
	var out T
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// IdentityVersion changes whenever a committed write has changed a user or
// ended a session in this process: a cached user or session read under an
// older version may be out of date.
func (db *DB) IdentityVersion() uint64 { return db.identity.Load() }

// detachedWriteTimeout bounds a write that goes on after its caller has gone.
const detachedWriteTimeout = 30 * time.Second

// WriteDetached is Write for what must be recorded whatever becomes of the
// request that caused it: the audit row of something that has happened, a
// job item's intent or outcome. A client that hangs up cancels its
// request's context; that cancellation does not reach this write (the
// context's values do), which has its own time limit instead.
func (db *DB) WriteDetached(ctx context.Context, fn func(tx *Tx) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedWriteTimeout)
	defer cancel()
	return db.writeTx(ctx, true, fn)
}

// readTx runs fn in a read transaction on the read pool, so that several
// queries see one consistent snapshot.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a read transaction has nothing to commit
	return fn(tx)
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction. Every stored time is
// UTC in this layout, so text comparison in SQL orders times correctly (the
// variable-width RFC3339Nano would not).
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime renders t for storage.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// formatNullTime stores the zero time as NULL.
func formatNullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

// parseTime reads a stored time.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseNullTime reads a nullable stored time; NULL is the zero time.
func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// stamp is the current time as the store records it.
func (tx *Tx) stamp() time.Time { return tx.now().UTC() }

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// queryer is satisfied by *sql.DB and *sql.Tx, so reads can run on the read
// pool or inside a write transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
