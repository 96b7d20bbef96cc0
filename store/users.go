package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a portal login.
type User struct {
	ID           int64
	Username     string
	DisplayName  string
	Role         string // "admin", "staff", "finance" or "subagent"
	PasswordHash string
	SubagentUin  uint64    // the second-level reseller a subagent acts for; 0 = none
	ExpiresAt    time.Time // zero = never
	Disabled     bool
	Locale       string // "" = from the browser
	TimeZone     string // IANA name; "" = the browser's, else UTC
	// MustChangePassword: the user signed in with a one-time password and
	// must choose their own before anything else.
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PasswordChangedAt  time.Time
}

const userColumns = `id, username, display_name, role, password_hash, subagent_uin, expires_at,
	disabled, locale, time_zone, must_change_password, created_at, updated_at, password_changed_at`

// usernameKey is the case-folded form uniqueness and lookups use.
func usernameKey(username string) string { return strings.ToLower(username) }

func scanUser(row rowScanner) (User, error) {
	var (
		u                          User
		uin                        int64
		expires                    sql.NullString
		created, updated, pwChange string
	)
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.PasswordHash, &uin, &expires,
		&u.Disabled, &u.Locale, &u.TimeZone, &u.MustChangePassword, &created, &updated, &pwChange); err != nil {
		return User{}, err
	}
	u.SubagentUin = uint64(uin)
	var err error
	if u.ExpiresAt, err = parseNullTime(expires); err != nil {
		return User{}, err
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return User{}, err
	}
	if u.UpdatedAt, err = parseTime(updated); err != nil {
		return User{}, err
	}
	if u.PasswordChangedAt, err = parseTime(pwChange); err != nil {
		return User{}, err
	}
	return u, nil
}

// notFound turns sql.ErrNoRows into ErrNotFound and leaves other errors alone.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// CreateUser inserts u (its ID and timestamps are ignored) and returns it as
// stored; ErrConflict when the username is taken, whatever its case.
func (tx *Tx) CreateUser(ctx context.Context, u User) (User, error) {
	if u.Username == "" {
		return User{}, fmt.Errorf("create user: empty username")
	}
	now := formatTime(tx.stamp())
	row := tx.tx.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, display_name, role, password_hash, subagent_uin,
			expires_at, disabled, locale, time_zone, must_change_password, created_at, updated_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING `+userColumns,
		u.Username, usernameKey(u.Username), u.DisplayName, u.Role, u.PasswordHash, int64(u.SubagentUin),
		formatNullTime(u.ExpiresAt), u.Disabled, u.Locale, u.TimeZone, u.MustChangePassword, now, now, now)
	created, err := scanUser(row)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("create user %q: %w", u.Username, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return created, nil
}

func userByID(ctx context.Context, q queryer, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, notFound(err))
	}
	return u, nil
}

// UserByID returns the user with the given id, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return userByID(ctx, db.read, id)
}

// UserByID reads a user inside the write transaction, seeing its own writes.
func (tx *Tx) UserByID(ctx context.Context, id int64) (User, error) {
	return userByID(ctx, tx.tx, id)
}

// UserByUsername returns the user with the given username, compared without
// regard to case, or ErrNotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE username_key = ?`, usernameKey(username)))
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, notFound(err))
	}
	return u, nil
}

// ListUsers returns every user ordered by username.
func (db *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username_key, id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// CountUsers returns how many users exist (zero means first-run setup).
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// UpdateUser changes the display name, role, subagent UIN and expiry of the
// user u.ID and returns the stored user, or ErrNotFound. The username,
// password, disabled flag and the user's own preferences have their own
// methods, so each change is a distinct, auditable act and none overwrites
// another made at the same time.
func (tx *Tx) UpdateUser(ctx context.Context, u User) (User, error) {
	tx.identity = true
	row := tx.tx.QueryRowContext(ctx, `
		UPDATE users SET display_name = ?, role = ?, subagent_uin = ?, expires_at = ?, updated_at = ?
		WHERE id = ?
		RETURNING `+userColumns,
		u.DisplayName, u.Role, int64(u.SubagentUin), formatNullTime(u.ExpiresAt),
		formatTime(tx.stamp()), u.ID)
	updated, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", u.ID, notFound(err))
	}
	return updated, nil
}

// SetLocale sets the user's language ("" follows the browser), or returns
// ErrNotFound; nothing else of the user changes.
func (tx *Tx) SetLocale(ctx context.Context, id int64, locale string) error {
	tx.identity = true
	res, err := tx.tx.ExecContext(ctx, `UPDATE users SET locale = ?, updated_at = ? WHERE id = ?`,
		locale, formatTime(tx.stamp()), id)
	if err != nil {
		return fmt.Errorf("set locale of user %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("set locale of user %d", id))
}

// SetTimeZone sets the user's time zone ("" follows the browser), or
// returns ErrNotFound; nothing else of the user changes.
func (tx *Tx) SetTimeZone(ctx context.Context, id int64, zone string) error {
	tx.identity = true
	res, err := tx.tx.ExecContext(ctx, `UPDATE users SET time_zone = ?, updated_at = ? WHERE id = ?`,
		zone, formatTime(tx.stamp()), id)
	if err != nil {
		return fmt.Errorf("set time zone of user %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("set time zone of user %d", id))
}

// SetPassword replaces the password hash of user id and records when, or
// returns ErrNotFound. oneTime marks a password given by someone else, which
// the user must change at their next sign-in.
func (tx *Tx) SetPassword(ctx context.Context, id int64, hash string, oneTime bool) error {
	tx.identity = true
	now := formatTime(tx.stamp())
	res, err := tx.tx.ExecContext(ctx,
		`UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
		hash, oneTime, now, now, id)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("set password of user %d", id))
}

// SetDisabled disables or re-enables user id, or returns ErrNotFound.
// Disabling also deletes all the user's sessions in the same transaction, so a
// disabled user is logged out everywhere at once.
func (tx *Tx) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	tx.identity = true
	res, err := tx.tx.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`,
		disabled, formatTime(tx.stamp()), id)
	if err != nil {
		return fmt.Errorf("set disabled=%t on user %d: %w", disabled, id, err)
	}
	if err := affectedOne(res, fmt.Sprintf("set disabled=%t on user %d", disabled, id)); err != nil {
		return err
	}
	if disabled {
		if _, err := tx.DeleteUserSessions(ctx, id, ""); err != nil {
			return fmt.Errorf("disable user %d: %w", id, err)
		}
	}
	return nil
}

// affectedOne returns ErrNotFound, wrapped with op, when res touched no row.
func affectedOne(res sql.Result, op string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}
